"""The before/after change on the evaluator's page and in the report: one rule for when a
change is shown (`survey_results.shown_change`), and a mark where a change computed from
unrounded answers is not the difference of the rounded means beside it."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import delete, select

from cohort import db, services
from cohort.models import CohortRole, CohortStaff, IdentifiedResponse
from tests.fixtures.database_copies import load_demo_copy
from tests.fixtures.web import WEB_NOW, staff_client

_client = partial(staff_client, language="en", csrf=False)
POST = "self-assessment-post"


@pytest.fixture
def demo_id(engine_of_app, database_copies) -> int:
    """The `make run` demo's finished cohort: 29 answered the self-assessment before, 26 of
    them after too."""
    return load_demo_copy(database_copies, engine_of_app, today=WEB_NOW.date()).finished


@pytest.fixture
def evaluator(demo_id, staff, engine_of_app):
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=demo_id, user_id=staff.evaluator.id,
                                role=CohortRole.EVALUATOR))
    return staff.evaluator


def _cells(html: str, table_class: str) -> dict[str, list[str]]:
    """Per body row of the first table of `table_class`: its cells' text, by the row's
    first cell (the area)."""
    table = html.split(f'<table class="{table_class}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip()
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def _number(text: str) -> Decimal | None:
    found = re.match(r"[+\u2212]?\d+\.\d", text)
    return None if found is None else Decimal(found.group().replace("\u2212", "-"))


def _page_and_report(web_app, demo_id, evaluator):
    client = _client(web_app, evaluator)
    page = client.get(f"/cohorts/{demo_id}/evaluation/surveys/{POST}")
    report = client.get(f"/cohorts/{demo_id}/report", query_string={"language": "en"})
    assert page.status_code == report.status_code == 200
    return page.get_data(as_text=True), report.get_data(as_text=True)


def test_page_and_report_show_the_same_change_where_the_per_person_one_is_hidden(
        web_app, demo_id, evaluator, engine_of_app):
    """The 3 who answered only before hide the change per person (publication rule 4). The
    report showed '–'; the page showed the difference of the means in a column of its own
    ('+0.7'). Now both follow `shown_change`: no change for that row on either."""
    with db.transaction(engine_of_app) as session:
        (change,) = services.self_assessment_change(session, demo_id, POST)
    assert {(a.paired_n, a.paired_change) for a in change.areas} == {(26, None)}
    page, report = _page_and_report(web_app, demo_id, evaluator)
    page_rows, report_rows = _cells(page, "change"), _cells(report, "pre-post")
    assert page_rows.keys() == report_rows.keys() and len(page_rows) == len(change.areas)
    for area, cells in page_rows.items():
        # before, after, and one change: no difference of the means beside it
        assert [c for c in cells[2:] if _number(c) is not None] == [], (area, cells)
        assert cells[2:] == ["hidden"], (area, cells)
        assert report_rows[area][2].startswith("–"), area
    assert "“hidden”: fewer than 5 answers." in page  # what "hidden" means, where it shows


def test_a_change_off_the_rounded_means_is_marked_on_the_page_and_in_the_report(
        web_app, demo_id, evaluator, engine_of_app):
    """With the 3 who answered only before removed, every change per person is shown, from
    unrounded answers. Where it is not the difference of the rounded means beside it
    (3.2 -> 3.4 with +0.3), page and report mark it and say why; elsewhere no mark."""
    with db.transaction(engine_of_app) as session:
        survey_ids = {s.template_key: s.id for s in services.list_surveys(session, demo_id)}
        after = set(session.scalars(select(IdentifiedResponse.participant_id).where(
            IdentifiedResponse.survey_id == survey_ids[POST])))
        session.execute(delete(IdentifiedResponse).where(
            IdentifiedResponse.survey_id == survey_ids["self-assessment-pre"],
            IdentifiedResponse.participant_id.not_in(after)))
    page, report = _page_and_report(web_app, demo_id, evaluator)
    marked = 0
    for html, table in ((page, "change"), (report, "pre-post")):
        for area, cells in _cells(html, table).items():
            before, after_mean, shown = (_number(c) for c in cells[:3])
            assert None not in (before, after_mean, shown), (area, cells)
            off = after_mean - before != shown
            assert ("†" in cells[2]) == off, (area, cells)
            marked += off
    assert marked >= 2  # the demo has such rows; each is marked on the page and the report
    # Nothing is hidden in the table, so the page does not explain "hidden" under it.
    assert "“hidden”: fewer than" not in page
    note = ("† The change is the mean of each participant’s own change, computed from the "
            "unrounded answers of those who answered both times")
    assert note in page and note in report
