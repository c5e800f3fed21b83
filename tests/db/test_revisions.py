"""The cohort revision counter (models/revisions.py): every insert, update and delete of any
table of a cohort's data moves exactly that cohort's counter, on SQLite and PostgreSQL, through
the migrations and through create_schema alike."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, select, text
from sqlmodel import SQLModel

from cohort import db
from cohort.db import migrate as schema
from cohort.db import revisions

from .test_migrate import ROWS_PER_TABLE, _value, fill, reflected


@pytest.fixture
def engine(database_url):
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def installed_triggers(engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        return {name for (name,) in rows}


def counters(engine) -> dict[int, int]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT cohort_id, number FROM cohort_revision")).all())


def test_every_table_of_a_cohorts_data_is_covered():
    """The tables are found from their columns: these are the ones that hold no cohort's data
    (a new table that should be covered and is not would show up here)."""
    paths = revisions.cohort_paths(SQLModel.metadata)
    left_out = set(SQLModel.metadata.tables) - set(paths)
    assert left_out == {"staff_user", "staff_activation", "scheduler_heartbeat",
                        "attempt_count", "cohort_revision"}
    assert paths["delivery"] == ("cohort_id", None)
    assert paths["anonymous_response"] == ("survey_id", "survey")


def test_the_migrations_install_exactly_the_triggers_create_schema_does(database_url, engine):
    expected = revisions.trigger_names(revisions.cohort_paths(SQLModel.metadata))
    schema.upgrade(engine)
    assert installed_triggers(engine) == expected
    other = db.make_engine(database_url.replace("cohort.sqlite3", "other.sqlite3")) \
        if engine.dialect.name == "sqlite" else None
    if other is not None:
        db.create_schema(other)
        assert installed_triggers(other) == expected
        other.dispose()
    schema.downgrade(engine, "0014")
    assert installed_triggers(engine) == set()
    schema.upgrade(engine)
    assert installed_triggers(engine) == expected


def test_a_migrated_database_gives_existing_cohorts_a_counter(engine):
    schema.upgrade(engine, "0014")
    fill(engine, "0014")
    schema.upgrade(engine)
    assert len(counters(engine)) == ROWS_PER_TABLE


def test_each_write_moves_its_own_cohorts_counter_and_no_other(engine):
    """Per table (children before parents): updating, deleting and inserting again a row of the
    second cohort moves the second cohort's counter each time; updating and inserting leave
    the other cohorts' counters alone (a delete may cascade to their rows and move them)."""
    schema.upgrade(engine)
    fill(engine, "head")
    metadata: MetaData = reflected(engine)
    paths = revisions.cohort_paths(SQLModel.metadata)
    cohort_ids = sorted(counters(engine))
    target = cohort_ids[1]
    for table in reversed(metadata.sorted_tables):
        if table.name not in paths or table.name == "cohort":
            continue
        column, parent = paths[table.name]
        key = list(table.primary_key.columns)
        with engine.begin() as connection:
            row = _row_of(connection, table, column, parent, target)
        assert row is not None, table.name
        where = [c == row[c.name] for c in key]
        for write in ("update", "delete", "insert"):
            before = counters(engine)
            with engine.begin() as connection:
                if write == "update":
                    first = next(c for c in table.columns if c not in key)
                    connection.execute(table.update().where(*where)
                                       .values({first.name: row[first.name]}))
                elif write == "delete":
                    connection.execute(table.delete().where(*where))
                else:
                    connection.execute(table.insert().values(dict(row)))
            after = counters(engine)
            assert after[target] > before[target], (table.name, write)
            if write == "delete":  # may cascade to rows of other cohorts that point here
                continue
            assert {c: n for c, n in after.items() if c != target} == \
                {c: n for c, n in before.items() if c != target}, (table.name, write)
    before = counters(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE cohort SET title = 'renamed' WHERE id = :id"),
                           {"id": target})
    assert counters(engine)[target] == before[target] + 1
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM cohort WHERE id = :id"), {"id": target})
    assert target not in counters(engine)


def _row_of(connection, table, column, parent, cohort_id):
    if parent is None:
        query = select(table).where(table.c[column] == cohort_id)
    else:
        owner = reflected(connection.engine).tables[parent]
        query = select(table).where(table.c[column].in_(
            select(owner.c.id).where(owner.c.cohort_id == cohort_id)))
    found = connection.execute(query.limit(1)).first()
    return None if found is None else found._mapping


def test_a_bulk_insert_moves_the_counter_and_a_new_cohort_starts_at_one(engine):
    schema.upgrade(engine)
    sqlite = engine.dialect.name == "sqlite"
    tables = reflected(engine).tables
    cohort, meeting = tables["cohort"], tables["meeting"]
    with engine.begin() as connection:
        connection.execute(cohort.insert().values(
            {c.name: _value(cohort, c, 1, sqlite) for c in cohort.columns}))
    assert counters(engine) == {1: 1}
    rows = [{c.name: _value(meeting, c, 10_000 + i, sqlite) for c in meeting.columns}
            for i in range(2000)]
    for row in rows:
        row["cohort_id"] = 1
    with engine.begin() as connection:
        connection.execute(meeting.insert(), rows)
    assert counters(engine)[1] > 1
