"""`cohort participants export|erase` and `cohort purge` (the services are tested in
tests/services/test_privacy.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cohort import db
from cohort.models import Participant


@pytest.fixture
def database_url(sqlite_only_url):
    return sqlite_only_url


def invoke(runner, *args, stdin=None):
    return runner.invoke(args=["cohort", *args], input=stdin)


@pytest.fixture
def demo(runner, app):
    assert invoke(runner, "demo").exit_code == 0
    with db.transaction(app.extensions["cohort.engine"]) as session:
        person = session.scalars(select(Participant).order_by(Participant.id)).first()
        return person.cohort_id, person.email


def test_export_writes_the_participants_data_as_json(runner, demo, tmp_path):
    cohort_id, email = demo
    target = tmp_path / "export.json"
    result = invoke(runner, "participants", "export", str(cohort_id), email, "-o", str(target))
    assert result.exit_code == 0, result.output
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["participant"]["email"] == email and data["emails"] and data["attendance"]
    missing = invoke(runner, "participants", "export", str(cohort_id), "nobody@x.example",
                     "-o", str(target))
    assert missing.exit_code == 1 and "has no participant 'nobody@x.example'" in missing.output


def test_erase_asks_first_and_then_erases(runner, demo, app):
    cohort_id, email = demo
    declined = invoke(runner, "participants", "erase", str(cohort_id), email, stdin="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    erased = invoke(runner, "participants", "erase", str(cohort_id), email, stdin="y\n")
    assert erased.exit_code == 0, erased.output
    assert "Erased the personal data of participant" in erased.output
    with db.transaction(app.extensions["cohort.engine"]) as session:
        assert session.scalars(select(Participant).where(Participant.email == email)).all() == []
    again = invoke(runner, "participants", "erase", str(cohort_id), email, "--yes")
    assert again.exit_code == 1 and "Error:" in again.output


def test_purge_needs_a_period_and_can_be_tried_first(runner, demo, app):
    assert "COHORT_RETENTION_DAYS" in invoke(runner, "purge").output
    def emails_by_cohort():
        with db.transaction(app.extensions["cohort.engine"]) as session:
            rows = session.execute(select(Participant.cohort_id, Participant.email)).all()
        return {c: {e for c2, e in rows if c2 == c} for c, _ in rows}

    before = emails_by_cohort()
    ids = sorted(before)
    # The demo has a running cohort and one that finished a year ago: only that one is listed.
    dry = invoke(runner, "purge", "--older-than", "0", "--dry-run")
    assert dry.exit_code == 0 and dry.output.count("Would erase") == 1, dry.output
    finished = int(dry.output.split(" of cohort ")[1].split()[0])
    assert finished in ids and len(ids) == 2
    recent = invoke(runner, "purge", "--older-than", "3650", "--dry-run")
    assert "No cohort ended more than 3650 day(s)" in recent.output
    app.config["RETENTION_DAYS"] = 0
    assert f"Erased 32 participant(s) of cohort {finished}" in invoke(runner, "purge").output
    assert "No cohort ended more than 0 day(s)" in invoke(runner, "purge").output
    after = emails_by_cohort()
    running = next(i for i in ids if i != finished)
    assert after[running] == before[running]  # the running cohort keeps its people
    assert not after.get(finished, set()) & before[finished]


def test_purge_deletes_the_uploaded_materials_of_the_purged_cohort(runner, demo, app):
    """`cohort purge` takes the materials folder from the settings (COHORT_MATERIALS_DIR)."""
    from cohort.models import Cohort, utcnow
    from cohort.services import materials
    from tests.fixtures import materials as files

    store = materials.MaterialStore(app.config["MATERIALS_DIR"])
    with db.transaction(app.extensions["cohort.engine"]) as session:
        cohorts = session.scalars(select(Cohort).order_by(Cohort.start_date)).all()
        finished, running = cohorts[0].id, cohorts[-1].id
        stored = {cohort_id: materials.add_file(
            session, store, cohort_id, "kickoff", "", "slides.pdf", files.PDF, False, 1024,
            None, utcnow()).stored_name for cohort_id in (finished, running)}
    result = invoke(runner, "purge", "--older-than", "30")
    assert f"of cohort {finished}" in result.output, result.output
    assert not store.path(stored[finished]).exists()
    assert store.path(stored[running]).is_file()
