"""The command line contract: names, exit codes and JSON shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from cohort import db, services

CSV_OK = "navn;e-mail;organisation;rolle;sprog\nAnne Ærø;anne@vejle.example;Vejle;leder;da\n"


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("\ufeff" + CSV_OK, encoding="utf-8")
    return path


def invoke(runner, *args):
    return runner.invoke(args=["cohort", *args], catch_exceptions=False)


def test_programmes_list_and_check(runner):
    listed = invoke(runner, "programmes", "list")
    assert listed.exit_code == 0
    assert "digital-lederskab" in listed.output and "digital-helsekompetanse" in listed.output
    checked = invoke(runner, "programmes", "check")
    assert checked.exit_code == 0, checked.output


def test_programmes_check_reports_located_errors(runner, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\ntitle: X\nlanguage: da\nmeetings:\n"
                      "  - {key: a, kind: webinaar, title: A, offset: 0d}\n")
    result = runner.invoke(args=["cohort", "programmes", "check", str(broken)])
    assert result.exit_code == 1
    assert (f"{broken}:5: meetings[0].kind: 'webinaar' is not one of kickoff, webinar, workshop, "
            "module, kickout") in result.output


def test_create_list_show(runner, csv_file):
    created = invoke(runner, "create", "--programme", "digital-lederskab", "--start",
                     "2025-04-08", "--title", "Hold 1", "--participants", str(csv_file))
    assert created.exit_code == 0, created.output
    cohort_id = int(created.output.strip().splitlines()[-1])
    listed = json.loads(invoke(runner, "list", "--json").output)
    assert listed == [{"id": cohort_id, "title": "Hold 1", "programme": "digital-lederskab",
                       "start": "2025-04-08", "state": "draft"}]
    shown = json.loads(invoke(runner, "show", str(cohort_id), "--json").output)
    assert shown["id"] == cohort_id and shown["timezone"] == "Europe/Copenhagen"
    assert shown["state"] == "draft" and shown["launched_at"] is None
    assert {"key", "kind", "title", "starts_at", "ends_at"} <= shown["meetings"][0].keys()
    assert shown["participants"] == [{"name": "Anne Ærø", "email": "anne@vejle.example",
                                      "organisation": "Vejle", "role": "leder",
                                      "language": "da"}]
    assert {"kind", "to", "send_at", "state"} <= shown["deliveries"][0].keys()
    assert "groups" in shown and "tasks" in shown and "prompts" in shown


def test_create_is_logged_like_the_web(app, runner):
    """`cohort create` uses the web's use case: a cohort_created entry, by "system"."""
    created = invoke(runner, "create", "--programme", "digital-lederskab", "--start",
                     "2025-04-08", "--title", "Hold 1")
    cohort_id = int(created.output.strip().splitlines()[-1])
    with db.transaction(app.extensions["cohort.engine"]) as session:
        entries = services.activity.cohort_activity(session, cohort_id)
        owners = services.accounts.cohort_staff(session, cohort_id)
    assert [(e.action, e.actor, e.details) for e in entries] == [
        ("cohort_created", "system", {"title": "Hold 1", "programme": "digital-lederskab"})]
    assert owners == []  # the command line names no owner


def test_create_warns_about_holidays(runner):
    result = runner.invoke(args=["cohort", "create", "--programme", "digital-lederskab",
                                 "--start", "2025-12-25"])
    assert result.exit_code == 0
    # Judged on the plan alone (core.date_warnings): the start is long past by now.
    assert "Warning: meeting kickoff starts 2025-12-25" in result.output
    assert ": a public holiday: Christmas Day" in result.output


def test_create_with_bad_csv_saves_nothing(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_OK + ";nobody@x.example;;;\n", encoding="utf-8")
    result = runner.invoke(args=["cohort", "create", "--programme", "digital-lederskab",
                                 "--start", "2025-04-08", "--participants", str(bad)])
    assert result.exit_code == 1
    assert "row 3, column name: name is missing" in result.output
    assert json.loads(invoke(runner, "list", "--json").output) == []


def test_participants_import(runner, csv_file):
    created = invoke(runner, "create", "--programme", "ledelse-i-digitalisering", "--start",
                     "2025-09-02")
    cohort_id = created.output.strip().splitlines()[-1]
    result = invoke(runner, "participants", "import", cohort_id, str(csv_file))
    assert result.exit_code == 0 and "Imported 1" in result.output
    again = runner.invoke(args=["cohort", "participants", "import", cohort_id, str(csv_file)])
    assert again.exit_code == 1 and "duplicate" in again.output


def test_unknown_things_are_clear_errors(runner):
    for args, message in [
        (["create", "--programme", "nope", "--start", "2025-04-08"], "no programme 'nope'"),
        (["create", "--programme", "digital-lederskab", "--start", "8/4/2025"], "YYYY-MM-DD"),
        (["show", "42"], "no cohort 42"),
    ]:
        result = runner.invoke(args=["cohort", *args])
        assert result.exit_code == 1 and message in result.output


def test_demo_is_loaded_once(runner):
    assert "Demo cohorts created" in invoke(runner, "demo").output
    assert "not loaded again" in invoke(runner, "demo").output
    finished, cohort = json.loads(invoke(runner, "list", "--json").output)
    assert "afsluttet" in finished["title"] and "i gang" in cohort["title"]
    shown = json.loads(invoke(runner, "show", str(cohort["id"]), "--json").output)
    assert len(shown["participants"]) == 32
    assert shown["state"] == cohort["state"] == "launched"  # the demo sends, as make run shows
    assert len({p["organisation"] for p in shown["participants"]}) >= 5


@pytest.mark.slow
def test_console_script_runs_outside_flask(tmp_path, database_url):
    env = {**os.environ, "COHORT_DATABASE_URL": database_url,
           "COHORT_INSTANCE_PATH": str(tmp_path)}
    script = Path(sys.executable).parent / "cohort"
    subprocess.run([script, "init-db"], check=True, env=env, capture_output=True)
    out = subprocess.run([script, "create", "--programme", "digital-helsekompetanse", "--start",
                          "2025-09-02"], check=True, env=env, capture_output=True, text=True)
    assert out.stdout.strip().isdigit()
    shown = subprocess.run([script, "show", out.stdout.strip(), "--json"], check=True, env=env,
                           capture_output=True, text=True)
    assert json.loads(shown.stdout)["timezone"] == "Europe/Oslo"


@pytest.mark.parametrize("option, value, message", [
    ("--title", "Hold 1\r\nBcc: x@evil.example", "the title must be one line, without line "
                                                   "breaks or other control characters"),
    ("--title", "Hold\x001", "the title must be one line"),
    ("--title", "x" * 201, "the title is 201 characters long; at most 200"),
    ("--title", "   ", "the title is empty"),
    ("--timezone", "Europe/" + "x" * 300, "is not a time zone such as Europe/Copenhagen"),
    ("--timezone", "localtime", "'localtime' is not a time zone such as Europe/Copenhagen"),
    ("--timezone", "../../etc/passwd", "is not a time zone"),
    ("--start", "9999-12-01", "the start date must be between"),
    ("--start", "0001-01-01", "the start date must be between"),
])
def test_create_checks_title_zone_and_date_as_the_web_form_does(runner, option, value,
                                                                message):
    args = {"--programme": "digital-lederskab", "--start": "2025-04-08", option: value}
    result = runner.invoke(args=["cohort", "create", *(x for kv in args.items() for x in kv)])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert json.loads(invoke(runner, "list", "--json").output) == []


def test_create_takes_a_title_of_the_longest_length(runner):
    result = invoke(runner, "create", "--programme", "digital-lederskab", "--start",
                    "2025-04-08", "--title", "Æ" * 200, "--timezone", "Europe/Oslo")
    assert result.exit_code == 0, result.output


def test_participant_import_has_a_row_limit_the_cli_may_raise(runner, tmp_path):
    created = invoke(runner, "create", "--programme", "digital-lederskab", "--start",
                     "2025-04-08")
    cohort_id = created.output.strip().splitlines()[-1]
    people = tmp_path / "people.csv"
    people.write_text("name;email\n" + "".join(f"P {i};p{i}@x.example\n" for i in range(4)))
    refused = runner.invoke(args=["cohort", "participants", "import", cohort_id, str(people),
                                  "--max-rows", "3"])
    assert refused.exit_code == 1
    assert "row 5, column -: the file has more than 3 rows" in refused.output
    imported = invoke(runner, "participants", "import", cohort_id, str(people))
    assert imported.exit_code == 0 and "Imported 4" in imported.output


def test_participant_import_reports_an_overlong_field_by_row_and_column(runner, tmp_path):
    created = invoke(runner, "create", "--programme", "digital-lederskab", "--start",
                     "2025-04-08")
    cohort_id = created.output.strip().splitlines()[-1]
    people = tmp_path / "people.csv"
    people.write_bytes(b"name;email\rAnne;anne@x.example\r" + b"B" * 200_000 + b";b@x.example\r")
    result = runner.invoke(args=["cohort", "participants", "import", cohort_id, str(people)])
    assert result.exit_code == 1
    assert "row 3, column name: the cell is longer than 10000 characters" in result.output
    assert "Traceback" not in result.output


def test_create_late_lists_what_will_be_skipped(runner):
    """Created today for a start a week ago: the first items are too late for everyone."""
    start = date.today() - timedelta(days=7)
    result = runner.invoke(args=["cohort", "create", "--programme", "digital-lederskab",
                                 "--start", start.isoformat()])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().isdigit()  # stdout stays the id; the rest is on stderr
    lines = result.stderr.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Already too late"))
    skipped = [line for line in lines[header + 1:] if line.startswith("  ")]
    assert "(survey:self-assessment-pre)" in "\n".join(skipped)
    assert "(meeting:kickoff)" in "\n".join(skipped)  # the kickoff has been held
    assert "(meeting:workshop-2)" not in "\n".join(skipped)
    assert f"skipped instead of sent: {len(skipped)} planned email(s)" in lines[header]


def test_create_in_time_lists_nothing_to_skip(runner):
    start = date.today() + timedelta(days=60)
    result = runner.invoke(args=["cohort", "create", "--programme", "digital-lederskab",
                                 "--start", start.isoformat()])
    assert result.exit_code == 0 and "Already too late" not in result.output
