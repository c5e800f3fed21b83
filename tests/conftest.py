"""Shared fixtures: real SQLite files and a real PostgreSQL 15 server started for the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cohort import db
from cohort.app import create_app
from cohort.core.programme import Library, load_library
from tests.fixtures.database_copies import SCHEMA, DatabaseCopies
from tests.fixtures.paths import PROGRAMMES
from tests.fixtures.postgres import PG_BIN, PostgresServer
from tests.fixtures.properties import load_profile

load_profile()  # before any test module builds its Hypothesis settings

pytest_plugins = [
    "tests.fixtures.cohorts", "tests.fixtures.web", "tests.fixtures.browser", "tests.fixtures.smtp",
    "tests.fixtures.report", "tests.fixtures.dispatch",
]


@pytest.fixture(scope="session")
def postgres_server(database_copies) -> Iterator[PostgresServer]:
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL binaries not found in {PG_BIN}")
    server = PostgresServer()
    server.start()
    database_copies.postgres = server  # its copies live on this server, none on others
    yield server
    database_copies.postgres = None
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """Each database test runs twice: on an SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cohort.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.new_database()
    yield url
    server.drop_database(url)


@pytest.fixture(scope="session")
def library() -> Library:
    """The shipped programme templates, loaded once: a Library and its Programmes are frozen,
    and no test changes them (a test that needs other templates loads its own folder)."""
    return load_library(PROGRAMMES)


@pytest.fixture(scope="session")
def database_copies(tmp_path_factory) -> DatabaseCopies:
    """The schema and other starting data, built once and copied (fixtures/database_copies)."""
    return DatabaseCopies(tmp_path_factory.mktemp("database-copies"))


@pytest.fixture
def engine(database_url, database_copies):
    engine = db.make_engine(database_url)
    database_copies.give(engine, SCHEMA, db.create_schema)
    yield engine
    engine.dispose()


@pytest.fixture
def app(database_url, database_copies, tmp_path, monkeypatch):
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "PROGRAMMES_DIR": str(PROGRAMMES),
    })
    database_copies.give(app.extensions["cohort.engine"], SCHEMA, db.create_schema)
    yield app
    app.extensions["cohort.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def pytest_collection_modifyitems(items) -> None:
    """Property tests carry the `property` mark, so `make fuzz` can run just them."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)
