"""`cohort groups`: the three invocations, the JSON contract, edits and clear errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from cohort import db
from cohort.core import deliveries as kinds
from cohort.demo import demo_participants
from cohort.models import Delivery


def invoke(runner, *args):
    return runner.invoke(args=["cohort", *args], catch_exceptions=False)


def write_csv(path, rows):
    lines = ["navn;e-mail;organisation;rolle;sprog"]
    lines += [f"{r.name};{r.email};{r.organisation};{r.role};{r.language}" for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def cohort_id(app, make_cohort) -> str:
    """Created now (as `cohort create` would), nine people: buddy pairs and a trio."""
    return str(make_cohort(app.extensions["cohort.engine"], people=demo_participants(9),
                           now=None).id)


def test_groups_cohort_json_is_the_contract(runner, cohort_id):
    result = invoke(runner, "groups", cohort_id, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"rotations", "score", "violations"} <= data.keys()
    assert data["grouping"] == "buddies"
    assert [r["rotation"] for r in data["rotations"]] == [1]
    groups = data["rotations"][0]["groups"]
    assert all(set(g) == {"members", "explanation"} for g in groups)
    assert sorted(len(g["members"]) for g in groups) == [2, 2, 2, 3]
    assert sorted(m for g in groups for m in g["members"]) == sorted(
        p.email for p in demo_participants(9))
    assert all(g["explanation"] for g in groups)
    assert isinstance(data["score"], float) and 0 <= data["score"] <= 100
    assert data["violations"] == []
    rotation = json.loads(invoke(runner, "groups", cohort_id, "--rotation", "1", "--json").output)
    assert rotation["rotations"] == data["rotations"]
    assert json.loads(invoke(runner, "groups", "show", cohort_id, "--json").output) == data


def test_groups_cohort_text(runner, cohort_id):
    result = invoke(runner, "groups", cohort_id)
    assert result.exit_code == 0
    assert "Buddyordning (buddies): score" in result.output
    assert "første gang sammen" in result.output
    assert "No rule is broken." in result.output


def test_groups_plan_is_deterministic_for_a_seed(runner, cohort_id):
    first = invoke(runner, "groups", "plan", cohort_id, "--seed", "7", "--json")
    assert first.exit_code == 0, first.output
    again = invoke(runner, "groups", "plan", cohort_id, "--seed", "7", "--json")
    assert json.loads(first.output) == json.loads(again.output)
    shown = json.loads(invoke(runner, "groups", cohort_id, "--json").output)
    assert shown == json.loads(first.output)
    other = json.loads(invoke(runner, "groups", "plan", cohort_id, "--seed", "8", "--json").output)
    assert other["rotations"] != shown["rotations"]


def test_groups_repair_after_newcomers(runner, cohort_id, tmp_path):
    more = write_csv(tmp_path / "more.csv", demo_participants(12)[9:])
    assert invoke(runner, "participants", "import", cohort_id, str(more)).exit_code == 0
    waiting = json.loads(invoke(runner, "groups", cohort_id, "--json").output)
    assert sorted(v["kind"] for v in waiting["violations"]) == ["count"] + ["ungrouped"] * 3
    result = invoke(runner, "groups", "repair", cohort_id, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["violations"] == []
    assert data["changed_groups"] == 3  # two new pairs and the trio that gave one up
    assert len(data["new_partner"]) == 4  # three newcomers and the one the trio gave up
    text = invoke(runner, "groups", "repair", cohort_id)
    assert "Repaired: 0 group(s) changed; 0 people get a new partner" in text.output


def test_forbid_lock_move_and_rules(runner, cohort_id):
    groups = json.loads(invoke(runner, "groups", cohort_id, "--json").output)
    pair = next(g["members"] for g in groups["rotations"][0]["groups"] if len(g["members"]) == 2)
    forbidden = invoke(runner, "groups", "forbid", cohort_id, *pair)
    assert forbidden.exit_code == 0
    assert "må ikke være i samme gruppe" in forbidden.output  # the cohort's language
    listed = json.loads(invoke(runner, "groups", "rules", cohort_id, "--json").output)
    assert listed == [{"kind": "apart", "grouping": None, "members": sorted(pair)}]
    assert "No rule is broken." in invoke(runner, "groups", "repair", cohort_id).output
    dropped = invoke(runner, "groups", "drop-rule", cohort_id, *pair)
    assert dropped.exit_code == 0
    assert json.loads(invoke(runner, "groups", "rules", cohort_id, "--json").output) == []
    moved = invoke(runner, "groups", "move", cohort_id, pair[0], "--to", "new")
    assert moved.exit_code == 0
    assert "gruppe 5 har 1 medlemmer" in moved.output
    locked = invoke(runner, "groups", "lock", cohort_id, *pair, "--grouping", "buddies")
    assert locked.exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["groups", "999"], "Error: no cohort 999"),
    (["groups", "plan", "999"], "Error: no cohort 999"),
    (["groups", "repair", "999"], "Error: no cohort 999"),
    (["groups", "1", "--grouping", "teams"], "Error: cohort 1 has no grouping 'teams'"),
    (["groups", "1", "--rotation", "3"], "has no rotation 3"),
    (["groups", "move", "1", "nobody@x.example", "--to", "1"], "has no participant"),
    (["groups", "move", "1", "x@x.example", "--to", "first"], "--to takes a group number"),
])
def test_bad_input_is_a_clear_error(runner, cohort_id, args, message):
    result = runner.invoke(args=["cohort", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_repair_before_any_groups_says_what_to_do(app, runner, make_cohort):
    cohort_id = str(make_cohort(app.extensions["cohort.engine"], now=None).id)
    shown = invoke(runner, "groups", cohort_id)
    assert "no groups yet" in shown.output
    assert json.loads(invoke(runner, "groups", cohort_id, "--json").output)["score"] is None
    repaired = runner.invoke(args=["cohort", "groups", "repair", cohort_id])
    assert repaired.exit_code == 1
    assert "no groups to repair yet; plan them first" in repaired.output
    planned = runner.invoke(args=["cohort", "groups", "plan", cohort_id])
    assert planned.exit_code == 1
    assert "Error: buddies: 0 participant(s) cannot form groups of 2-3" in planned.output


def _told(app, cohort_id) -> None:
    """What the outbox records once the welcome emails went out."""
    with db.transaction(app.extensions["cohort.engine"]) as session:
        session.execute(update(Delivery).where(
            Delivery.cohort_id == int(cohort_id), Delivery.kind == kinds.WELCOME,
        ).values(state=kinds.SENT))


def _notices(app, cohort_id) -> set[str]:
    with db.transaction(app.extensions["cohort.engine"]) as session:
        return set(session.scalars(select(Delivery.recipient).where(
            Delivery.cohort_id == int(cohort_id), Delivery.kind == kinds.GROUPS_CHANGED,
            Delivery.state == kinds.PENDING)))


def test_plan_again_after_the_welcome_asks_then_emails_who_changes(app, runner, cohort_id):
    _told(app, cohort_id)
    before = json.loads(invoke(runner, "groups", cohort_id, "--json").output)
    declined = runner.invoke(args=["cohort", "groups", "plan", cohort_id, "--seed", "7"],
                             input="n\n")
    assert declined.exit_code == 1 and "nothing was changed" in declined.output
    assert "were already told their groups in 'buddies' and would get a new partner" \
        in declined.output
    lines = [line for line in declined.output.splitlines() if " -> " in line]
    changed = {line.split("<")[1].split(">")[0] for line in lines}
    assert lines and all(line.strip().startswith("email") for line in lines)
    assert json.loads(invoke(runner, "groups", cohort_id, "--json").output) == before
    assert _notices(app, cohort_id) == set()
    accepted = runner.invoke(args=["cohort", "groups", "plan", cohort_id, "--seed", "7"],
                             input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"Emailed about their new partner: {len(changed)} " in accepted.output
    assert _notices(app, cohort_id) == changed
    after = json.loads(invoke(runner, "groups", cohort_id, "--json").output)
    partners = {m: {tuple(g["members"]) for g in after["rotations"][0]["groups"] if m in
                    g["members"]} for m in changed}
    assert partners and after != before


def test_yes_confirms_and_json_lists_who_was_emailed(app, runner, cohort_id):
    _told(app, cohort_id)
    result = runner.invoke(args=["cohort", "groups", "plan", cohort_id, "--seed", "7", "--yes",
                                 "--json"])
    assert result.exit_code == 0
    # The diff goes to stderr, so stdout stays the JSON contract (plus "notified").
    data = json.loads(result.stdout)
    assert set(data["notified"]) == _notices(app, cohort_id) != set()
    assert " -> " in result.stderr


def test_a_draft_plans_again_without_asking_or_emailing(app, runner, make_cohort):
    cohort_id = str(make_cohort(app.extensions["cohort.engine"], people=demo_participants(9),
                                now=None, launched=False).id)
    result = runner.invoke(args=["cohort", "groups", "plan", cohort_id, "--seed", "7"])
    assert result.exit_code == 0 and "Emailed" not in result.output
    assert _notices(app, cohort_id) == set()
