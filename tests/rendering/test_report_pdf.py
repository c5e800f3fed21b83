"""The report PDF read back with poppler: statements, headings in the report's language, æøå,
embedded fonts, a table of contents whose page numbers match the bookmarks, and page images
for a person to look at (test-artifacts/report-*.png)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from cohort import db, services
from cohort.app import create_app
from cohort.core.reporting import (
    AreaFigure,
    CohortFacts,
    Learning,
    PrePostFigure,
    ReportFacts,
    Share,
    build_report,
)
from cohort.models import CohortRole, CohortStaff
from cohort.rendering.report import (
    page_counter_css,
    render_report_html,
    render_report_pdf,
    report_html,
)
from tests.fixtures.html_tables import tables
from tests.fixtures.paths import ARTIFACTS, PROGRAMMES
from tests.fixtures.pdf import flat, fonts, outline, page_count, pages_text, toc_entries
from tests.fixtures.report import (
    PEOPLE,
    REPORT_NOW,
    STATEMENTS,
    fill_generated,
    fill_known_cohort,
)
from tests.fixtures.web import sign_in

HEADINGS = {
    "da": ["Indhold", "Sammenfatning", "Deltagernes tilbagemeldinger", "Om forløbet",
           "Reaktion (niveau 1)", "Læring (niveau 2)", "Adfærd (niveau 3)",
           "Resultater og citater (niveau 4)", "Metode", "Hvad der ikke vises, og hvorfor"],
    "nb": ["Innhold", "Sammendrag", "Deltakernes tilbakemeldinger", "Om programmet",
           "Reaksjon (nivå 1)", "Læring (nivå 2)", "Atferd (nivå 3)",
           "Resultater og sitater (nivå 4)", "Metode", "Hva som ikke vises, og hvorfor"],
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
    assert "— Vejle Kommune" in text and "— en deltager" in text  # one quote unattributed
    assert "3 andre organisationer" in text and "2 andre roller" in text


# The headline's note, a chapter statement with its interval, the method. (The known cohort's
# paired change and its interval are hidden by the publication rule: 4 answers are unpaired.)
INTERVALS = {
    "da": ["95 %-konfidensinterval: 47–76 %", "25 af 40 (63 %; 47–76 %) anvendte nye",
           "1 af 8 (13 %; 2–47 %) opbyggede", "Usikkerhed",
           "Wilsons", "Welch–Satterthwaite"],
    "nb": ["95 % konfidensintervall: 47–76 %", "25 af 40 (63 %; 47–76 %) anvendte nye",
           "Usikkerhet", "Welch–Satterthwaite"],
    "en": ["95% confidence interval: 47–76%", "25 af 40 (63 %; 47–76 %) anvendte nye",
           "Uncertainty", "Welch–Satterthwaite", "Wilson",
           "did not answer"],
}


@pytest.mark.parametrize("language", ["da", "nb", "en"])
def test_pdf_shows_the_intervals_beside_the_figures(pdfs, language):
    path, _ = pdfs[language]
    pages = pages_text(path)
    text = flat("\n".join(pages))
    for expected in INTERVALS[language]:
        assert expected in text
    summary = next(flat(p) for p in pages[2:] if STATEMENTS["new-tools"] in flat(p))
    assert STATEMENTS["new-tools"] in summary  # the headline keeps its familiar form


def test_few_pairs_are_called_wide_and_unpaired_changes_labelled(report_app):
    """Fewer than 10 pairs: the table marks the interval and a note says why it is wide.
    Anonymous pre/post: Welch's interval, its degrees of freedom, labelled unpaired."""
    facts = ReportFacts(CohortFacts(1, "Hold 1", "digital-lederskab", "Kompetencer", "da",
                                    "Europe/Copenhagen", date(2025, 4, 8)),
                        (), (), (), (), (), None, (), (), 0, 0, 5)
    area = AreaFigure("a", "Område A", 6, 6, 6, "2,0", "3,0", 2.0, 3.0, "+1,0", "+1,0",
                      None, None, interval_kind="paired", interval="+0,2 til +1,8",
                      low_value=0.2, high_value=1.8, improved=Share(5, 6, 83, "83 %"),
                      effect_size="1,1", effect_size_value=1.1, few_pairs=True)
    figure = PrePostFigure("competences", "Spørgsmål", "Før", "Efter", 6, 6, True,
                           ("1", "2", "3", "4", "5"), (area,))
    report = replace(build_report(facts, "da", REPORT_NOW), learning=Learning((figure,), ()))
    with report_app.app_context():
        html = flat(report_html(report, drawn={"pre_post": {"competences": None},
                                               "blocks": {}}))
    assert "+0,2 til +1,8 *" in html and "5 af 6" in html and "1,1" in html
    assert "Færre end 10 par: intervallet er bredt." in html
    assert [t.first for t in tables(html) if t.caption] == ["caption"] * 2  # pre-post, interval

    unpaired = replace(area, paired_n=0, paired_change=None, interval_kind="unpaired",
                       improved=None, effect_size=None, effect_size_value=None,
                       few_pairs=False, df="9,7", interval="\u22120,1 til +2,1")
    report = replace(report, learning=Learning((replace(figure, paired=False,
                                                        areas=(unpaired,)),), ()))
    with report_app.app_context():
        html = flat(report_html(report, drawn={"pre_post": {"competences": None},
                                               "blocks": {}}))
    assert "\u22120,1 til +2,1" in html and "9,7" in html and "6 / 6" in html
    assert "Uparret: svarene er anonyme" in html and "Færre end 10 par" not in html
    assert [t.first for t in tables(html) if t.caption] == ["caption"] * 2


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
        "Adfærd (niveau 3)", "Resultater og citater (niveau 4)", "Metode"]
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
        # Random identified self-assessments: paired intervals with spread. The page with
        # the table of changes, as an image for a person to look at.
        assert "95 % konfidensintervall:" in text and "Forbedret" in text
        page = next(i for i, p in enumerate(pages_text(path), 1) if "95 % KI" in p)
        ARTIFACTS.mkdir(exist_ok=True)
        image = ARTIFACTS / "report-nb-uncertainty"
        subprocess.run(["pdftoppm", "-r", "80", "-f", str(page), "-l", str(page), "-png",
                        "-singlefile", str(path), str(image)], check=True, timeout=60)
        assert image.with_suffix(".png").stat().st_size > 5000
    else:
        assert "Sammenfatning" in text


def test_pdf_all_meetings_column_hides_when_a_small_meeting_could_be_subtracted(pdfs):
    """Attack 1 in the PDF: workshop 1 (3 answers) is hidden; the "all meetings" column over
    21 answers minus the kick-off (10) and webinar 1 (8), both shown here and on the
    evaluator's pages, would be workshop 1's answers. So the "all" column is hidden."""
    path, _ = pdfs["da"]
    reaction = next(flat(page) for page in pages_text(path)
                    if "Mødets indhold var relevant" in page and "Alle" in page)
    row = reaction.split("Mødets indhold var relevant for mit", 1)[1]  # the row wraps
    assert row.split()[:6] == ["90", "%", "–", "75", "%", "–"]  # kick-off, ws 1, web 1, all
    assert "86 %" not in reaction  # 18 of 21 before
    text = flat("\n".join(pages_text(path)))
    assert "Én offentliggørelsesregel afgør alle tal" in text
    assert "ikke vist for alle møder samlet" in text


def test_the_attendance_figures_reconcile_with_the_evaluators_export(report_app, pdfs):
    """The method chapter points the evaluator to the attendance per meeting on the
    evaluation overview (the per-person export is the facilitators'): an evaluator downloads
    it, its counts are the report's, and a meeting the report hides (workshop 1, recorded
    for 4 people) shows only how many were recorded, as the report's "not shown" table."""
    first, _second = report_app.config["TEST_COHORTS"]
    engine = report_app.extensions["cohort.engine"]
    text = flat("\n".join(pages_text(pdfs["da"][0])))
    assert "Fremmøde pr. møde: eksporten af fremmøde pr. møde på evalueringsoversigten" in text
    assert "siden om fremmøde" not in text
    with db.transaction(engine) as session:
        evaluator = services.accounts.create_user(session, "eva@cohort.example", "evaluator",
                                                  "a long enough password")
        session.add(CohortStaff(cohort_id=first, user_id=evaluator.id,
                                role=CohortRole.EVALUATOR))
        report = services.cohort_report(session, first, "da", now=REPORT_NOW)
    client = report_app.test_client()
    sign_in(client, evaluator)
    assert client.get(f"/cohorts/{first}/attendance.csv").status_code == 403
    response = client.get(f"/cohorts/{first}/attendance-per-meeting.csv")
    assert response.status_code == 200 and "attachment" in response.headers[
        "Content-Disposition"]
    body = response.get_data(as_text=True)
    assert "@" not in body and PEOPLE[0].name not in body
    rows = {r["meeting"]: r for r in csv.DictReader(io.StringIO(body.lstrip("\ufeff")),
                                                     delimiter=";")}
    published = {m.key: m for m in report.about.attendance.meetings}
    assert set(rows) == set(published) == {"kickoff", "workshop-1"}
    kickoff = rows["kickoff"]
    assert (kickoff["participants"], kickoff["recorded"], kickoff["present"]) == (
        "40", "40", "30")
    assert int(kickoff["absent"]) + int(kickoff["excused"]) == 10
    assert published["kickoff"].share.text == "75 %" and kickoff["attendance"] == "0.75"
    hidden = rows["workshop-1"]
    assert published["workshop-1"].share is None and hidden["recorded"] == "4"
    assert [hidden[c] for c in ("present", "absent", "excused", "attendance")] == [""] * 4
