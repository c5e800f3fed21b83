"""The outbox commands: send-due, outbox (list/resend/pause/resume/preview), links, digest."""

from __future__ import annotations

import email
import json
from datetime import date, timedelta
from email.policy import default
from pathlib import Path

import pytest

from cohort.core.participants import ParticipantRow

PEOPLE = [ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da"),
          ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Enhetsleder",
                         "nb")]


def invoke(runner, *args):
    result = runner.invoke(args=["cohort", *args], catch_exceptions=False)
    return result


@pytest.fixture
def cohort_id(app, make_cohort) -> str:
    """Created now and starting next month, so the welcome and invitations are due at once."""
    return str(make_cohort(app.extensions["cohort.engine"], people=PEOPLE,
                           start=date.today() + timedelta(days=30), now=None).id)


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

    digest = json.loads(invoke(runner, "digest", cohort_id, "--meeting", "webinar-1",
                               "--json").output)
    assert digest["meeting"] == "webinar-1" and digest["sections"] == []
