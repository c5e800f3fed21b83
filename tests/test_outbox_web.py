"""The facilitator's outbox pages. Staff login belongs to the web issue; here a minimal
Flask-Login manager with two roles stands in for it, so the guard can be exercised."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask_login import LoginManager, UserMixin
from sqlalchemy import select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.core.programme import load_library
from cohort.models import Delivery

PROGRAMMES = Path(__file__).resolve().parent.parent / "programmes"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Staff(UserMixin):
    def __init__(self, user_id: str, role: str) -> None:
        self.id = user_id
        self.role = role


@pytest.fixture
def cohort_id(app):
    library = load_library(PROGRAMMES)
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"],
                             date.today() + timedelta(days=30))
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return services.create_cohort(session, new, [ParticipantRow(
            "Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da")]).id


@pytest.fixture
def staff_login(app):
    manager = LoginManager(app)
    users = {"fac": Staff("fac", "facilitator"), "eva": Staff("eva", "evaluator")}
    manager.user_loader(users.get)

    def log_in(client, user_id: str) -> None:
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
    return log_in


def csrf(client, url: str) -> dict:
    return {"csrf_token": CSRF.search(client.get(url).get_data(as_text=True)).group(1)}


def test_refuses_everyone_until_staff_login_is_installed(client, cohort_id):
    assert client.get(f"/cohorts/{cohort_id}/outbox").status_code == 403
    assert client.post(f"/cohorts/{cohort_id}/outbox/send-now").status_code == 403


def test_only_facilitators_get_in(client, cohort_id, staff_login):
    assert client.get(f"/cohorts/{cohort_id}/outbox").status_code == 401
    staff_login(client, "eva")
    assert client.get(f"/cohorts/{cohort_id}/outbox").status_code == 403
    staff_login(client, "fac")
    assert client.get(f"/cohorts/{cohort_id}/outbox").status_code == 200


def test_send_now_preview_resend_pause(app, client, cohort_id, staff_login):
    staff_login(client, "fac")
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
    assert "Queued again as delivery" in done.get_data(as_text=True)
    paused = client.post(f"{outbox}/pause", data=csrf(client, outbox), follow_redirects=True)
    assert "nothing is sent for this cohort" in paused.get_data(as_text=True)
    page = client.post(f"{outbox}/send-now", data=csrf(client, outbox), follow_redirects=True)
    assert "sent 0," in page.get_data(as_text=True)
    client.post(f"{outbox}/resume", data=csrf(client, outbox))
    page = client.post(f"{outbox}/send-now", data=csrf(client, outbox), follow_redirects=True)
    assert "sent 1," in page.get_data(as_text=True)
    digest = client.get(f"/cohorts/{cohort_id}/digest")
    assert digest.status_code == 200 and "Kick-off-webinar" in digest.get_data(as_text=True)
