"""`cohort calendar`, `cohort reschedule` and `cohort calendar-link` as a facilitator uses them."""

from __future__ import annotations

import re
from datetime import datetime, time

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import ActivityEntry, CohortRole, CohortStaff, Meeting
from tests.fixtures.cohorts import CREATED
from tests.fixtures.ics import parse_both, unfold
from tests.fixtures.web import sign_in

ANNE = ParticipantRow("Anne Ærø", "anne@vejle.example", "Vejle", "leder", "da")


@pytest.fixture
def cohort_id(app, make_cohort) -> int:
    return make_cohort(app.extensions["cohort.engine"], people=[ANNE], now=None).id


def run(runner, *args):
    return runner.invoke(args=["cohort", *map(str, args)])


def webinar_1(ics: bytes):
    return next(e for e in parse_both(ics) if e.summary.endswith("Webinar 1"))


def test_calendar_to_stdout_and_file(runner, cohort_id, tmp_path):
    result = run(runner, "calendar", cohort_id)
    assert result.exit_code == 0
    events = parse_both(result.stdout_bytes)
    assert len(events) == 7 and {e.local_start("Europe/Copenhagen").time()
                                 for e in events} == {time(13), time(9)}
    target = tmp_path / "anne.ics"
    result = run(runner, "calendar", cohort_id, "--participant", "anne@vejle.example",
                 "-o", target)
    assert result.exit_code == 0 and f"Wrote {target}" in result.output
    events = parse_both(target.read_bytes())
    assert len(events) > 7 and any(e.summary.startswith("Frist") for e in events)


@pytest.mark.parametrize("args, message", [
    (["calendar", "999"], "Error: no cohort 999"),
    (["calendar", "{id}", "--participant", "x@y.example"], "has no participant 'x@y.example'"),
    (["calendar", "{id}", "-o", "/nonexistent/dir/x.ics"], "Error: cannot write"),
    (["reschedule", "{id}", "webinar-1", "--to", "22/5 14:00"], "form \"YYYY-MM-DD HH:MM\""),
    (["reschedule", "{id}", "webinar-1", "--to", "2025-02-30 14:00"], "YYYY-MM-DD HH:MM"),
    (["reschedule", "{id}", "webinar-9", "--to", "2025-05-22 14:00"],
     "has no meeting 'webinar-9'"),
    (["reschedule", "{id}", "webinar-1", "--to", "2026-03-29 02:30"],
     "2026-03-29 02:30 does not exist in Europe/Copenhagen"),
    (["calendar-link", "{id}", "x@y.example"], "has no participant"),
])
def test_bad_input_is_a_clear_error(runner, cohort_id, args, message):
    result = run(runner, *[a.format(id=cohort_id) for a in args])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_reschedule_moves_the_meeting_and_bumps_sequence(runner, cohort_id):
    before = webinar_1(run(runner, "calendar", cohort_id).stdout_bytes)
    result = run(runner, "reschedule", cohort_id, "webinar-1", "--to", "2025-05-22 14:00")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Moved webinar-1 to Thu 22 May 2025 14:00 (Europe/Copenhagen); "
                             "calendar SEQUENCE is now 1.\n")
    after = webinar_1(run(runner, "calendar", cohort_id).stdout_bytes)
    assert after.uid == before.uid and after.sequence == before.sequence + 1
    assert after.local_start("Europe/Copenhagen") == datetime(2025, 5, 22, 14, 0)
    again = run(runner, "reschedule", cohort_id, "webinar-1", "--to", "2025-12-25 13:00")
    assert "calendar SEQUENCE is now 2." in again.stdout
    # The command line warns as the web's preview does (core.date_warnings): seen from today,
    # Christmas Day 2025 has passed (a holiday still ahead is warned of: test_date_warnings).
    assert "Warning: meeting webinar-1 starts 2025-12-25 13:00: already past" in again.output
    winter = webinar_1(run(runner, "calendar", cohort_id).stdout_bytes)
    assert winter.local_start("Europe/Copenhagen") == datetime(2025, 12, 25, 13, 0)
    assert "DTSTART;TZID=Europe/Copenhagen:20251225T130000" in unfold(
        run(runner, "calendar", cohort_id).stdout_bytes)


def test_a_cancelled_meeting_cannot_be_moved(app, runner, cohort_id):
    with db.transaction(app.extensions["cohort.engine"]) as session:
        services.meetings.cancel_meeting(session, cohort_id, "webinar-1", None,
                                         now=CREATED)
    result = run(runner, "reschedule", cohort_id, "webinar-1", "--to", "2025-05-22 14:00")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Error: meeting 'webinar-1' is cancelled; restore it before moving it" in result.output


def test_reschedule_is_logged_like_a_move_on_the_web(app, runner, client, make_user, make_cohort):
    """One use case, one entry point: the command line writes the activity-log entry the web
    writes (same action, summary and details); only who did it differs."""
    engine = app.extensions["cohort.engine"]
    on_web, on_cli = (make_cohort(engine, people=[ANNE], now=None).id for _ in range(2))
    owner = make_user("owner@cohort.example", "facilitator")
    with db.transaction(engine) as session:
        for cohort in (on_web, on_cli):
            session.add(CohortStaff(cohort_id=cohort, user_id=owner.id, role=CohortRole.OWNER))
        meeting = session.scalars(select(Meeting).where(
            Meeting.cohort_id == on_web, Meeting.key == "webinar-2")).one()
        place = {"location": meeting.location or "", "online_url": meeting.online_url or ""}
    app.config["WTF_CSRF_ENABLED"] = False
    sign_in(client, owner)
    url = f"/cohorts/{on_web}/meetings/webinar-2/reschedule"
    change = {"day": "2025-06-19", "clock": "13:00", **place}
    preview = client.post(url, data={**change, "preview": "1"}).get_data(as_text=True)
    previewed = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview)[1]
    assert client.post(url, data={**change, "previewed": previewed,
                                  "confirm": "1"}).status_code == 302
    result = run(runner, "reschedule", on_cli, "webinar-2", "--to", "2025-06-19 13:00")
    assert result.exit_code == 0, result.output

    with db.transaction(engine) as session:
        web, cli = (session.scalars(select(ActivityEntry).where(
            ActivityEntry.cohort_id == cohort,
            ActivityEntry.action != "cohort_created")).one() for cohort in (on_web, on_cli))
        assert (cli.action, cli.details) == (web.action, web.details)
        assert web.action == "meeting_rescheduled" and web.details["meeting"] == "webinar-2"
        assert (web.actor, web.actor_id) == ("owner@cohort.example", owner.id)
        assert (cli.actor, cli.actor_id) == ("system", None)

    def summary(cohort: int) -> tuple[str, str]:
        page = client.get(f"/cohorts/{cohort}/activity", headers={"Accept-Language": "en"})
        rows = re.findall(r"</time></td><td>([^<]*)</td><td>([^<]*)</td></tr>",
                          page.get_data(as_text=True))
        moved = [row for row in rows if row[1].startswith("moved ")]
        assert len(moved) == 1, rows
        return moved[0]

    assert summary(on_web)[0] == "owner@cohort.example" and summary(on_cli)[0] == "system"
    assert summary(on_cli)[1] == summary(on_web)[1]
    assert summary(on_web)[1].startswith("moved Webinar 2 from Thu, 12 Jun 2025 13:00")


def test_calendar_link_renew_and_revoke(runner, client, cohort_id):
    link = run(runner, "calendar-link", cohort_id, "anne@vejle.example",
               "--base-url", "https://cohort.example/")
    assert link.exit_code == 0
    url = link.stdout.strip()
    assert url.startswith("webcal://cohort.example/calendar/") and url.endswith(".ics")
    path = url.removeprefix("webcal://cohort.example")
    client.application.config["COHORT_NOW"] = CREATED  # a feed answers while its cohort runs
    assert client.get(path).status_code == 200
    assert run(runner, "calendar-link", cohort_id, "anne@vejle.example",
               "--base-url", "https://cohort.example").stdout.strip() == url
    renewed = run(runner, "calendar-link", cohort_id, "anne@vejle.example", "--renew",
                  "--base-url", "https://cohort.example").stdout.strip()
    assert renewed != url and client.get(path).status_code == 404
    revoked = run(runner, "calendar-link", cohort_id, "anne@vejle.example", "--revoke")
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert client.get(renewed.removeprefix("webcal://cohort.example")).status_code == 404
    shown = run(runner, "calendar-link", cohort_id, "anne@vejle.example")
    assert shown.exit_code == 1 and "use --renew" in shown.output
