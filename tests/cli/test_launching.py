"""`cohort create` makes a draft, `cohort launch` shows what will be sent and starts it."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

from .test_cohorts import CSV_OK, invoke

PEOPLE = CSV_OK + "Kari Nordmann;kari@bergen.example;Bergen kommune;Enhetsleder;nb\n"


def create(runner, tmp_path, *extra) -> str:
    people = tmp_path / "two.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    start = (date.today() + timedelta(days=30)).isoformat()
    created = invoke(runner, "create", "--programme", "digital-lederskab", "--start", start,
                     "--participants", str(people), *extra)
    assert created.exit_code == 0, created.output
    return created.output.strip().splitlines()[-1]


def state(runner, cohort_id: str) -> str:
    return json.loads(invoke(runner, "show", cohort_id, "--json").output)["state"]


def test_create_makes_a_draft_that_sends_nothing_until_launched(app, runner, tmp_path):
    cohort_id = create(runner, tmp_path)
    assert state(runner, cohort_id) == "draft"
    assert invoke(runner, "send-due").output.startswith("sent 0,")
    assert ": draft" in invoke(runner, "show", cohort_id).output

    refused = runner.invoke(args=["cohort", "launch", cohort_id], input="n\n")
    assert refused.exit_code == 1 and "still a draft" in refused.output
    assert state(runner, cohort_id) == "draft"
    # The summary: a welcome and seven meeting invitations for each of the two.
    assert "In the next 14 days: 16 email(s) to 2 recipient(s)" in refused.output
    assert re.search(r"welcome\s+2 to\s+2", refused.output)
    assert re.search(r"meeting_invitation\s+14 to\s+2", refused.output)
    assert "Overdue or too late, skipped instead of sent: 0" in refused.output

    launched = runner.invoke(args=["cohort", "launch", cohort_id], input="y\n")
    assert launched.exit_code == 0 and f"Cohort {cohort_id} launched" in launched.output
    assert state(runner, cohort_id) == "launched"
    # as the summary said, when the mail policy lets them go (now, or the next working
    # morning when the test runs in the evening or on a weekend)
    upcoming = json.loads(invoke(runner, "outbox", cohort_id, "--json").output)["upcoming"]
    first = max(datetime.now(UTC), min(datetime.fromisoformat(d["send_at"]) for d in upcoming))
    assert invoke(runner, "send-due", "--now", first.isoformat()).output.startswith("sent 16,")

    again = runner.invoke(args=["cohort", "launch", cohort_id, "--yes"])
    assert again.exit_code == 1 and "launched on" in again.output


def test_launch_yes_and_create_launch(app, runner, tmp_path):
    draft = create(runner, tmp_path)
    launched = runner.invoke(args=["cohort", "launch", draft, "--yes"])
    assert launched.exit_code == 0 and "16 email(s)" in launched.output
    assert state(runner, draft) == "launched"

    at_once = create(runner, tmp_path, "--launch")
    assert state(runner, at_once) == "launched"
    listed = {c["id"]: c["state"] for c in json.loads(invoke(runner, "list", "--json").output)}
    assert listed == {int(draft): "launched", int(at_once): "launched"}

    for args, message in [(["launch", "999", "--yes"], "no cohort 999"),
                          (["launch", draft, "--now", "soon"], "is not a time")]:
        result = runner.invoke(args=["cohort", *args])
        assert result.exit_code == 1 and message in result.output, (args, result.output)


def test_launching_late_names_what_is_skipped(app, runner, tmp_path):
    people = tmp_path / "two.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    start = (date.today() - timedelta(days=7)).isoformat()
    created = invoke(runner, "create", "--programme", "digital-lederskab", "--start", start,
                     "--participants", str(people))
    cohort_id = created.stdout.strip()
    refused = runner.invoke(args=["cohort", "launch", cohort_id], input="n\n")
    assert refused.exit_code == 1
    listed = refused.output.split("What is skipped:", 1)[1]
    pre = re.search(r"survey_invitation\s+(\d+)\s+Selvvurdering før forløbet "
                    r"\(survey:self-assessment-pre\)", listed)
    assert pre and pre.group(1) == "2"  # both participants
    assert "(meeting:kickoff)" in listed
