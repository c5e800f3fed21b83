"""Shared fixtures: real SQLite files and a real PostgreSQL 15 server started for the run."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cohort import db
from cohort.app import create_app
from cohort.core.programme import Library, load_library
from tests.fixtures.paths import PROGRAMMES
from tests.fixtures.properties import load_profile

load_profile()  # before any test module builds its Hypothesis settings

PG_BIN = Path(os.environ.get("COHORT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))

pytest_plugins = [
    "tests.fixtures.cohorts", "tests.fixtures.web", "tests.fixtures.browser", "tests.fixtures.smtp",
    "tests.fixtures.report", "tests.fixtures.dispatch",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A throwaway cluster in a temporary folder (initdb refuses root, so run as postgres)."""

    def __init__(self, synchronous_commit: bool = False) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="cohort-pg-"))
        self.port = _free_port()
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._counter = itertools.count(1)
        # Off for speed in the shared server; on (PostgreSQL's default, as in production) for
        # tests that crash the server and count what its commits kept.
        self.synchronous_commit = synchronous_commit

    def start(self) -> None:
        if self._as_user:
            shutil.chown(self.dir, "postgres")
        self._run(PG_BIN / "initdb", "-D", self.dir / "data", "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        self._start_server()

    def _start_server(self) -> None:
        synchronous = "on" if self.synchronous_commit else "off"
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c synchronous_commit={synchronous} -c full_page_writes=off")
        self._run(PG_BIN / "pg_ctl", "-D", self.dir / "data", "-l", self.dir / "log", "-w",
                  "-t", "30", "start", "-o", options)

    def crash(self) -> None:
        """Stop the server the hard way (like a crash: no shutdown checkpoint)."""
        self._run(PG_BIN / "pg_ctl", "-D", self.dir / "data", "-m", "immediate", "-w", "stop")

    def start_again(self) -> None:
        """Start a crashed server on the same port; it recovers from its write-ahead log."""
        self._start_server()

    def stop(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.dir / "data", "-m", "immediate", "-w", "stop",
                  check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        name = f"cohort_test_{next(self._counter)}"
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Tests leave nothing behind: stopping a cluster with many databases is slow."""
        name = url.rsplit("/", 1)[1]
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def _run(self, *args, check: bool = True) -> None:
        subprocess.run([*self._as_user, *map(str, args)], check=check, capture_output=True,
                       timeout=60)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL binaries not found in {PG_BIN}")
    server = PostgresServer()
    server.start()
    yield server
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


@pytest.fixture
def engine(database_url):
    engine = db.make_engine(database_url)
    db.create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "PROGRAMMES_DIR": str(PROGRAMMES),
    })
    db.create_schema(app.extensions["cohort.engine"])
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
