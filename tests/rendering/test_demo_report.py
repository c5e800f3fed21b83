"""The demo's finished cohort, as `make run` shows it: its report's Behaviour chapter (the share
of buddy pairs who met per round with n and interval, and the follow-up beside the final
survey) on the web page and in the PDF read back, every figure recounted here from the stored
rows and scipy; and the PDF's layout: no page but the last left mostly empty."""

from __future__ import annotations

import math
import subprocess
from collections import defaultdict
from datetime import UTC, datetime

import pytest
import scipy.stats
from sqlalchemy import select

from cohort import db
from cohort.app import create_app
from cohort.demo import load_demo
from cohort.models import AnonymousResponse, BuddyCheckIn, Group, GroupMember, Survey, Task
from cohort.rendering.report import render_report_html, render_report_pdf
from tests.fixtures.paths import ARTIFACTS, PROGRAMMES
from tests.fixtures.pdf import empty_below, flat, pages_text

pytestmark = pytest.mark.slow  # renders two PDFs

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
# The most of a page's content box that may stay blank below its last line, on any page but
# the last. A chart with its caption (the tallest block that must not break, about a third
# of the box) pushed to the next page leaves about that much; 70 % blank is a page holding
# little more than an orphaned chart or a line.
MOST_EMPTY = 0.70


def _wilson(part: int, whole: int) -> str:
    ci = scipy.stats.binomtest(part, whole).proportion_ci(0.95, method="wilson")
    return f"{math.floor(ci.low * 100 + 0.5)}–{math.floor(ci.high * 100 + 0.5)} %"


def _percent(part: int, whole: int) -> str:
    return f"{math.floor(part * 100 / whole + 0.5)} %"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-report")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
                      "SECRET_KEY": "test", "PROGRAMMES_DIR": str(PROGRAMMES),
                      "SERVER_NAME": "cohort.test"})
    engine = app.extensions["cohort.engine"]
    db.create_schema(engine)
    finished = load_demo(engine, PROGRAMMES, now=NOW).finished
    pdfs = {}
    with app.app_context():
        for name, words in (("evaluator", True), ("facilitator", False)):
            pdfs[name] = folder / f"demo-report-{name}.pdf"
            pdfs[name].write_bytes(render_report_pdf(engine, finished, "da", None, now=NOW,
                                                     words=words).pdf)
    with app.test_request_context():
        web = flat(render_report_html(engine, finished, "da", None, now=NOW))
    yield dict(app=app, engine=engine, cohort=finished, pdfs=pdfs, web=web, folder=folder)
    engine.dispose()


def _rounds(session, cohort_id: int) -> list[tuple[str, int, int]]:
    """Recounted from the rows: per buddy round, (meeting key, pairs met, pairs answered). A
    pair met when one of its members says so; a pair without any answer is left out."""
    members = defaultdict(set)
    for group_id, participant_id in session.execute(
            select(GroupMember.group_id, GroupMember.participant_id).join(
                Group, Group.id == GroupMember.group_id)
            .where(Group.cohort_id == cohort_id, Group.grouping_key == "buddies")):
        members[group_id].add(participant_id)
    found = []
    for task in session.scalars(select(Task).where(
            Task.cohort_id == cohort_id, Task.kind == "buddy_exchange")
            .order_by(Task.release_at)):
        answers = dict(session.execute(select(BuddyCheckIn.participant_id, BuddyCheckIn.answer)
                                       .where(BuddyCheckIn.task_id == task.id)).all())
        given = [{answers[p] for p in pair if p in answers} for pair in members.values()
                 if len(pair) >= 2]
        given = [g for g in given if g]
        found.append((task.meeting_key, sum("met" in g for g in given), len(given)))
    return found


def _behaviour(pdf) -> str:
    """The Behaviour chapter's text (after the table of contents, up to the next chapter)."""
    text = flat(" ".join(pages_text(pdf)[2:]))
    start = text.index("Adfærd (niveau 3) Om deltagerne bruger")
    return text[start:text.index("Resultater og citater (niveau 4) Hvad", start)]


def test_the_behaviour_chapter_shows_each_buddy_round_with_n_and_interval(demo):
    with db.transaction(demo["engine"]) as session:
        rounds = _rounds(session, demo["cohort"])
    assert len(rounds) == 5
    pdf = _behaviour(demo["pdfs"]["evaluator"])
    for text in (pdf, demo["web"]):
        assert "Mødtes buddyerne?" in text and "Par, der mødtes" in text
        for _key, met, answered in rounds:
            assert answered >= 5  # every round shown (the minimum group size is 5)
            for cell in (_percent(met, answered), f"{met} af {answered}",
                         _wilson(met, answered)):
                assert cell in text, cell
    # The page with the buddy rounds, as an image for a person to look at.
    pdf_path = demo["pdfs"]["evaluator"]
    page = 1 + next(i for i, text in enumerate(pages_text(pdf_path))
                    if "Mødtes buddyerne?" in text and "...." not in text)
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("demo-report-behaviour-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "80", "-f", str(page), "-l", str(page), "-png",
                    str(pdf_path), str(ARTIFACTS / "demo-report-behaviour")], check=True,
                   timeout=60)
    assert list(ARTIFACTS.glob("demo-report-behaviour-*.png"))


def test_the_behaviour_chapter_shows_the_follow_up_beside_the_final_survey(demo):
    with db.transaction(demo["engine"]) as session:
        shares = {}
        for key in ("final", "follow-up"):
            survey = session.scalars(select(Survey).where(
                Survey.cohort_id == demo["cohort"], Survey.key == key)).one()
            values = [a["new-tools"] for a in session.scalars(select(
                AnonymousResponse.answers).where(AnonymousResponse.survey_id == survey.id))
                if "new-tools" in a]
            shares[key] = (sum(v >= 4 for v in values), len(values))
    agree, n = shares["follow-up"]
    assert 5 <= n < 32
    pdf = _behaviour(demo["pdfs"]["evaluator"])
    # The web page has the statement whole; the PDF's narrow column wraps it, so its cells.
    assert (f"{agree} af {n} ({_percent(agree, n)}) bruger stadig værktøjer og metoder"
            in demo["web"])
    for text in (pdf, demo["web"]):
        assert "Opfølgning tre måneder efter forløbet" in text
        for cell in (f"{agree} af {n}", _percent(agree, n), _wilson(agree, n)):
            assert cell in text, cell
        assert _wilson(*shares["final"]) in text  # the final survey's share beside it
        assert "Foreligger ikke endnu" not in text


@pytest.mark.parametrize("who", ["evaluator", "facilitator"])
def test_no_page_but_the_last_is_mostly_empty(demo, who):
    pdf = demo["pdfs"][who]
    blank = empty_below(pdf, demo["folder"] / f"pages-{who}")
    assert len(blank) == len(pages_text(pdf)) >= 10
    assert blank[0] < 0.05 and max(blank) > 0.05  # the title page is full; the last is not
    report = ", ".join(f"page {i}: {share:.0%}" for i, share in enumerate(blank, 1))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"demo-report-{who}.pdf").write_bytes(pdf.read_bytes())
    mostly_empty = [i for i, share in enumerate(blank[:-1], 1) if share > MOST_EMPTY]
    assert not mostly_empty, report
