"""The facilitator's outbox pages (who may open them is the authorisation matrix's job)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cohort import db
from cohort.core.participants import ParticipantRow
from cohort.models import CalendarFeed, CohortRole, CohortStaff, Delivery, ParticipantLink
from tests.fixtures.web import sign_in

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def cohort_id(app, make_user, make_cohort):
    """A cohort starting next month, owned by a facilitator (so its mail is not overdue)."""
    return make_cohort(app.extensions["cohort.engine"], people=[ParticipantRow(
        "Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da")],
        start=date.today() + timedelta(days=30), now=None).id


@pytest.fixture
def owner(app, make_user, cohort_id):
    app.config["COHORT_NOW"] = None  # make_user's web_app pins the clock; this test runs now
    user = make_user("owner@cohort.example", "facilitator", "Olga Owner")
    with db.transaction(app.extensions["cohort.engine"]) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=user.id, role=CohortRole.OWNER))
    return user


def csrf(client, url: str) -> dict:
    return {"csrf_token": CSRF.search(client.get(url).get_data(as_text=True)).group(1)}


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
    assert "Velkommen til" in preview and "<iframe" in preview and "srcdoc=" in preview
    assert client.get(f"/cohorts/{cohort_id + 1}/outbox/{welcome.id}").status_code == 404
    done = client.post(f"{outbox}/{welcome.id}/resend", data=csrf(client, outbox),
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
