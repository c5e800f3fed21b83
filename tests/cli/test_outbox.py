"""The outbox commands: send-due, outbox (list/resend/pause/resume/preview), links, digest."""

from __future__ import annotations

import email
import json
from datetime import date, datetime, timedelta
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from cohort import db
from cohort.core.participants import ParticipantRow
from cohort.models import Invitation, Participant
from tests.fixtures.cohorts import CREATED, due_now

PEOPLE = [ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da"),
          ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Enhetsleder",
                         "nb")]


def invoke(runner, *args):
    result = runner.invoke(args=["cohort", *args], catch_exceptions=False)
    return result


@pytest.fixture
def cohort_id(app, make_cohort) -> str:
    """Created now and starting next month, so the welcome and invitations are due at once."""
    made = make_cohort(app.extensions["cohort.engine"], people=PEOPLE,
                       start=date.today() + timedelta(days=30), now=None)
    due_now(app.extensions["cohort.engine"], made.id)
    return str(made.id)


def test_send_due_writes_eml_files_and_the_outbox_lists_them(app, runner, cohort_id):
    # Created "now" (today), so the welcome and invitations are due at once.
    sent = invoke(runner, "send-due")
    assert sent.exit_code == 0 and sent.output.startswith("sent 16,")
    mail = Path(app.instance_path) / "mail"
    files = sorted(mail.glob("*.eml"))
    assert len(files) == 16
    parsed = [email.message_from_bytes(f.read_bytes(), policy=default) for f in files]
    assert len({m["Message-ID"] for m in parsed}) == 16
    assert invoke(runner, "send-due").output.startswith("sent 0,")

    listed = json.loads(invoke(runner, "outbox", cohort_id, "--json").output)
    assert {"upcoming", "sent", "failed", "needs_review", "not_sent", "paused"} <= listed.keys()
    sent_emails = [e for e in listed["emails"] if e["state"] == "sent"]
    assert len(sent_emails) == 16 and {e["kind"] for e in sent_emails} == {
        "welcome", "meeting_invitation"}
    assert listed["email_states"]["sent"] == 16
    assert len(listed["sent"]) == 16 and listed["paused"] is False
    first = listed["sent"][0]
    assert {"id", "kind", "to", "state", "attempts", "last_code", "message_id"} <= first.keys()

    preview = invoke(runner, "outbox", "preview", str(first["id"]))
    assert preview.exit_code == 0 and f"Message-ID: {first['message_id']}" in preview.output

    resent = invoke(runner, "outbox", "resend", str(first["id"]))
    assert resent.exit_code == 0 and "queued again as delivery" in resent.output
    assert invoke(runner, "send-due").output.startswith("sent 1,")
    assert len(list(mail.glob("*.eml"))) == 17


def test_pause_resume_and_errors(app, runner, cohort_id):
    assert "paused" in invoke(runner, "outbox", "pause", cohort_id).output
    assert invoke(runner, "send-due").output.startswith("sent 0,")
    assert "(PAUSED)" in invoke(runner, "outbox", cohort_id).output
    assert "resumed" in invoke(runner, "outbox", "resume", cohort_id).output
    assert invoke(runner, "send-due", "--cohort", cohort_id).output.startswith("sent 16,")
    for args, message in [
        (["send-due", "--now", "tomorrow"], "is not a time"),
        (["outbox", "999"], "no cohort 999"),
        (["outbox", "pause", "999"], "no cohort 999"),
        (["outbox", "resend", "99999"], "no delivery 99999"),
        (["outbox", "dismiss", "1"], "not needs_review"),
        (["participants", "remove", cohort_id, "nobody@x.example"], "no participant"),
    ]:
        result = runner.invoke(args=["cohort", *args])
        assert result.exit_code == 1 and message in result.output, (args, result.output)


def test_bad_mail_url_is_a_clear_error(app, runner, cohort_id):
    app.config["MAIL_URL"] = "mailto:someone"
    result = runner.invoke(args=["cohort", "send-due"])
    assert result.exit_code == 1
    assert "COHORT_MAIL_URL" in result.output and "smtp://" in result.output


def test_personal_link_remove_and_digest(app, runner, client, cohort_id):
    link = invoke(runner, "participants", "link", cohort_id, "SOREN@vejle.example").output.strip()
    assert link.startswith("http://127.0.0.1:5000/p/")
    path = link.removeprefix("http://127.0.0.1:5000")
    assert client.get(path).status_code == 200
    assert invoke(runner, "participants", "link", cohort_id, "soren@vejle.example").output \
        .strip() == link  # the same link every time
    fresh = invoke(runner, "participants", "link", cohort_id, "soren@vejle.example",
                   "--revoke").output.strip()
    assert fresh != link and client.get(path).status_code == 404
    # The site's address: --base-url, else the configured COHORT_BASE_URL.
    given = invoke(runner, "participants", "link", cohort_id, "soren@vejle.example",
                   "--base-url", "https://cohort.example.dk/").output.strip()
    assert given == fresh.replace("http://127.0.0.1:5000", "https://cohort.example.dk")
    app.config["BASE_URL"] = "https://kursus.example.no"
    configured = invoke(runner, "participants", "link", cohort_id, "soren@vejle.example")
    assert configured.output.strip() == fresh.replace("http://127.0.0.1:5000",
                                                      "https://kursus.example.no")

    removed = invoke(runner, "participants", "remove", cohort_id, "kari@bergen.example")
    assert removed.exit_code == 0
    listed = json.loads(invoke(runner, "outbox", cohort_id, "--json").output)
    assert not [d for d in listed["upcoming"] if d["to"] == "kari@bergen.example"]
    assert [d for d in listed["not_sent"] if d["to"] == "kari@bergen.example"]
    # Someone who answered a survey is erased instead, and the command says so.
    with db.transaction(app.extensions["cohort.engine"]) as session:
        soren = session.scalars(select(Participant).where(
            Participant.email == "soren@vejle.example")).one()
        session.scalars(select(Invitation).where(
            Invitation.participant_id == soren.id)).first().completed = True
    erased = invoke(runner, "participants", "remove", cohort_id, "soren@vejle.example")
    assert "their answers stay in the figures" in erased.output

    digest = json.loads(invoke(runner, "digest", cohort_id, "--meeting", "webinar-1",
                               "--json").output)
    assert digest["meeting"] == "webinar-1" and digest["sections"] == []


def test_the_outbox_lists_one_row_per_email_with_a_bundles_items_inside(app, runner,
                                                                        make_cohort):
    made = make_cohort(app.extensions["cohort.engine"], people=PEOPLE[:1])
    listed = json.loads(invoke(runner, "outbox", str(made.id), "--json").output)
    emails = listed["emails"]
    rows = sum(len(listed[name]) for name in ("upcoming", "sent", "failed", "needs_review",
                                              "not_sent"))
    items = [item for e in emails for item in e["items"]]
    assert len(items) == rows  # every listed row once, in one email
    anonymous = {r["anchor"] for r in listed["anonymous_reminders"]}
    assert anonymous and not anonymous & {i["anchor"] for i in items}  # counted, not listed
    bundles = [e for e in emails if e["kind"] == "bundle"]
    assert bundles and all(len(e["items"]) > 1 for e in bundles)
    day_after = next(e for e in bundles
                     if any(i["anchor"] == "task:case-work@workshop-1" for i in e["items"]))
    assert {"kind", "recipient", "send_at", "state", "items"} <= day_after.keys()
    assert day_after["recipient"] == "soren@vejle.example" and day_after["state"] == "pending"
    assert len(emails) <= 35 + 7  # the participant's emails and the facilitator's digests
    assert invoke(runner, "send-due", "--now", day_after["send_at"]).exit_code == 0
    after = json.loads(invoke(runner, "outbox", str(made.id), "--json").output)
    sent = [e for e in after["emails"] if e["state"] == "sent"
            and any(i["anchor"] == "task:case-work@workshop-1" for i in e["items"])]
    assert len(sent) == 1 and len(sent[0]["items"]) == len(day_after["items"])
    assert datetime.fromisoformat(day_after["send_at"]) > CREATED
