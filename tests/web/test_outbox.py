"""The facilitator's outbox pages (who may open them is the authorisation matrix's job)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.mail.dispatch import send_due
from cohort.models import CalendarFeed, CohortRole, CohortStaff, Delivery, ParticipantLink
from tests.fixtures.cohorts import due_now
from tests.fixtures.web import sign_in, staff_client

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def cohort_id(app, make_user, make_cohort):
    """A cohort starting next month, owned by a facilitator (so its mail is not overdue)."""
    made = make_cohort(app.extensions["cohort.engine"], people=[ParticipantRow(
        "Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da")],
        start=date.today() + timedelta(days=30), now=None)
    due_now(app.extensions["cohort.engine"], made.id)
    return made.id


@pytest.fixture
def owner(app, make_user, cohort_id):
    app.config["COHORT_NOW"] = None  # make_user's web_app pins the clock; this test runs now
    user = make_user("owner@cohort.example", "facilitator", "Olga Owner")
    with db.transaction(app.extensions["cohort.engine"]) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=user.id, role=CohortRole.OWNER))
    return user


def csrf(client, url: str) -> dict:
    return {"csrf_token": CSRF.search(client.get(url).get_data(as_text=True)).group(1)}


def _confirmation(asked) -> dict:
    """The fields the resend's confirmation form posts."""
    page = asked.get_data(as_text=True)
    return {"csrf_token": CSRF.search(page).group(1), "confirm": "1", "previewed": re.search(
        r'name="previewed" type="hidden" value="([0-9a-f]+)"', page).group(1)}


def _copies(app, delivery_id: int) -> int:
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.resend_of == delivery_id))


def test_resend_asks_first_and_queues_one_copy(app, client, cohort_id, owner):
    """"Resend" shows what goes to whom and queues nothing; the confirmation queues one copy,
    and the same confirmation sent twice (a double click) does not queue a second."""
    sign_in(client, owner)
    outbox = f"/cohorts/{cohort_id}/outbox"
    client.post(f"{outbox}/send-now", data=csrf(client, outbox))
    with db.transaction(app.extensions["cohort.engine"]) as session:
        welcome = session.scalars(select(Delivery).where(Delivery.kind == "welcome")).one()
    asked = client.post(f"{outbox}/{welcome.id}/resend", data=csrf(client, outbox))
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and _copies(app, welcome.id) == 0
    assert "<li>Søren Ærenlund (soren@vejle.example)</li>" in page
    assert f'action="{outbox}/{welcome.id}/resend"' in page
    confirm = _confirmation(asked)
    assert client.post(f"{outbox}/{welcome.id}/resend", data=confirm).status_code == 302
    assert _copies(app, welcome.id) == 1
    again = client.post(f"{outbox}/{welcome.id}/resend", data=confirm)
    assert again.status_code == 200 and _copies(app, welcome.id) == 1
    assert 'name="previewed"' in again.get_data(as_text=True)
    # The confirmation is a CSRF-protected form like the question.
    assert client.post(f"{outbox}/{welcome.id}/resend", data={
        k: v for k, v in confirm.items() if k != "csrf_token"}).status_code == 400
    assert _copies(app, welcome.id) == 1


def test_send_now_preview_resend_pause(app, client, cohort_id, owner):
    sign_in(client, owner)
    outbox = f"/cohorts/{cohort_id}/outbox"
    assert client.post(f"{outbox}/send-now").status_code == 400  # CSRF
    page = client.post(f"{outbox}/send-now", data=csrf(client, outbox), follow_redirects=True)
    assert "sent 8," in page.get_data(as_text=True)
    assert len(list((Path(app.instance_path) / "mail").glob("*.eml"))) == 8
    with db.transaction(app.extensions["cohort.engine"]) as session:
        welcome = session.scalars(select(Delivery).where(Delivery.kind == "welcome")).one()
    preview = client.get(f"{outbox}/{welcome.id}").get_data(as_text=True)
    frame = f"{outbox}/{welcome.id}/email.html"
    assert "Velkommen til" in preview and '<iframe' in preview and f'src="{frame}"' in preview
    assert "srcdoc=" not in preview  # the page's own policy would refuse the email's styles
    email = client.get(frame)
    assert email.mimetype == "text/html" and "Velkommen til" in email.get_data(as_text=True)
    assert 'style="' in email.get_data(as_text=True)
    policy = email.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "sandbox" in policy
    assert "script" not in policy and "default-src 'none'" in policy
    assert email.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get(f"/cohorts/{cohort_id + 1}/outbox/{welcome.id}").status_code == 404
    assert client.get(f"/cohorts/{cohort_id + 1}/outbox/{welcome.id}/email.html") \
        .status_code == 404
    asked = client.post(f"{outbox}/{welcome.id}/resend", data=csrf(client, outbox))
    done = client.post(f"{outbox}/{welcome.id}/resend", data=_confirmation(asked),
                       follow_redirects=True)
    assert "Sat i kø igen som udsendelse" in done.get_data(as_text=True)
    paused = client.post(f"{outbox}/pause", data=csrf(client, outbox), follow_redirects=True)
    assert "intet sendes for dette hold" in paused.get_data(as_text=True)
    page = client.post(f"{outbox}/send-now", data=csrf(client, outbox), follow_redirects=True)
    assert "sent 0," in page.get_data(as_text=True)
    client.post(f"{outbox}/resume", data=csrf(client, outbox))
    page = client.post(f"{outbox}/send-now", data=csrf(client, outbox), follow_redirects=True)
    assert "sent 1," in page.get_data(as_text=True)
    digest = client.get(f"/cohorts/{cohort_id}/digest")
    assert digest.status_code == 200 and "Kick-off-webinar" in digest.get_data(as_text=True)


PEOPLE = [ParticipantRow(name, f"{email}@vejle.example", "Vejle Kommune", "Leder", "da")
          for name, email in (("Anna Andersen", "anna"), ("Bent Berg", "bent"),
                              ("Carl Clausen", "carl"))]
FINAL_ANSWERS = {"new-tools": 4, "network": 4, "passed-on": 4, "staff-engagement": 4,
                 "judge-technology": 4, "language": 4, "most-useful": "4", "recommend": 8}


def test_the_outbox_does_not_tell_who_answered_an_anonymous_survey(app, make_user, make_cohort):
    """The attack: after Anna answered the anonymous final survey, the outbox listed her
    reminder as "skipped: already done" and the others' as sent. Now nothing in the outbox
    page, its JSON or the reminder's preview tells her apart from Bent and Carl."""
    from datetime import UTC, datetime

    from cohort.models import Invitation, Participant

    engine = app.extensions["cohort.engine"]
    cohort_id = make_cohort(engine, people=PEOPLE, now=datetime(2025, 3, 1, 9, tzinfo=UTC)).id
    owner = make_user("owner@cohort.example", "facilitator", "Olga Owner")
    with db.transaction(engine) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=owner.id, role=CohortRole.OWNER))
        final = services.get_survey(session, cohort_id, "final")
    with app.app_context():
        send_due(app, now=final.opens_at)
    with db.transaction(engine) as session:
        anna = session.scalars(select(Participant).where(
            Participant.email == "anna@vejle.example")).one()
        invitation = session.scalars(select(Invitation).where(
            Invitation.survey_id == final.id, Invitation.participant_id == anna.id)).one()
    services.submit_response(engine, invitation.id, FINAL_ANSWERS,
                             final.opens_at + timedelta(hours=2))
    first_reminder = datetime(2025, 10, 10, 7, 0, tzinfo=UTC)
    with app.app_context():
        send_due(app, now=first_reminder)
    with db.transaction(engine) as session:  # the dispatcher did tell them apart
        states = {d.recipient: d.state for d in session.scalars(select(Delivery).where(
            Delivery.kind == "survey_reminder", Delivery.anchor == "survey:final#1"))}
    assert states["anna@vejle.example"] == "skipped" and states["bent@vejle.example"] == "sent"

    listed = app.test_cli_runner().invoke(args=["cohort", "outbox", str(cohort_id), "--json"])
    assert listed.exit_code == 0, listed.output
    outbox = json.loads(listed.output)

    def fingerprint(email: str) -> list:
        return sorted((group, d["kind"], d["anchor"], d["state"], d["last_error"] or "",
                       d["attempts"]) for group, rows in outbox.items()
                      if isinstance(rows, list) and group not in ("anonymous_reminders",
                                                                  "emails")
                      for d in rows if d["to"] == email) + sorted(
            (e["kind"], e["state"], str([(i["kind"], i["anchor"], i["state"])
                                         for i in e["items"]]))
            for e in outbox["emails"] if e["recipient"] == email)  # one row per email too

    prints = {p.email: fingerprint(p.email) for p in PEOPLE}
    assert prints["anna@vejle.example"] == prints["bent@vejle.example"] == \
        prints["carl@vejle.example"]
    assert not any(kind == "survey_reminder" and anchor.startswith("survey:final")
                   for _, kind, anchor, *_ in prints["anna@vejle.example"])
    counted = {r["anchor"]: r for r in outbox["anonymous_reminders"]}
    assert (counted["survey:final#1"]["waiting"], counted["survey:final#1"]["done"]) == (0, 3)
    assert "already done" not in listed.output
    text = app.test_cli_runner().invoke(args=["cohort", "outbox", str(cohort_id)]).output
    assert "already done" not in text

    client = staff_client(app, owner)
    page = client.get(f"/cohorts/{cohort_id}/outbox").get_data(as_text=True)
    assert "already done" not in page
    assert "survey:final#" not in page  # no reminder of the anonymous survey is listed
    # Each person's emails, filtered on the page, read alike but for the address and ids.
    seen = set()
    for p in PEOPLE:
        for number in (1, 2):
            one = client.get(f"/cohorts/{cohort_id}/outbox?person={p.email}&page={number}")
            text = one.get_data(as_text=True).split('<section id="emails"')[1].split(
                "</section>")[0]
            text = re.sub(r"/outbox/\d+", "/outbox/N", text.replace(p.email, "PERSON"))
            seen.add((number, re.sub(r"<datalist.*?</datalist>", "", text)))  # all people
    assert len(seen) == 2, "the filtered pages tell the people apart"
    with db.transaction(engine) as session:
        reminders = {d.recipient: d.id for d in session.scalars(select(Delivery).where(
            Delivery.kind == "survey_reminder", Delivery.anchor == "survey:final#1"))}
    outbox_url = f"/cohorts/{cohort_id}/outbox"
    for email in ("anna@vejle.example", "bent@vejle.example"):
        preview = client.get(f"{outbox_url}/{reminders[email]}").get_data(as_text=True)
        assert 'id="state-hidden"' in preview and "already done" not in preview
        assert "skipped" not in preview and ">sent<" not in preview
        assert "/resend" not in preview
        # Resending one person's reminder (whose fate would tell) is refused alike.
        refused = client.post(f"{outbox_url}/{reminders[email]}/resend",
                              data=csrf(client, outbox_url), follow_redirects=True)
        assert "not resent to one person" in refused.get_data(as_text=True)

    # Bent's reminder fails at the mail server (5xx): it is still only counted, and the
    # dashboard's count of failed emails (which the outbox lists) does not include it.
    with db.transaction(engine) as session:
        session.get(Delivery, reminders["bent@vejle.example"]).state = "failed"
        session.get(Delivery, reminders["bent@vejle.example"]).last_code = 550
    listed = app.test_cli_runner().invoke(args=["cohort", "outbox", str(cohort_id), "--json"])
    outbox = json.loads(listed.output)
    assert outbox["failed"] == []
    assert fingerprint("anna@vejle.example") == fingerprint("bent@vejle.example")
    with db.transaction(engine) as session:
        overview = services.dashboard.cohort_dashboard(
            session, services.get_cohort(session, cohort_id), first_reminder)
    assert overview.failed_deliveries == 0


def test_send_me_a_test(app, client, cohort_id, owner, smtp_sink):
    """The email as the participant gets it, to the facilitator, with a placeholder link; the
    test issues no personal link or calendar feed and leaves the row as it was. (Opening the
    preview page itself composes the real message, which may issue the participant's link.)"""
    app.config["MAIL_URL"] = smtp_sink.url
    sign_in(client, owner)
    with db.transaction(app.extensions["cohort.engine"]) as session:
        ids = {d.kind: d.id for d in session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.recipient == "soren@vejle.example"))}
    for kind in ("welcome", "survey_invitation"):
        page = f"/cohorts/{cohort_id}/outbox/{ids[kind]}"
        assert client.post(f"{page}/test").status_code == 400  # CSRF
        token = csrf(client, f"/cohorts/{cohort_id}/outbox")  # not the preview: see above
        issued = credentials(app)
        if kind == "welcome":
            assert issued == (0, 0)  # so the test below shows none is issued
        sent = client.post(f"{page}/test", data=token)
        assert credentials(app) == issued
        assert sent.status_code == 302 and sent.headers["Location"].endswith(page)
        message = smtp_sink.messages[-1]
        assert message["To"].addresses[0].addr_spec == "owner@cohort.example"
        assert message["Subject"].startswith("[TEST] ")
        text = message.get_body(("plain",)).get_content()
        assert "Søren" in text and "/p/PERSONAL-LINK" in text
        assert not re.search(r"/p/[A-Za-z0-9_-]{43}", text)
        assert "owner@cohort.example" in client.get(page).get_data(as_text=True)
    assert smtp_sink.count() == 2
    with db.transaction(app.extensions["cohort.engine"]) as session:
        assert {d.state for d in session.scalars(select(Delivery).where(
            Delivery.id.in_(ids.values())))} == {"pending"}
    other = f"/cohorts/{cohort_id + 1}/outbox/{ids['welcome']}/test"
    assert client.post(other, data=csrf(client, f"/cohorts/{cohort_id}/outbox")).status_code \
        in (403, 404)


def credentials(app) -> tuple[int, int]:
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return (session.scalar(select(func.count()).select_from(ParticipantLink)),
                session.scalar(select(func.count()).select_from(CalendarFeed)))


def test_a_line_break_in_a_stored_name_or_title_neither_breaks_nor_injects(app, client,
                                                                             cohort_id, owner):
    """Data stored before names were checked: the preview shows the message (no 500) and the
    sent email has no header of the name's making."""
    from cohort.models import Cohort, Participant

    with db.transaction(app.extensions["cohort.engine"]) as session:
        session.get(Cohort, cohort_id).title = "Hold 1\r\nBcc: all@evil.example"
        person = session.scalars(select(Participant)).one()
        person.name = "Søren\r\nBcc: victim@evil.example\r\n\r\nHello"
        welcome = session.scalars(select(Delivery).where(Delivery.kind == "welcome")).one()
    sign_in(client, owner)
    outbox = f"/cohorts/{cohort_id}/outbox"
    preview = client.get(f"{outbox}/{welcome.id}")
    assert preview.status_code == 200
    assert "Søren Bcc: victim@evil.example Hello" in preview.get_data(as_text=True)
    client.post(f"{outbox}/send-now", data=csrf(client, outbox))
    sent = [path.read_bytes() for path in (Path(app.instance_path) / "mail").glob("*.eml")]
    headers = [raw.split(b"\r\n\r\n", 1)[0] for raw in sent]
    assert headers and not any(b"\nBcc:" in head or b"\nHello" in head for head in headers)


MANY = [ParticipantRow(f"Person {n}", f"person{n}@vejle.example", "Vejle Kommune", "Leder", "da")
        for n in range(1, 5)]
ROW = re.compile(r"<tr(?: id=\"next-to-go\")?>\s*<td>(.*?)</td>\s*<td>(.*?)</td>"
                 r"\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>", re.S)


def every_page(client, url: str) -> list[str]:
    pages, number = [], 1
    while True:
        pages.append(client.get(f"{url}?page={number}").get_data(as_text=True))
        if 'rel="next"' not in pages[-1]:
            return pages
        number += 1


def rows(page: str) -> list[tuple[str, ...]]:
    """The email table's rows: (when, email, to, state, note), tags stripped."""
    table = page.split('class="outbox-emails"')[1].split("</table>")[0] \
        if 'class="outbox-emails"' in page else ""
    return [tuple(" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in row)
            for row in ROW.findall(table)]


@pytest.fixture
def many(app, make_user, make_cohort):
    """Four people in a cohort starting next month: more emails than one page holds."""
    engine = app.extensions["cohort.engine"]
    made = make_cohort(engine, people=MANY, start=date.today() + timedelta(days=30), now=None)
    app.config["COHORT_NOW"] = None
    user = make_user("owner@cohort.example", "facilitator", "Olga Owner")
    with db.transaction(engine) as session:
        session.add(CohortStaff(cohort_id=made.id, user_id=user.id, role=CohortRole.OWNER))
        emails = services.outbox_emails(session, made.id)
    return made.id, user, emails


def test_the_outbox_lists_emails_in_danish_with_counts_and_pages(app, client, many):
    cohort_id, owner, emails = many
    sign_in(client, owner)
    url = f"/cohorts/{cohort_id}/outbox"
    page = client.get(url).get_data(as_text=True)
    assert len(emails) > 50  # so that there is a second page
    listed = rows(page)
    assert len(listed) == 50
    assert f"Mails 1–50 af {len(emails)}" in page
    # Nothing went yet: the next email to go is the first, marked and linked.
    assert '<tr id="next-to-go">' in page and 'href="#next-to-go"' in page
    # Human words, not the codes: no raw kind, state or anchor anywhere in the table.
    table = page.split('class="outbox-emails"')[1].split("</table>")[0]
    for raw in ("meeting_invitation", "meeting:", "task:", "survey:", ">pending<", "welcome"):
        assert raw not in table, raw
    assert {state for *_, state, _note in listed} <= {"Venter", "Annulleret",
                                                      "Sprunget over"}
    assert any(email.startswith("Mødeinvitation") for _, email, *_ in listed)
    # The clock is 24-hour and the dates Danish ("8. apr. 2025 13:00").
    assert all(re.fullmatch(r"\d{1,2}\. \w+\.? \d{4} \d{2}:\d{2}", when) for when, *_ in listed)
    # A bundle is one row naming its items.
    bundles = [e for e in emails if len(e.items) > 1]
    assert bundles and all(b.kind == "bundle" for b in bundles)
    first_bundle = next(e for e in every_page(client, url) if "Samlet mail" in e)
    assert 'class="bundle-items"' in first_bundle
    # Counts per state over all emails (not the page), linked to that state's filter.
    counts = {}
    for e in emails:
        counts[e.state] = counts.get(e.state, 0) + 1
    assert f"Venter: <strong>{counts['pending']}</strong>" in page
    assert f'href="{url}?state=pending"' in page
    # Pages: next on the first, previous on the second, out of range shows the last.
    assert 'rel="next"' in page and 'rel="prev"' not in page
    pages = -(-len(emails) // 50)
    assert 'aria-label="Udbakkens sider"' in page and f"Side 1 af {pages}" in page
    every = [client.get(f"{url}?page={n}").get_data(as_text=True) for n in range(1, pages + 1)]
    last = every[-1]
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert len(rows(last)) == len(emails) - 50 * (pages - 1)
    assert rows(client.get(f"{url}?page=99").get_data(as_text=True)) == rows(last)
    assert rows(client.get(f"{url}?page=x").get_data(as_text=True)) == listed
    # Same emails, same order as `cohort outbox --json` (one service).
    assert [to for one in every for _, _, to, *_ in rows(one)] == [e.recipient for e in emails]


def test_the_outbox_filters(app, client, many):
    cohort_id, owner, emails = many
    sign_in(client, owner)
    url = f"/cohorts/{cohort_id}/outbox"

    def shown(query: str) -> list[tuple[str, ...]]:
        page = client.get(f"{url}?{query}")
        assert page.status_code == 200
        found = rows(page.get_data(as_text=True))
        assert len(found) <= 50
        return found

    invitations = shown("kind=meeting_invitation")
    assert invitations and all("Mødeinvitation" in email for _, email, *_ in invitations)
    assert len(invitations) == sum(any(d.kind == "meeting_invitation" for d in e.items)
                                   for e in emails)
    mine = shown("person=person2@vejle.example")
    assert shown("person=PERSON2") == mine  # part of the address, any case
    assert {to for _, _, to, *_ in mine} == {"person2@vejle.example"}
    assert len(mine) == sum(e.recipient == "person2@vejle.example" for e in emails)
    # A date range in the cohort's own days (both ends included).
    from zoneinfo import ZoneInfo
    with db.transaction(app.extensions["cohort.engine"]) as session:
        zone = ZoneInfo(services.get_cohort(session, cohort_id).timezone)
    day = emails[-1].send_at.astimezone(zone).date()
    on_day = [e for e in emails if e.send_at.astimezone(zone).date() == day]
    page = client.get(f"{url}?from={day}&to={day}").get_data(as_text=True)
    assert len(rows(page)) == len(on_day) and f"af {len(on_day)}" in page
    assert shown(f"from={day + timedelta(days=1)}") == []
    assert "Ingen mails passer til filtrene." in client.get(
        f"{url}?from={day + timedelta(days=1)}").get_data(as_text=True)
    assert shown("state=sent") == []
    assert shown("from=not-a-date&to=2025-13-45") == shown("")  # nonsense filters nothing
    assert shown("from=0001-01-01&to=9999-12-31") == shown("")  # the ends of the calendar
    # The filters stay in the paging links and the form.
    assert 'value="person2@vejle.example"' in client.get(
        f"{url}?person=person2@vejle.example").get_data(as_text=True)


def test_cancel_a_send_out_for_everyone(app, client, many):
    """One kind and item, all recipients, pending rows only; logged; readable afterwards."""
    from cohort.models import ActivityEntry

    cohort_id, owner, emails = many
    engine = app.extensions["cohort.engine"]
    sign_in(client, owner)
    url = f"/cohorts/{cohort_id}/outbox"
    with db.transaction(engine) as session:
        invitations = {d.recipient: d for d in session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.kind == "meeting_invitation",
            Delivery.anchor == "meeting:webinar-2"))}
        first = invitations["person1@vejle.example"]
        session.get(Delivery, invitations["person4@vejle.example"].id).state = "sent"
    preview = client.get(f"{url}/{first.id}").get_data(as_text=True)
    assert "for alle 3 modtagere, der venter" in preview
    assert client.post(f"{url}/{first.id}/cancel-send-out").status_code == 400  # CSRF
    done = client.post(f"{url}/{first.id}/cancel-send-out", data=csrf(client, url),
                       follow_redirects=True).get_data(as_text=True)
    assert "Annulleret for 3 modtagere." in done
    with db.transaction(engine) as session:
        states = {d.recipient: d.state for d in session.scalars(select(Delivery).where(
            Delivery.id.in_([d.id for d in invitations.values()])))}
        others = session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.state == "cancelled",
            Delivery.anchor != "meeting:webinar-2"))
        logged = session.scalars(select(ActivityEntry).where(
            ActivityEntry.action == "send_out_cancelled")).one()
    assert states == {"person1@vejle.example": "cancelled", "person2@vejle.example": "cancelled",
                      "person3@vejle.example": "cancelled", "person4@vejle.example": "sent"}
    assert others == 0
    assert logged.details["cancelled"] == 3 and logged.details["anchor"] == "meeting:webinar-2"
    page = client.get(f"{url}?state=cancelled").get_data(as_text=True)
    cancelled = rows(page)
    assert len(cancelled) == 3
    assert all(note == "Annulleret af en facilitator" for *_, note in cancelled)
    assert "cancelled by" not in page
    log = client.get(f"/cohorts/{cohort_id}/activity").get_data(as_text=True)
    assert "annullerede Mødeinvitation" in log and "for 3 modtagere" in log
    # Nothing waits any more: the button is gone, and a second POST cancels nothing.
    assert "cancel-send-out" not in client.get(f"{url}/{first.id}").get_data(as_text=True)
    again = client.post(f"{url}/{first.id}/cancel-send-out", data=csrf(client, url),
                        follow_redirects=True).get_data(as_text=True)
    assert "Annulleret for 0 modtagere." in again
    other = client.post(f"/cohorts/{cohort_id + 1}/outbox/{first.id}/cancel-send-out",
                        data=csrf(client, url))
    assert other.status_code in (403, 404)
