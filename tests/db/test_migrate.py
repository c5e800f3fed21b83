"""Migrations: they build exactly the models' schema, and upgrade databases with data in them.

Both on SQLite and on the real PostgreSQL server. The data test is generic: at every revision
it fills every table that exists then with rows (every column set, foreign keys pointing at
real rows), upgrades one step, and checks that every row is still there with the same values.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    func,
    select,
    text,
)
from sqlmodel import Session

from cohort import db
from cohort.app import create_app
from cohort.cli import cohort as cohort_commands
from cohort.db import migrate as schema
from cohort.models import Cohort, Delivery, IdentifiedResponse, Participant, SchedulerHeartbeat

ROWS_PER_TABLE = 3
# Tables a revision drops on purpose, with their rows (0008: failed_attempt's rows counted
# failures of the last minute; attempt_count replaces it).
DROPPED_BY = {"0008": {"failed_attempt"}}


@pytest.fixture
def fresh_engine(database_url):
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def test_the_migrations_build_exactly_the_models_schema(fresh_engine):
    before, after = schema.upgrade(fresh_engine)
    assert (before, after) == (None, schema.head_revision())
    assert schema.differences(fresh_engine) == []


def test_create_all_and_the_migrations_agree_on_the_head_revision(fresh_engine):
    """A database made by create_all (as tests do) is adopted as the newest revision."""
    db.create_schema(fresh_engine)
    assert schema.current_revision(fresh_engine) is None
    before, after = schema.upgrade(fresh_engine)
    assert before == after == schema.head_revision()


def test_a_database_from_before_migrations_is_adopted_and_upgraded(fresh_engine):
    """What create_all made before migrations existed is the first revision: upgraded, data
    kept."""
    schema.upgrade(fresh_engine, schema.FIRST_REVISION)
    fill(fresh_engine, schema.FIRST_REVISION)
    kept = contents(fresh_engine)
    with fresh_engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    before, after = schema.upgrade(fresh_engine)
    assert (before, after) == (schema.FIRST_REVISION, schema.head_revision())
    assert_rows_kept(kept, contents(fresh_engine))


def test_every_revision_upgrades_a_database_with_data_in_it(fresh_engine):
    revisions = schema.revisions()
    assert revisions[0] == schema.FIRST_REVISION and len(revisions) >= 2
    kept: dict[str, dict] = {}
    for revision in revisions:
        schema.upgrade(fresh_engine, revision)
        assert schema.current_revision(fresh_engine) == revision
        kept = {t: rows for t, rows in kept.items() if t not in DROPPED_BY.get(revision, ())}
        assert_rows_kept(kept, contents(fresh_engine))
        fill(fresh_engine, revision)
        kept = contents(fresh_engine)
        assert all(len(rows) >= ROWS_PER_TABLE for rows in kept.values())
    assert schema.differences(fresh_engine) == []
    # The models read the upgraded rows, and the app writes new ones next to them.
    with db.transaction(fresh_engine) as session:
        participants = session.scalars(select(Participant)).all()
        assert len(participants) == ROWS_PER_TABLE * len(revisions)
        # Rows from before a column existed have no value in it.
        assert all(p.erased_at is None for p in participants if p.id < 1100)
        session.add(Cohort(title="new", programme_id="p", programme={}, start_date=date.today(),
                           timezone="UTC", language="da"))
        session.add(SchedulerHeartbeat(name="outbox", beat_at=datetime.now(UTC),
                                       started_at=datetime.now(UTC)))


def test_existing_cohorts_migrate_as_launched(fresh_engine):
    """Cohorts from before drafts existed have been sending their emails: 0007 marks them
    launched (at their creation), so the outbox keeps sending them."""
    schema.upgrade(fresh_engine, "0005")
    fill(fresh_engine, "0005")
    schema.upgrade(fresh_engine)
    with db.transaction(fresh_engine) as session:
        cohorts = session.scalars(select(Cohort)).all()
        assert len(cohorts) == ROWS_PER_TABLE
        assert all(c.state == "launched" and c.launched_at == c.created_at for c in cohorts)
        # A cohort made after the upgrade is a draft.
        session.add(Cohort(title="new", programme_id="p", programme={}, start_date=date.today(),
                           timezone="UTC", language="da"))
    with db.transaction(fresh_engine) as session:
        states = sorted(c.state for c in session.scalars(select(Cohort)))
    assert states == ["draft"] + ["launched"] * ROWS_PER_TABLE


def test_named_answers_from_before_0017_take_their_participants_values(fresh_engine):
    """0017 fills the organisation and role kept with each named answer from its participant
    (the breakdowns read them from then on)."""
    schema.upgrade(fresh_engine, "0016")
    fill(fresh_engine, "0016")
    schema.upgrade(fresh_engine)
    with db.transaction(fresh_engine) as session:
        rows = session.execute(select(IdentifiedResponse, Participant).join(
            Participant, Participant.id == IdentifiedResponse.participant_id)).all()
    assert len(rows) >= ROWS_PER_TABLE
    assert all((answer.organisation, answer.role) == (person.organisation, person.role)
               and person.organisation for answer, person in rows)


def test_downgrading_a_step_keeps_the_other_data(fresh_engine):
    """Dropping a column copies the table on SQLite: the rows pointing at it must survive
    (foreign keys are off while migrating, so nothing cascades)."""
    schema.upgrade(fresh_engine)
    fill(fresh_engine, "head")
    kept = contents(fresh_engine)
    # Back to before 0002, whose downgrade drops columns of cohort and participant.
    previous = schema.FIRST_REVISION
    schema.downgrade(fresh_engine, previous)
    assert schema.current_revision(fresh_engine) == previous
    after = contents(fresh_engine)
    dropped = kept.keys() - after.keys()
    # The tables 0002, 0003, 0006, 0008, 0009, 0010, 0011, 0012, 0015 and 0016 added
    # (0004's failed_attempt went in 0008).
    assert dropped == {"scheduler_heartbeat", "grouping_rule", "anonymous_answer_pool",
                       "attempt_count", "buddy_check_in", "announcement", "meeting_material",
                       "staff_activation", "cohort_revision", "frozen_buddy_round",
                       "frozen_buddy_member"}
    assert_rows_kept({t: rows for t, rows in kept.items() if t not in dropped}, after)
    schema.upgrade(fresh_engine)
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == ROWS_PER_TABLE


def test_cohort_db_upgrade_and_current(tmp_path, database_url, monkeypatch):
    """The commands in-process, on an app that has not made the schema itself (the console
    script's own start is tested in tests/cli/test_cohorts.py)."""
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test"})
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(cohort_commands, list(args))

    empty = run("db", "current")
    assert empty.exit_code == 1 and "none (newest:" in empty.stdout
    first = run("db", "upgrade", schema.FIRST_REVISION)
    assert first.exit_code == 0, first.output
    assert f"to revision {schema.FIRST_REVISION}" in first.stdout
    assert run("db", "current").exit_code == 1
    upgraded = run("db", "upgrade")
    assert upgraded.exit_code == 0 and f"revision {schema.head_revision()}" in upgraded.stdout
    again = run("db", "upgrade")
    assert "already at revision" in again.stdout
    current = run("db", "current")
    assert current.exit_code == 0 and current.stdout.strip() == f"{schema.head_revision()} (head)"
    unknown = run("db", "upgrade", "nonsense")
    assert unknown.exit_code == 1 and "Error:" in unknown.stderr
    assert unknown.exception is None or isinstance(unknown.exception, SystemExit)
    app.extensions["cohort.engine"].dispose()


# --- filling and reading any revision's tables ----------------------------------------------

def reflected(engine) -> MetaData:
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def fill(engine, revision: str) -> None:
    """ROWS_PER_TABLE new rows in every table, every column set, keys pointing at real rows."""
    metadata = reflected(engine)
    offset = 1000 + 100 * (schema.revisions() + ["head"]).index(revision)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "cohort_revision":  # a cohort's insert makes its row (0015)
                continue
            rows = [{column.name: _value(table, column, offset + i, sqlite)
                     for column in table.columns} for i in range(ROWS_PER_TABLE)]
            for row in rows:
                row.update(CHECKED_VALUES.get(table.name, lambda _offset: {})(offset))
            connection.execute(table.insert(), rows)


# Tables with CHECK constraints get values that satisfy them (and point at real rows).
CHECKED_VALUES = {
    "grouping_rule": lambda offset: {"kind": "together", "first_id": offset,
                                     "second_id": offset + 1},
    "buddy_check_in": lambda offset: {"answer": ("met", "not_yet", "could_not")[offset % 3]},
}


def _value(table, column, number: int, sqlite: bool):
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column.table
        return None if target is table else number
    kind = column.type
    if isinstance(kind, Boolean):
        return number % 2 == 0
    if isinstance(kind, Integer):
        return number
    if isinstance(kind, Float):
        return number + 0.5
    if isinstance(kind, DateTime):
        moment = datetime(2025, 4, 8, 9, 0, tzinfo=UTC) + timedelta(minutes=number)
        return moment.replace(tzinfo=None) if sqlite else moment
    if isinstance(kind, Date):
        return date(2025, 4, 8) + timedelta(days=number)
    if isinstance(kind, JSON) or str(kind) == "JSON":
        return {"n": number, "text": "Ærø"}
    if isinstance(kind, String):
        value = f"{column.name}-{number}-æøå"
        return value[: kind.length] if kind.length else value
    raise AssertionError(f"no sample value for {table.name}.{column.name}: {kind!r}")


def contents(engine) -> dict[str, dict]:
    """Every row of every table, by primary key, values as JSON text (comparable)."""
    metadata = reflected(engine)
    found = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            key = [c.name for c in table.primary_key.columns]
            found[table.name] = {
                tuple(row[k] for k in key): {c: json.dumps(v, default=str, sort_keys=True)
                                             for c, v in row.items()}
                for row in (r._mapping for r in connection.execute(select(table)))}
    return found


def assert_rows_kept(before: dict[str, dict], after: dict[str, dict]) -> None:
    for table, rows in before.items():
        assert table in after, f"table {table} disappeared"
        missing = rows.keys() - after[table].keys()
        assert not missing, f"{table}: rows {sorted(missing)[:5]} lost"
        for key, values in rows.items():
            now = after[table][key]
            changed = {c for c in values.keys() & now.keys() if values[c] != now[c]}
            if table == "cohort_revision" and changed == {"number"}:
                # A migration that fills a cohort's rows moves its revision, as every write
                # does (so pages kept from before it are made again): forward only.
                assert int(now["number"]) > int(values["number"]), f"{table} {key} went back"
                continue
            assert not changed, f"{table} {key}: {changed} changed"
