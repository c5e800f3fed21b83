"""Reschedule, cancel and restore in the browser: preview first, then confirm; all logged."""

from __future__ import annotations

import re
from functools import partial

from sqlalchemy import select

from cohort import db, services
from cohort.core.attendance import PRESENT, Mark
from cohort.models import Delivery, Meeting, Participant, Task
from tests.fixtures.web import staff_client

_client = partial(staff_client, csrf=False)


def _task(web_app, cohort_id, key) -> Task:
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        return session.scalars(select(Task).where(Task.cohort_id == cohort_id,
                                                  Task.key == key)).one()


def test_reschedule_preview_then_confirm(web_app, staff, cohort_id):
    client = _client(web_app, staff.owner)
    url = f"/cohorts/{cohort_id}/meetings/webinar-2/reschedule"
    form = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'value="2025-06-12"' in form and 'value="13:00"' in form
    before = _task(web_app, cohort_id, "case-work@webinar-2")
    change = {"day": "2025-06-19", "clock": "13:00", "location": "", "online_url": ""}
    preview = client.post(url, data={**change, "preview": "1"}, headers={"Accept-Language": "en"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "What moves" in html
    assert 'data-key="case-work@webinar-2"' in html and 'data-key="questions@webinar-1"' in html
    assert "No email already sent is affected." in html
    # Its emails are named by their items, not by raw keys (task:case-work@webinar-1).
    assert ('<tr data-anchor="task:case-work@webinar-1"><td>Task reminder <span class="muted">'
            'Arbejd med din case i praksis</span></td>') in html
    assert ('<tr data-anchor="prompt:leading-question@webinar-2"><td>Reflection question '
            '<span class="muted">Webinar 2</span></td>') in html
    assert ">task:" not in html and ">prompt:" not in html
    previewed = re.search(r'name="previewed" type="hidden" value="(\w+)"', html)[1]
    # Nothing has changed yet.
    assert _task(web_app, cohort_id, "case-work@webinar-2").release_at == before.release_at
    # Confirming different values than were previewed shows a new preview instead.
    other = client.post(url, data={**change, "day": "2025-06-26", "previewed": previewed,
                                   "confirm": "1"})
    assert other.status_code == 200
    assert _task(web_app, cohort_id, "case-work@webinar-2").release_at == before.release_at
    done = client.post(url, data={**change, "previewed": previewed, "confirm": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("#meeting-webinar-2")
    after = _task(web_app, cohort_id, "case-work@webinar-2")
    assert (after.release_at - before.release_at).days == 7
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        meeting = session.scalars(select(Meeting).where(
            Meeting.cohort_id == cohort_id, Meeting.key == "webinar-2")).one()
        assert meeting.sequence == 1
        assert meeting.starts_at.isoformat() == "2025-06-19T11:00:00+00:00"
    log = client.get(f"/cohorts/{cohort_id}/activity", headers={"Accept-Language": "en"})
    assert re.search(r"owner@cohort.example</td><td>moved Webinar 2 from Thu, 12 Jun 2025 "
                     r"13:00 to Thu, 19 Jun 2025 13:00", log.get_data(as_text=True))


def test_preview_shows_sent_emails_and_warnings(web_app, staff, cohort_id):
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        for row in session.scalars(select(Delivery).where(
                Delivery.cohort_id == cohort_id, Delivery.anchor == "meeting:webinar-2",
                Delivery.kind == "meeting_invitation")):
            row.state = "sent"
    client = _client(web_app, staff.owner)
    url = f"/cohorts/{cohort_id}/meetings/webinar-2/reschedule"
    # 29 May 2025 is Ascension Day, a public holiday in Denmark.
    html = client.post(url, data={"day": "2025-05-29", "clock": "13:00", "preview": "1"}
                       ).get_data(as_text=True)
    assert "3 allerede sendte mails er berørt:" in html
    assert ('<li data-anchor="meeting:webinar-2">Mødeinvitation <span class="muted">Webinar 2'
            '</span>: 3 modtagere</li>') in html
    assert re.search(r'data-code="holiday" data-key="webinar-2">⚠ Møde »Webinar 2«, starter '
                     r'[^<]*29\. maj 2025[^<]*: en helligdag \(Kristi himmelfartsdag\)\.', html)
    bad = client.post(url, data={"day": "not a day", "clock": "", "preview": "1"})
    assert bad.status_code == 400 and "Ikke en gyldig dato." in bad.get_data(as_text=True)


def test_a_meeting_held_offers_no_change_and_the_page_says_why(web_app, staff, cohort_id):
    """Cancelling a held meeting deleted its evaluation survey and the answers: with
    attendance recorded the plan offers neither cancelling nor moving it, and the page says
    why instead of a form. A meeting whose time passed with nothing recorded (it did not take
    place) can still be cancelled."""
    engine = web_app.extensions["cohort.engine"]
    web_app.config["COHORT_NOW"] = web_app.config["COHORT_NOW"].replace(month=4, day=9)
    with db.transaction(engine) as session:
        anne = session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)).first()
        services.set_marks(session, cohort_id, "kickoff", {anne: Mark(PRESENT)},
                           now=web_app.config["COHORT_NOW"])
    client = _client(web_app, staff.owner)
    plan = client.get(f"/cohorts/{cohort_id}/plan").get_data(as_text=True)
    assert f"/cohorts/{cohort_id}/meetings/kickoff/cancel" not in plan
    assert f"/cohorts/{cohort_id}/meetings/kickoff/reschedule" not in plan
    assert "Der er registreret fremmøde: mødet står, som det blev holdt." in plan
    assert f"/cohorts/{cohort_id}/meetings/webinar-1/cancel" in plan
    url = f"/cohorts/{cohort_id}/meetings/kickoff/cancel"
    for method, status in (("get", 200), ("post", 409)):
        response = getattr(client, method)(url, data={"confirm_cancel": "y"})
        page = response.get_data(as_text=True)
        assert response.status_code == status
        assert "Kick-off-webinar kan ikke aflyses." in page and 'name="confirm_cancel"' not in page
        assert "Der er registreret fremmøde for 1 deltager" in page
    with db.transaction(engine) as session:
        meeting = session.scalars(select(Meeting).where(
            Meeting.cohort_id == cohort_id, Meeting.key == "kickoff")).one()
        assert (meeting.status, meeting.sequence) == ("scheduled", 0)
    # Webinar 1's time passes too, but nothing is recorded of it.
    with db.transaction(engine) as session:
        web_app.config["COHORT_NOW"] = session.scalars(select(Meeting.ends_at).where(
            Meeting.cohort_id == cohort_id, Meeting.key == "webinar-1")).one()
    page = client.get(f"/cohorts/{cohort_id}/meetings/webinar-1/cancel").get_data(as_text=True)
    assert 'id="time-passed"' in page and 'name="confirm_cancel"' in page
    done = client.post(f"/cohorts/{cohort_id}/meetings/webinar-1/cancel",
                       data={"confirm_cancel": "y"})
    assert done.status_code == 302


def test_cancel_meeting(web_app, staff, cohort_id):
    client = _client(web_app, staff.owner)
    url = f"/cohorts/{cohort_id}/meetings/webinar-2/cancel"
    page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Cancel Webinar 2" in page and "(no longer)" in page
    assert client.post(url, data={}).status_code == 400
    assert _task(web_app, cohort_id, "case-work@webinar-2") is not None
    done = client.post(url, data={"confirm_cancel": "y"})
    assert done.status_code == 302
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        meeting = session.scalars(select(Meeting).where(
            Meeting.cohort_id == cohort_id, Meeting.key == "webinar-2")).one()
        assert (meeting.status, meeting.sequence) == ("cancelled", 1)
    show = client.get(f"/cohorts/{cohort_id}", headers={"Accept-Language": "en"})
    html = show.get_data(as_text=True)
    assert "<del>Webinar 2</del>" in html and "cancelled Webinar 2" in html
    # A cancelled meeting cannot be moved or cancelled again.
    assert client.get(f"/cohorts/{cohort_id}/meetings/webinar-2/reschedule").status_code == 302
    assert client.get(url).status_code == 302


def test_restore_a_cancelled_meeting(web_app, staff, cohort_id):
    client = _client(web_app, staff.owner)
    base = f"/cohorts/{cohort_id}/meetings/webinar-2"
    assert client.get(f"{base}/restore").status_code == 302  # not cancelled: nothing to undo
    client.post(f"{base}/cancel", data={"confirm_cancel": "y"})
    show = client.get(f"/cohorts/{cohort_id}", headers={"Accept-Language": "en"})
    assert f'href="{base}/restore"' in show.get_data(as_text=True)
    page = client.get(f"{base}/restore", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Restore Webinar 2" in html and "(new)" in html
    assert client.post(f"{base}/restore", data={}).status_code == 400
    assert client.post(f"{base}/restore", data={"confirm_restore": "y"}).status_code == 302
    assert _task(web_app, cohort_id, "case-work@webinar-2") is not None
    show = client.get(f"/cohorts/{cohort_id}", headers={"Accept-Language": "en"})
    html = show.get_data(as_text=True)
    assert "<del>Webinar 2</del>" not in html and "restored Webinar 2" in html
    # In Danish, on the plan page too.
    client.post(f"{base}/cancel", data={"confirm_cancel": "y"})
    plan = client.get(f"/cohorts/{cohort_id}/plan").get_data(as_text=True)
    assert f'href="{base}/restore"' in plan and "Gendan" in plan


def test_only_web_links_without_line_breaks_are_accepted(web_app, staff, cohort_id):
    import html

    client = _client(web_app, staff.owner)
    url = f"/cohorts/{cohort_id}/meetings/webinar-2/reschedule"
    change = {"day": "2025-06-19", "clock": "13:00", "location": "", "preview": "1"}
    for link in ("javascript:alert(1)", "https://meet.example/x\r\nX-Evil: 1",
                 "data:text/html,x"):
        refused = client.post(url, data={**change, "online_url": link})
        assert refused.status_code == 400, link
        assert "Link til onlinemødet skal være en webadresse, der begynder med https://" in \
            html.unescape(refused.get_data(as_text=True))
    place = client.post(url, data={**change, "location": "Lokale 1\nBcc: x",
                                   "online_url": "  https://meet.example/x  "})
    assert place.status_code == 400
    assert "Sted skal være én linje tekst" in html.unescape(place.get_data(as_text=True))
    fine = client.post(url, data={**change, "online_url": "  https://meet.example/x  "})
    assert fine.status_code == 200
    assert client.get(f"/cohorts/{cohort_id}/calendar.ics").status_code == 200


def test_the_overview_offers_to_cancel_the_next_meeting_only_until_it_begins(
        web_app, staff, cohort_id):
    """The overview is kept until the clock changes it: a meeting's start is such a moment,
    or the running meeting, which is being held, kept its quick Cancel link (the plan offers
    it until attendance is recorded, for a meeting that does not take place)."""
    from datetime import timedelta

    from cohort.services.dashboard import cohort_dashboard

    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        first = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id)
                                .order_by(Meeting.starts_at)).first()
        starts_at, key = first.starts_at, first.key
        # The overview's own figures say so, not only the date warnings kept beside them.
        board = cohort_dashboard(session, services.get_cohort(session, cohort_id),
                                 starts_at - timedelta(minutes=5))
        assert board.changes_at == starts_at
    client = _client(web_app, staff.owner)
    cancel = f"/cohorts/{cohort_id}/meetings/{key}/cancel"
    web_app.config["COHORT_NOW"] = starts_at - timedelta(minutes=5)
    assert cancel in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    web_app.config["COHORT_NOW"] = starts_at + timedelta(minutes=5)  # the same revision
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert cancel not in page
    assert f"/cohorts/{cohort_id}/meetings/{key}/reschedule" in page
