"""A survey nobody could answer yet, or one still open, says so on the evaluator's pages and
in the report, instead of "fewer than 5 answered" (false for both); the small-group wording
stays for surveys with too few answers."""

from __future__ import annotations

import re
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from cohort import db, services
from cohort.models import CohortRole, CohortStaff
from tests.fixtures.database_copies import load_demo_copy
from tests.fixtures.web import WEB_NOW, staff_client

_client = partial(staff_client, language="en", csrf=False)
FEWER = re.compile(r"[Ff]ewer than 5 (answered|answers)")


def _text(response) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#34;", '"')


@pytest.fixture
def running(engine_of_app, database_copies) -> int:
    """The `make run` demo's running cohort: its first meetings held and evaluated, the last
    evaluation still open, the final survey and the self-assessment after not yet open."""
    return load_demo_copy(database_copies, engine_of_app, today=WEB_NOW.date()).running


@pytest.fixture
def evaluator(running, staff, engine_of_app):
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=running, user_id=staff.evaluator.id,
                                role=CohortRole.EVALUATOR))
    return staff.evaluator


def _after_cells(html: str) -> list[str]:
    """The 'After' cell of each row of the page's before/after table."""
    table = html.split('<table class="change"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ",
                                       re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)[1])).strip()
            for r in rows]


def test_surveys_not_yet_open_say_so_on_the_page_and_in_the_report(web_app, running,
                                                                   evaluator, engine_of_app):
    """The final survey and the self-assessment after have not opened: the report said
    'Fewer than 5 answered this question' under the final survey's questions and '(fewer
    than 5 answers: not shown)' beside its statements; the page called the 'after' side
    of the self-assessment 'hidden: fewer than 5 answers'."""
    with db.transaction(engine_of_app) as session:
        zone = ZoneInfo(services.get_cohort(session, running).timezone)
        opens = {key: services.get_survey(session, running, key).opens_at.astimezone(zone)
                 for key in ("final", "self-assessment-post")}
    final_on, post_on = (f"{d.day} {d:%B %Y}" for d in opens.values())
    final_medium, post_medium = (f"{d.day} {d:%b %Y}" for d in opens.values())
    client = _client(web_app, evaluator)
    report = _text(client.get(f"/cohorts/{running}/report", query_string={"language": "en"}))
    assert "Fewer than 5 answered this question" not in report
    assert "fewer than 5 answers: not shown" not in report
    assert f"The final evaluation has no figures yet: it opens on {final_on}." in report
    assert f"Not available yet: “Afsluttende evaluering af forløbet” opens on {final_on}." \
        in report
    assert f"After: opens on {post_on}" in report
    # The notice at the top says what is preliminary, not that figures exist.
    assert "figures from it are preliminary" not in report
    assert (f"Preliminary report: “Afsluttende evaluering af forløbet” opens on {final_on}, "
            "and its figures are added once it has closed.") in report
    page = client.get(f"/cohorts/{running}/evaluation/surveys/self-assessment-post")
    html = page.get_data(as_text=True)
    assert set(_after_cells(html)) == {"not open yet"}
    assert (f"“Selvvurdering efter forløbet” opens on {post_medium}; nobody could answer it "
            "yet.") in _text(page)
    final = _text(client.get(f"/cohorts/{running}/evaluation/surveys/final"))
    assert f"This survey has not opened yet: it opens on {final_medium}." in final


def test_a_survey_still_open_is_not_called_too_small(web_app, running, evaluator,
                                                     engine_of_app):
    """While webinar 1's evaluation is open (26 answers), the report's method said the
    figures for all meetings hid 'a meeting with fewer than 5 answers', and the page for all
    meetings said the same; it is the open one they wait for."""
    with db.transaction(engine_of_app) as session:
        survey = services.get_survey(session, running, "meeting-evaluation@webinar-1")
        moment = survey.opens_at + (survey.closes_at - survey.opens_at) / 2
    web_app.config["COHORT_NOW"] = moment
    client = _client(web_app, evaluator)
    report = _text(client.get(f"/cohorts/{running}/report", query_string={"language": "en"}))
    method = report.split("What is not shown, and why", 2)[-1]
    assert "a meeting with fewer than 5 answers could be worked out" not in method
    assert ("not shown for all meetings together before every meeting’s evaluation has "
            "closed") in method
    assert re.search(r"Webinar 1 still open: its figures are shown once it has closed, "
                     r"however many have answered \d+", method)
    assert "open until" in report.split("Reaction (level 1)", 2)[-1]
    together = _text(client.get(
        f"/cohorts/{running}/evaluation/templates/meeting-evaluation"))
    assert "a survey with fewer than 5 answers could be worked out" not in together
    assert "Hidden until all of these surveys have closed" in together
