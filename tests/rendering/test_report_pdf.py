"""The report PDF read back with poppler: statements, headings in the report's language, æøå,
embedded fonts, a table of contents whose page numbers match the bookmarks, and page images
for a person to look at (test-artifacts/report-*.png)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cohort import db
from cohort.app import create_app
from cohort.rendering.report import page_counter_css, render_report_html, render_report_pdf
from tests.fixtures.paths import ARTIFACTS, PROGRAMMES
from tests.fixtures.pdf import flat, fonts, outline, page_count, pages_text, toc_entries
from tests.fixtures.report import (
    PEOPLE,
    REPORT_NOW,
    STATEMENTS,
    fill_generated,
    fill_known_cohort,
)

HEADINGS = {
    "da": ["Indhold", "Sammenfatning", "Deltagernes tilbagemeldinger", "Om forløbet",
           "Reaktion (niveau 1)", "Læring (niveau 2)", "Adfærd (niveau 3)",
           "Resultater og stemmer (niveau 4)", "Metode", "Hvad der ikke vises, og hvorfor"],
    "nb": ["Innhold", "Sammendrag", "Deltakernes tilbakemeldinger", "Om programmet",
           "Reaksjon (nivå 1)", "Læring (nivå 2)", "Atferd (nivå 3)",
           "Resultater og stemmer (nivå 4)", "Metode", "Hva som ikke vises, og hvorfor"],
    "en": ["Contents", "Summary", "What the participants report", "About the programme",
           "Reaction (level 1)", "Learning (level 2)", "Behaviour (level 3)",
           "Results and voices (level 4)", "Method", "What is not shown, and why"],
}
FOOTER = {"da": "Side 3 af {n}", "nb": "Side 3 av {n}", "en": "Page 3 of {n}"}


@pytest.fixture(scope="module")
def report_app(tmp_path_factory, make_cohort):
    folder = tmp_path_factory.mktemp("report")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
                      "SECRET_KEY": "test", "PROGRAMMES_DIR": str(PROGRAMMES)})
    engine = app.extensions["cohort.engine"]
    db.create_schema(engine)
    first = make_cohort(engine, people=PEOPLE, title="Hold 1").id
    fill_known_cohort(engine, first)
    second = make_cohort(engine, people=PEOPLE, title="Hold 2").id
    app.config["TEST_COHORTS"] = (first, second)
    yield app
    engine.dispose()


@pytest.fixture(scope="module")
def pdfs(report_app, tmp_path_factory) -> dict[str, tuple[Path, int]]:
    """The known cohort's report in the three languages, and the two cohorts compared."""
    folder = tmp_path_factory.mktemp("pdfs")
    first, second = report_app.config["TEST_COHORTS"]
    engine = report_app.extensions["cohort.engine"]
    found = {}
    with report_app.app_context():
        for name, language, compare in (("da", None, None), ("nb", "nb", None),
                                         ("en", "en", None), ("compare", None, second)):
            rendered = render_report_pdf(engine, first, language, compare, now=REPORT_NOW)
            path = folder / f"report-{name}.pdf"
            path.write_bytes(rendered.pdf)
            assert rendered.refused == ()  # the report itself asks for nothing forbidden
            found[name] = (path, rendered.pages)
    return found


@pytest.mark.parametrize("language", ["da", "nb", "en"])
def test_pdf_has_the_statements_and_headings_in_its_language(pdfs, language):
    path, pages = pdfs[language]
    text = flat("\n".join(pages_text(path)))
    for statement in STATEMENTS.values():  # the programme's own (Danish) report phrases
        assert statement in text
    for heading in HEADINGS[language]:
        assert heading in text
    for other in HEADINGS:
        if other != language:
            assert HEADINGS[other][4] not in text  # e.g. no "Reaction (level 1)" in Danish
    assert FOOTER[language].format(n=pages) in text
    assert all(letter in text for letter in "æøå")
    assert "Ærø" not in text and PEOPLE[0].email not in text  # never a participant's name


def test_pdf_figures_are_rounded_half_up_and_small_groups_hidden(pdfs):
    path, _ = pdfs["da"]
    text = flat("\n".join(pages_text(path)))
    assert "1 af 8 (13 %) opbyggede værdifulde netværk" in text
    assert "Forløbet har fået mig til at formidle viden" in text  # listed ...
    assert "formidlede viden, erfaringer og værktøjer i egen organisation" not in text  # no %
    assert "Jeg inddrager nu medarbejderne tidligere i afprøvningen (3)." in text
    assert "Mere tid til casearbejde." not in text  # 3 answers: free text not shown
    assert "Tiden er det store problem, vi skal have ro til at øve os." in text
    assert "Vejle Kommune, buddygruppe 2" in text
    assert "3 andre organisationer" in text and "2 andre roller" in text


def test_pdf_embeds_its_fonts(pdfs):
    for path, _ in pdfs.values():
        found = fonts(path)
        assert found and all(f.embedded for f in found)
        assert {"DejaVu-Serif", "DejaVu-Sans"} <= {f.name.split("+")[-1] for f in found}


def test_page_count_is_sane_and_matches_the_file(pdfs):
    for name, (path, pages) in pdfs.items():
        assert page_count(path) == pages
        assert (4 if name == "compare" else 8) <= pages <= 30


def test_contents_page_numbers_match_the_bookmarks_and_the_pages(pdfs):
    path, _ = pdfs["da"]
    pages = pages_text(path)
    toc = toc_entries(pages[1])
    bookmarks = outline(path)
    assert [title for title, _ in toc] == [title for title, _, _ in bookmarks]
    assert [page for _, page in toc] == [page for _, page, _ in bookmarks]
    chapters = [(title, page) for title, page, depth in bookmarks if depth == 1]
    assert [title for title, _ in chapters] == [
        "Sammenfatning", "Om forløbet", "Reaktion (niveau 1)", "Læring (niveau 2)",
        "Adfærd (niveau 3)", "Resultater og stemmer (niveau 4)", "Metode"]
    for title, page in chapters:
        assert title in pages[page - 1]
    assert [p for _, p in chapters] == sorted(p for _, p in chapters)


def test_comparison_sets_two_cohorts_side_by_side(pdfs):
    path, _ = pdfs["compare"]
    text = flat("\n".join(pages_text(path)))
    assert "SAMMENLIGNING AF TO HOLD" in text and "Hold 1 · Hold 2" in text
    # New tools: 63 % (25 of 40) in cohort 1; cohort 2 has no answers yet: a dash.
    assert re.search(r"anvendt nye værktøjer.{0,200}?63 % – .{0,120}?25/40", text)
    assert [t for t, _, d in outline(path) if d == 1][0] == "De to hold"


def test_first_pages_as_images_for_a_person_to_look_at(pdfs):
    ARTIFACTS.mkdir(exist_ok=True)
    for name in ("da", "compare"):
        path, _ = pdfs[name]
        prefix = ARTIFACTS / f"report-{name}"
        for old in ARTIFACTS.glob(f"report-{name}-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "4", "-png", str(path),
                        str(prefix)], check=True, timeout=60)
        images = sorted(ARTIFACTS.glob(f"report-{name}-*.png"))
        assert len(images) == 4
        assert all(image.stat().st_size > 5000 for image in images)


def test_web_view_shows_the_same_figures_in_the_site_layout(report_app):
    first, second = report_app.config["TEST_COHORTS"]
    engine = report_app.extensions["cohort.engine"]
    with report_app.test_request_context("/"):
        html = render_report_html(engine, first, now=REPORT_NOW,
                                  extra={"pdf_url": "/reports/x.pdf"})
    for statement in STATEMENTS.values():
        assert statement in html
    assert 'href="/static/report.css"' in html and 'href="/reports/x.pdf"' in html
    assert "Hent PDF" in html and "<header" in html  # the site's own layout
    assert "data:image/svg+xml;base64," in html  # the same charts
    with report_app.test_request_context("/"):
        compared = render_report_html(engine, first, compare=second, now=REPORT_NOW)
    assert "Sammenligning af to hold" in compared and "Hold 2" in compared


def test_page_counter_css_quotes_the_translated_words():
    assert page_counter_css("Side {page} af {pages}") == (
        '"Side " counter(page) " af " counter(pages)')
    assert page_counter_css('Seite "{page}"') == '"Seite \\"" counter(page) "\\""'
    with pytest.raises(ValueError, match="unknown counter"):
        page_counter_css("Page {chapter}")


@pytest.mark.parametrize("programme_id", ["digital-helsekompetanse", "ledelse-i-digitalisering"])
def test_every_shipped_programme_makes_a_report(report_app, make_cohort, programme_id, tmp_path):
    """The other programmes (Norwegian; modules and project teams; a follow-up survey)."""
    engine = report_app.extensions["cohort.engine"]
    cohort_id = make_cohort(engine, people=PEOPLE, programme=programme_id, title=programme_id).id
    fill_generated(engine, cohort_id)
    with report_app.app_context():
        rendered = render_report_pdf(engine, cohort_id, now=REPORT_NOW)
    path = tmp_path / "report.pdf"
    path.write_bytes(rendered.pdf)
    text = flat("\n".join(pages_text(path)))
    assert rendered.refused == () and 8 <= rendered.pages <= 30
    assert "Et svar med æ, ø og å." in text
    if programme_id == "digital-helsekompetanse":
        assert "Sammendrag" in text and "Oppfølging tre måneder etter" in text
    else:
        assert "Sammenfatning" in text
