"""Late and moved cohorts tell the truth in the browser: the reschedule preview warns of
deadlines it puts in the past or on a weekend, the overview keeps the holidays ahead, and a
cohort created late says which emails it will skip (also on the launch page)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from cohort import db, services
from cohort.models import Cohort
from tests.fixtures.web import COHORT_START, PEOPLE, WEB_NOW, staff_client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _warnings(html: str) -> list[tuple[str, str, str]]:
    return [(code, key, text.strip()) for code, key, text in re.findall(
        r'<li class="flash warning" data-code="(\w+)" data-key="([^"]+)">⚠ ([^<]+)', html)]


def _preview(client, cohort_id, meeting, day, clock="13:00") -> str:
    url = f"/cohorts/{cohort_id}/meetings/{meeting}/reschedule"
    token = _csrf(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "day": day, "clock": clock,
                                      "preview": "1"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_moving_a_meeting_to_a_monday_warns_of_deadlines_on_the_weekend(web_app, staff,
                                                                         cohort_id):
    client = staff_client(web_app, staff.owner, language="en")
    html = _preview(client, cohort_id, "webinar-2", "2025-06-16")
    found = _warnings(html)
    assert found and {code for code, _, _ in found} == {"weekend"}
    texts = {key: text for _, key, text in found}
    assert texts["questions@webinar-1"].startswith(
        "Task “Saml spørgsmål og refleksioner til næste møde”, due Sun, 15 Jun 2025 ")
    assert all(text.endswith(": a weekend day.") for _, _, text in found)
    # The meeting's usual day warns of nothing.
    assert _warnings(_preview(client, cohort_id, "webinar-2", "2025-06-12")) == []


def test_moving_the_kickoff_into_the_past_warns_in_danish(web_app, staff, cohort_id):
    client = staff_client(web_app, staff.owner, language="da")
    html = _preview(client, cohort_id, "kickoff", "2025-03-05")
    found = _warnings(html)
    assert {code for code, _, _ in found} == {"past"}
    texts = {key: text for _, key, text in found}
    assert texts["kickoff"].startswith("Møde »Kick-off-webinar«, starter ")
    assert texts["kickoff"].endswith(": datoen er passeret.")
    assert "choose-case" in texts and "Dates to check" not in html
    assert "Datoer, du bør se på" in html


def test_the_overview_keeps_showing_the_holidays_ahead(web_app, staff, cohort_id):
    client = staff_client(web_app, staff.owner, language="da")
    html = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    found = _warnings(html)
    assert [(code, key) for code, key, _ in found] == [
        ("holiday", "workshop-1"), ("holiday", "buddy-exchange@webinar-1")]
    assert found[0][2].endswith(": en helligdag (Skærtorsdag).")
    assert found[1][2].endswith(": en helligdag (Anden pinsedag).")
    assert f'href="/cohorts/{cohort_id}/meetings/workshop-1/reschedule"' in html
    # Once a holiday is behind the cohort, it is no longer a warning.
    web_app.config["COHORT_NOW"] = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    later = _warnings(client.get(f"/cohorts/{cohort_id}").get_data(as_text=True))
    assert [key for _, key, _ in later] == ["buddy-exchange@webinar-1"]


def test_creating_a_late_cohort_says_what_every_participant_will_miss(web_app, staff):
    """Created on 10 March for a start on 4 March: the pre-course survey and the kickoff's
    emails are too late; the launch page names them too."""
    client = staff_client(web_app, staff.owner, language="en")
    form = {"programme": "digital-lederskab", "title": "Hold sent", "start": "2025-03-04",
            "timezone": "Europe/Copenhagen", "language": "da"}
    page = client.get("/cohorts/new").get_data(as_text=True)
    preview = client.post("/cohorts/new", data={**form, "csrf_token": _csrf(page),
                                                "preview": "1"}).get_data(as_text=True)
    rows = dict(re.findall(r'name="(meetings-\d+-\w+)" type="(?:hidden|date|time|text)" '
                           r'value="([^"]*)"', preview))
    created = client.post("/cohorts/new", data={
        **form, **rows, "csrf_token": _csrf(preview), "planned_programme": "digital-lederskab",
        "create": "1"}, follow_redirects=True)
    html = created.get_data(as_text=True)
    assert created.status_code == 200
    late = re.search(r'<p class="flash warning">(The cohort starts late: [^<]+)</p>', html)
    assert late, html
    assert late.group(1) == (
        # (13 past under the mail policy, which sends the kick-off's reflection question
        # early with other mail: it is the first to be past; and 3 later reminders of
        # emails among them, never sent: never remind of something never told about.)
        "The cohort starts late: 16 emails will be skipped for every participant, because "
        "they are already past or remind of one that is: Reflection question: "
        "Kick-off-webinar; Survey invitation: Selvvurdering før forløbet; Survey reminder: "
        "Selvvurdering før forløbet; Facilitator digest: Kick-off-webinar; Survey invitation: "
        "Evaluering af mødet and 8 more.")
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        cohort = session.scalars(select(Cohort).where(Cohort.title == "Hold sent")).one()
        services.add_participants(session, cohort, PEOPLE, now=WEB_NOW)
        cohort_id = cohort.id
    launch = client.get(f"/cohorts/{cohort_id}/launch").get_data(as_text=True)
    table = launch.split('id="launch-skipped-items"', 1)[1].split("</table>", 1)[0]
    anchors = re.findall(r'data-anchor="([^"]+)"', table)
    assert "survey:self-assessment-pre" in anchors and "meeting:kickoff" in anchors
    pre = table.split('data-anchor="survey:self-assessment-pre"', 1)[1].split("</tr>", 1)[0]
    assert "Selvvurdering før forløbet" in pre and f'"figure">{len(PEOPLE)}<' in pre


def test_a_cohort_created_in_time_has_no_late_warning(web_app, staff, make_cohort):
    client = staff_client(web_app, staff.owner, language="en")
    draft = make_cohort(web_app.extensions["cohort.engine"], people=PEOPLE,
                        start=COHORT_START, now=WEB_NOW, created_by=staff.owner,
                        launched=False).id
    launch = client.get(f"/cohorts/{draft}/launch").get_data(as_text=True)
    assert "Nothing is overdue." in launch and 'id="launch-skipped-items"' not in launch
