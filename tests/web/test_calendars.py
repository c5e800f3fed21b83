"""The personal feed over HTTP: content type, caching headers, 304 and 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.web.calendars import webcal_url
from tests.fixtures.ics import parse_both

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ANNE = ParticipantRow("Anne Ærø", "anne@vejle.example", "Vejle Kommune", "leder", "da")


@pytest.fixture
def engine_of_app(app):
    app.config["COHORT_NOW"] = NOW  # feeds end with their cohort: "now" is while it runs
    return app.extensions["cohort.engine"]


@pytest.fixture
def cohort_id(engine_of_app, make_cohort):
    return make_cohort(engine_of_app, people=[ANNE], now=NOW).id


@pytest.fixture
def token(app, engine_of_app, cohort_id):
    with db.transaction(engine_of_app) as session:
        anne = services.participant_by_email(session, cohort_id, ANNE.email)
        return services.calendar_feed_token(session, anne.id, app.config["SECRET_KEY"])


def test_feed_serves_the_participants_calendar(client, token):
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["ETag"].strip('"')
    assert response.headers["Last-Modified"] == "Sat, 01 Mar 2025 09:00:00 GMT"
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    events = parse_both(response.data)
    assert any(e.summary.endswith("Kick-off-webinar") for e in events)
    assert any(e.summary.startswith("Frist") for e in events)  # in the participant's language
    assert client.head(f"/calendar/{token}.ics").status_code == 200


def test_conditional_get_answers_304_until_the_calendar_changes(client, engine_of_app,
                                                                 cohort_id, token):
    url = f"/calendar/{token}.ics"
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304

    with db.transaction(engine_of_app) as session:
        services.meetings.reschedule(session, cohort_id, "webinar-1",
                                     datetime(2025, 5, 22, 14, 0,
                                              tzinfo=ZoneInfo("Europe/Copenhagen")), None)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 200
    assert client.get(url, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304


def test_wrong_revoked_or_replaced_token_is_404(app, client, engine_of_app, cohort_id, token):
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    assert client.get(f"/calendar/{token[:-2]}.ics").status_code == 404
    assert client.get(f"/calendar/{token}").status_code == 404
    with db.transaction(engine_of_app) as session:
        anne = services.participant_by_email(session, cohort_id, ANNE.email)
        renewed = services.renew_calendar_feed(session, anne.id, app.config["SECRET_KEY"])
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get(f"/calendar/{renewed}.ics").status_code == 200
    with db.transaction(engine_of_app) as session:
        services.revoke_calendar_feed(session, anne.id)
    assert client.get(f"/calendar/{renewed}.ics").status_code == 404


def test_feed_ends_with_the_cohort_plus_the_configured_grace(app, client, token, cohort_id):
    with db.transaction(app.extensions["cohort.engine"]) as session:
        ends = services.participant_access.cohort_ends_at(
            session, services.get_cohort(session, cohort_id))
    app.config["CALENDAR_FEED_GRACE_DAYS"] = 2
    app.config["COHORT_NOW"] = ends + timedelta(days=2) - timedelta(minutes=1)
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    app.config["COHORT_NOW"] = ends + timedelta(days=2)
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_webcal_url(app, token):
    with app.test_request_context(base_url="https://cohort.example"):
        assert webcal_url(token) == f"webcal://cohort.example/calendar/{token}.ics"
