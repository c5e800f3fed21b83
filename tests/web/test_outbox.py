"""The facilitator's outbox pages (who may open them is the authorisation matrix's job)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.core.programme import load_library
from cohort.models import CohortRole, CohortStaff, Delivery
from tests.fixtures.web import sign_in

PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def cohort_id(app, make_user):
    """A cohort starting next month, owned by a facilitator (so its mail is not overdue)."""
    library = load_library(PROGRAMMES)
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"],
                             date.today() + timedelta(days=30))
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return services.create_cohort(session, new, [ParticipantRow(
            "Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da")]).id


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
