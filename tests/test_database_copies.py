"""The fixtures' database copies (tests/fixtures/database_copies.py): a copy holds exactly what
the first build made, and it never lands on a database that holds rows of its own."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from cohort import db
from cohort.models import User
from tests.fixtures.database_copies import SCHEMA
from tests.fixtures.postgres import PostgresServer

_keys = itertools.count()


@pytest.fixture
def new_engine(database_url, request, tmp_path):
    """Engines on more empty databases of the test's kind, each with the schema."""
    engines = []

    def make(database_copies):
        if database_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'more-{len(engines)}.sqlite3'}"
        else:
            url = request.getfixturevalue("postgres_server").new_database()
        engine = db.make_engine(url)
        engines.append(engine)
        database_copies.give(engine, SCHEMA, db.create_schema)
        return engine
    yield make
    for engine in engines:
        engine.dispose()


def _emails(engine) -> list[str]:
    with db.read_session(engine) as session:
        return list(session.scalars(select(User.email).order_by(User.id)))


def _add_user(engine, email: str) -> None:
    with db.transaction(engine) as session:
        session.add(User(email=email, role="admin", name="", password_hash="-"))


def test_a_copy_is_what_the_first_build_made_and_spares_an_untouched_database_the_build(
        database_copies, new_engine):
    builds = []

    def build(engine) -> int:
        builds.append(engine)
        _add_user(engine, f"built-{len(builds)}@cohort.example")
        return len(builds)

    key = ("test copy", next(_keys))
    first, second, touched = new_engine(database_copies), new_engine(database_copies), \
        new_engine(database_copies)
    assert database_copies.give(first, key, build) == 1
    assert database_copies.give(second, key, build) == 1  # the first build's result
    assert builds == [first]
    assert _emails(first) == _emails(second) == ["built-1@cohort.example"]
    # A database with a row of its own is built into, not overwritten by the copy.
    _add_user(touched, "own@cohort.example")
    assert database_copies.give(touched, key, build) == 2
    assert _emails(touched) == ["own@cohort.example", "built-2@cohort.example"]
    # The schema is left as it is where tables exist already.
    database_copies.give(touched, SCHEMA, db.create_schema)
    assert len(_emails(touched)) == 2


@pytest.mark.slow
def test_a_database_on_a_server_of_a_tests_own_is_built_not_copied(database_copies,
                                                                   postgres_server):
    """Tests that crash a server start their own: a copy on the session's server must not
    stand in for their database (the build runs there, every time)."""
    own = PostgresServer()
    own.start()
    try:
        engines = [db.make_engine(own.new_database()) for _ in range(2)]
        key = ("test own server", next(_keys))
        for engine in engines:
            database_copies.give(engine, SCHEMA, db.create_schema)
            database_copies.give(engine, key, lambda e: _add_user(e, "own@cohort.example"))
            assert _emails(engine) == ["own@cohort.example"]
            engine.dispose()
    finally:
        own.stop()
