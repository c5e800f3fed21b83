"""The Behaviour chapter's new evidence in the PDF, read back with poppler: the follow-up
survey three months after the last meeting (beside the final survey, or plainly "not
available yet"), and the share of buddy pairs who met in each round, with n and its
interval; in da, nb and en. A page image and the PDF are kept in test-artifacts/ for a person
to look at (report-behaviour-*.png, report-behaviour-da.pdf)."""

from __future__ import annotations

import csv
import io
import math
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import scipy.stats
from sqlalchemy import select

from cohort import db, services
from cohort.app import create_app
from cohort.models import Group, GroupMember, Participant, Survey, Task
from cohort.rendering.report import render_report_pdf
from tests.fixtures.paths import ARTIFACTS, PROGRAMMES
from tests.fixtures.pdf import flat, pages_text
from tests.fixtures.report import PEOPLE, REPORT_NOW, _anonymous, fill_known_cohort

# After the follow-up (last meeting 2 Oct 2025 + 13 weeks, open 14 days) has closed.
LATER = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
# The follow-up: 20 answers; 15 still use new tools (75 %), 12 passed something on (60 %).
FOLLOW_UP = ([{"new-tools": 4, "passed-on": 5, "network": 4}] * 12
             + [{"new-tools": 4, "passed-on": 2, "network": 2}] * 3
             + [{"new-tools": 2, "passed-on": 1, "network": 2}] * 5)
BEHAVIOUR = {"da": ("Adfærd (niveau 3)", "Mødtes buddyerne?", "Par, der mødtes"),
             "nb": ("Atferd (nivå 3)", "Møttes buddyene?", "Par som møttes"),
             "en": ("Behaviour (level 3)", "Did the buddies meet?", "Pairs who met")}
FEWER = {"da": "færre end 5 par svarede", "nb": "færre enn 5 par svarte",
         "en": "fewer than 5 pairs answered"}
NOT_YET = {"da": "Foreligger ikke endnu: opfølgningsspørgeskemaet er ikke åbnet.",
           "nb": "Foreligger ikke ennå: oppfølgingsskjemaet er ikke åpnet.",
           "en": "Not available yet: this follow-up survey has not opened."}


def _wilson(part: int, whole: int) -> str:
    ci = scipy.stats.binomtest(part, whole).proportion_ci(0.95, method="wilson")
    return f"{math.floor(ci.low * 100 + 0.5)}\u2013{math.floor(ci.high * 100 + 0.5)}"


@pytest.fixture(scope="module")
def behaviour(tmp_path_factory, make_cohort):
    """The known cohort with follow-up answers and buddy check-ins in the first two rounds:
    round 1 every pair answered and all but three met; round 2 only three pairs answered
    (fewer than k = 5: hidden)."""
    folder = tmp_path_factory.mktemp("behaviour")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
                      "SECRET_KEY": "test", "PROGRAMMES_DIR": str(PROGRAMMES)})
    engine = app.extensions["cohort.engine"]
    db.create_schema(engine)
    cohort_id = make_cohort(engine, people=PEOPLE, title="Hold 1").id
    fill_known_cohort(engine, cohort_id)
    with db.transaction(engine) as session:
        survey = session.scalars(select(Survey).where(
            Survey.cohort_id == cohort_id, Survey.key == "follow-up")).one()
        people = list(session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id).order_by(Participant.email)))
        _anonymous(session, survey, people[:20], FOLLOW_UP)
        first, second = session.scalars(select(Task).where(
            Task.cohort_id == cohort_id, Task.kind == "buddy_exchange")
            .order_by(Task.release_at)).all()[:2]
        groups = session.scalars(select(Group).where(Group.cohort_id == cohort_id,
                                                     Group.grouping_key == "buddies")).all()
        pairs = [list(session.scalars(select(Participant).join(
            GroupMember, GroupMember.participant_id == Participant.id)
            .where(GroupMember.group_id == g.id).order_by(Participant.id))) for g in groups]
        for i, members in enumerate(pairs):
            services.record_check_in(session, members[0], first.id,
                                     "not_yet" if i < 3 else "met",
                                     first.release_at + timedelta(days=3))
            if i < 3:
                services.record_check_in(session, members[0], second.id, "met",
                                         second.release_at + timedelta(days=3))
    # A second cohort, nothing answered yet: its report is made before the follow-up opens.
    app.config["BEHAVIOUR"] = (cohort_id, len(pairs),
                               make_cohort(engine, people=PEOPLE, title="Hold 2").id)
    yield app
    engine.dispose()


@pytest.fixture(scope="module")
def pdfs(behaviour, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdfs")
    cohort_id, _pairs, fresh = behaviour.config["BEHAVIOUR"]
    engine = behaviour.extensions["cohort.engine"]
    found = {}
    with behaviour.app_context():
        for name, cohort, language, now in (
                ("da", cohort_id, "da", LATER), ("nb", cohort_id, "nb", LATER),
                ("en", cohort_id, "en", LATER), ("before", fresh, "da", REPORT_NOW)):
            rendered = render_report_pdf(engine, cohort, language, None, now=now)
            assert rendered.refused == ()
            found[name] = folder / f"report-{name}.pdf"
            found[name].write_bytes(rendered.pdf)
    return found


def _behaviour_page(path: Path, heading: str) -> tuple[int, str]:
    """The page on which the buddy table starts (1-based), and the chapter's text."""
    pages = pages_text(path)
    index = next(i for i, page in enumerate(pages) if heading in flat(page)
                 and "Indhold" not in page and "Contents" not in page and "Innhold" not in page)
    return index + 1, flat(" ".join(pages[index - 1:index + 2]))


@pytest.mark.parametrize("language", ["da", "nb", "en"])
def test_buddy_rounds_and_the_follow_up_in_the_pdf(behaviour, pdfs, language):
    _cohort_id, pairs, _fresh = behaviour.config["BEHAVIOUR"]
    chapter, heading, column = BEHAVIOUR[language]
    _page, text = _behaviour_page(pdfs[language], heading)
    assert column in text
    met = pairs - 3
    sign = "" if language == "en" else " "
    of = {"da": "af", "nb": "av", "en": "of"}[language]
    share = math.floor(met / pairs * 100 + 0.5)
    # Round 1: met of the pairs that answered, n, the Wilson interval (as scipy has it), and
    # every pair answered. (The table's columns are read back interleaved, so cell by cell.)
    for cell in (f"{share}{sign}%", f"{met} {of} {pairs}", f"{_wilson(met, pairs)}{sign}%",
                 f"{pairs} {of} {pairs}"):
        assert cell in text
    # Round 2: three pairs answered, fewer than k: no share, and the table says why.
    assert f"3 {of} {pairs}" in text and FEWER[language] in text
    whole = flat("\n".join(pages_text(pdfs[language])))
    assert chapter in whole
    # The follow-up beside the final survey: 15 of 20 still use new tools (75 %).
    # (The statement is in the programme's language, Danish, in every report language.)
    assert "15 af 20 (75 %) bruger" in whole
    assert f"15 {of} 20" in whole and f"{_wilson(15, 20)}{sign}%" in whole


def test_before_the_follow_up_the_report_says_it_is_not_available_yet(pdfs):
    text = flat("\n".join(pages_text(pdfs["before"])))
    assert NOT_YET["da"] in text
    assert "bruger stadig værktøjer og metoder" not in text
    assert "Mødtes buddyerne?" in text  # the rounds so far: no answers, so no share
    assert "Par, der mødtes" in text
    # The method chapter names the export behind each chapter, the buddy figures' too.
    assert "Eksporterne bag hvert kapitel" in text
    assert "Mødtes buddyerne: eksporten af buddy-svar på evalueringsoversigten" in text
    assert "eksporten af besvarelser på evalueringsoversigten" in text


def test_behaviour_page_as_an_image_for_a_person_to_look_at(pdfs):
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("report-behaviour-*.png"):
        old.unlink()
    page, _text = _behaviour_page(pdfs["da"], BEHAVIOUR["da"][1])
    (ARTIFACTS / "report-behaviour-da.pdf").write_bytes(pdfs["da"].read_bytes())
    subprocess.run(["pdftoppm", "-r", "80", "-f", str(page - 1), "-l", str(page), "-png",
                    str(pdfs["da"]), str(ARTIFACTS / "report-behaviour-da")], check=True,
                   timeout=60)
    images = sorted(ARTIFACTS.glob("report-behaviour-da-*.png"))
    assert len(images) == 2 and all(image.stat().st_size > 5000 for image in images)


def test_the_buddy_figures_reconcile_with_their_export(behaviour):
    """Each round's figure in the report equals a recount of the export's rows (one per pair
    and round), the file the groups page and the evaluation overview offer."""
    cohort_id, pairs, _fresh = behaviour.config["BEHAVIOUR"]
    engine = behaviour.extensions["cohort.engine"]
    client = behaviour.test_client()
    with db.transaction(engine) as session:
        admin = services.accounts.create_user(session, "admin@cohort.example", "admin",
                                              "a long enough password")
        report = services.cohort_report(session, cohort_id, "da", now=LATER)
    from tests.fixtures.web import sign_in

    sign_in(client, admin)
    behaviour.config["COHORT_NOW"] = LATER
    response = client.get(f"/cohorts/{cohort_id}/groups/check-ins.csv")
    assert response.status_code == 200 and "attachment" in response.headers[
        "Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))
    assert "Søren" not in response.get_data(as_text=True)  # no names in the export
    for figure in report.behaviour.buddy_rounds:
        mine = [r for r in rows if r["round"] == figure.key]
        answered = [r for r in mine if r["status"] != "no_answer"]
        met = [r for r in answered if r["status"] == "met"]
        assert (figure.pairs, figure.answered) == (len(mine), len(answered)) == (
            pairs, figure.answered)
        if len(answered) >= 5:
            assert (figure.met.part, figure.met.whole) == (len(met), len(answered))
            assert figure.met.interval == f"{_wilson(len(met), len(answered))} %"
        else:
            assert figure.met is None
