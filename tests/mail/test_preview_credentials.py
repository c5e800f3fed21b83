"""A preview of a participant's email never carries their credentials.

The attack: a facilitator (or anyone at the outbox page or `cohort outbox preview`) opened the
preview of a welcome email, copied the personal link from it and, in another browser, was
signed in as the participant; the calendar feed link likewise gave their calendar. Merely
viewing a preview also issued a link and made a feed when the participant had none.

These tests preview welcome, survey and meeting emails (web page and CLI), check that no URL
in them is accepted by `/p/<token>` or the calendar feed, that the link and feed tables do not
change, and that the real send still carries working links.
"""

from __future__ import annotations

import email
import re
from email.policy import default
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from cohort import db
from cohort.app import create_app
from cohort.core.participants import ParticipantRow
from cohort.mail.dispatch import send_due
from cohort.models import CalendarFeed, Delivery, ParticipantLink
from cohort.services import accounts
from tests.fixtures.cohorts import CREATED
from tests.fixtures.web import sign_in

PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
PERSON = ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune",
                        "Enhetsleder", "nb")
# Every URL on the site that a preview might contain, personal link or calendar feed.
LINK = re.compile(r"https://cohort\.example/p/[^\s\"'<>?&]+")
FEED = re.compile(r"webcal://cohort\.example(/calendar/[^\s\"'<>]+\.ics)")
PREVIEWED = (("welcome", "cohort"), ("survey_invitation", "survey:final"),
             ("meeting_invitation", "meeting:kickoff"))


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
        "PROGRAMMES_DIR": str(PROGRAMMES), "MAIL_URL": f"file://{tmp_path / 'mail'}",
        "MAIL_FROM": "kursus@cohort.example", "BASE_URL": "https://cohort.example",
    })
    app.config["COHORT_NOW"] = CREATED  # personal links expire: open them when they are new
    db.create_schema(app.extensions["cohort.engine"])
    yield app
    app.extensions["cohort.engine"].dispose()


@pytest.fixture
def setup(app, make_cohort):
    cohort = make_cohort(app.extensions["cohort.engine"], people=[PERSON], now=CREATED)
    with db.transaction(app.extensions["cohort.engine"]) as session:
        owner = accounts.create_user(session, "olga@kommune.example", "facilitator",
                                     "correct horse battery", name="Olga Ørsted")
        accounts.add_cohort_staff(session, cohort.id, owner)
        ids = {kind: session.scalars(select(Delivery.id).where(
            Delivery.cohort_id == cohort.id, Delivery.kind == kind, Delivery.anchor == anchor,
            Delivery.recipient == PERSON.email)).one() for kind, anchor in PREVIEWED}
        return cohort.id, owner, ids


def credential_rows(app) -> tuple[int, int]:
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return (session.scalar(select(func.count()).select_from(ParticipantLink)),
                session.scalar(select(func.count()).select_from(CalendarFeed)))


def assert_grants_nothing(app, text: str) -> None:
    """No personal link or feed URL in `text` opens anything."""
    client = app.test_client()
    for link in LINK.findall(text):
        assert client.get(urlsplit(link).path).status_code == 404, link
    for path in FEED.findall(text):
        assert client.get(path).status_code == 404, path


def bodies(eml: str) -> str:
    """The decoded plain text and HTML of an RFC 5322 message (quoted-printable undone)."""
    message = email.message_from_string(eml, policy=default)
    return "\n".join(message.get_body((kind,)).get_content() for kind in ("plain", "html"))


def cli_preview(app, delivery_id: int) -> str:
    result = app.test_cli_runner().invoke(args=["cohort", "outbox", "preview", str(delivery_id)])
    assert result.exit_code == 0, result.output
    return bodies(result.output)


def web_previews(app, cohort_id, owner, ids) -> dict[str, str]:
    client = app.test_client()
    sign_in(client, owner)
    pages = {}
    for kind, delivery_id in ids.items():
        page = client.get(f"/cohorts/{cohort_id}/outbox/{delivery_id}")
        assert page.status_code == 200
        pages[kind] = page.get_data(as_text=True)
    return pages


def test_a_preview_issues_no_link_and_makes_no_feed(app, setup):
    cohort_id, owner, ids = setup
    assert credential_rows(app) == (0, 0)
    pages = web_previews(app, cohort_id, owner, ids)
    cli = {kind: cli_preview(app, delivery_id) for kind, delivery_id in ids.items()}
    assert credential_rows(app) == (0, 0)
    # The placeholders are there, so the facilitator sees where the links go.
    assert "/p/PREVIEW" in pages["welcome"] and "/calendar/PREVIEW.ics" in pages["welcome"]
    assert "/p/PREVIEW?next=%2Fme%2Fsurveys%2F" in pages["survey_invitation"]
    assert "/p/PREVIEW" in cli["welcome"] and "/calendar/PREVIEW.ics" in cli["welcome"]
    for text in [*pages.values(), *cli.values()]:
        assert_grants_nothing(app, text)


def test_a_preview_after_sending_shows_no_live_credential(app, setup):
    cohort_id, owner, ids = setup
    with app.app_context():
        send_due(app, now=CREATED)
    links, feeds = credential_rows(app)
    assert (links, feeds) == (1, 1)  # the real welcome carried a link and a feed
    sent = "\n".join(bodies(eml.read_text()) for eml in
                     (Path(app.instance_path).parent / "mail").glob("*.eml"))
    real_link = LINK.search(sent).group(0)
    real_feed = FEED.search(sent).group(1)
    # The real email's links work (so the test would see a live one in a preview).
    client = app.test_client()
    assert client.get(urlsplit(real_link).path).status_code == 200
    assert client.get(real_feed).status_code == 200

    pages = web_previews(app, cohort_id, owner, ids)
    cli = [cli_preview(app, delivery_id) for delivery_id in ids.values()]
    for text in [*pages.values(), *cli]:
        token = urlsplit(real_link).path.rsplit("/", 1)[1]
        assert token not in text and real_feed not in text
        assert_grants_nothing(app, text)
    assert credential_rows(app) == (links, feeds)
