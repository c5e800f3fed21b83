"""The database schema's versions: Alembic migrations in `migrations/`, applied in place.

Deployments create and upgrade their database with the migrations (`cohort db upgrade`, which
`cohort init-db` and `cohort demo` also run), so every database knows its revision and a new
release upgrades it with the data in it. Tests and benchmarks build throwaway schemas with
`db.create_schema` (create_all: faster); tests/db/test_migrate.py proves both give the same
schema on SQLite and PostgreSQL.

SQLite cannot ALTER much, so migrations run in batch mode (copy the table, swap it in); that
drops and recreates tables, and with foreign keys on, dropping a parent table would cascade
into its children. Foreign keys are therefore off while migrating, and checked afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from .. import db
from ..config import instance_path_from_env, settings_from_env
from ..models.types import UTCDateTime

log = logging.getLogger("cohort.db.migrate")
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
# The revision that describes databases made by `create_all` before migrations existed.
FIRST_REVISION = "0001"


class SchemaError(RuntimeError):
    """The database cannot be brought to the wanted revision (the message says why)."""


def alembic_config() -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str:
    """The newest migration. Cached: reading the migration scripts costs milliseconds, and
    /healthz asks on every call; the scripts are part of the release, so a new head comes
    with a restart."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revisions() -> list[str]:
    """Every revision, oldest first."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return [s.revision for s in reversed(list(scripts.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database to `revision`; returns (before, after).

    A database made by `create_all` (tables, but no alembic_version) is adopted first: as the
    newest revision when it matches the models exactly, else as FIRST_REVISION, the schema
    `create_all` made before migrations existed.
    """
    before = current_revision(engine)
    if before is None and inspect(engine).has_table("cohort"):
        before = head_revision() if not differences(engine) else FIRST_REVISION
        log.warning("database without a revision: recording it as %s", before)
        _run(engine, command.stamp, before)
    _run(engine, command.upgrade, revision)
    return before, current_revision(engine)


def differences(engine: Engine) -> list:
    """What autogenerate would change to make the database match the models ([] if nothing)."""
    from alembic.autogenerate import compare_metadata

    options = context_options()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, options["target_metadata"])


def downgrade(engine: Engine, revision: str) -> None:
    """Back to an older revision (for a release that has to be rolled back)."""
    _run(engine, command.downgrade, revision)


def stamp(engine: Engine, revision: str) -> None:
    _run(engine, command.stamp, revision)


def _run(engine: Engine, alembic_command, revision: str) -> None:
    config = alembic_config()
    with migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        alembic_command(config, revision)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection to migrate with, committed at the end (SQLite: foreign keys off meanwhile,
    then checked, so a batch-mode table copy cannot cascade deletes)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # outside any transaction
            connection.commit()
        try:
            yield connection
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(f"foreign keys broken by the migration: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def context_options() -> dict:
    """How Alembic compares and renders our models (env.py and the tests use the same)."""
    from .. import models  # noqa: F401  (registers the tables)

    return dict(target_metadata=SQLModel.metadata, render_as_batch=True, compare_type=True,
                render_item=render_item)


def render_item(type_: str, obj, autogen_context):
    """Migrations describe columns in plain SQLAlchemy types, not our Python wrappers: the
    stored form of UTCDateTime is a timezone-aware DateTime, of AutoString a VARCHAR."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def database_url() -> str:
    """The installation's database (COHORT_DATABASE_URL or instance/cohort.sqlite3), for the
    plain `alembic` command line."""
    return settings_from_env(instance_path_from_env())["DATABASE_URL"]


def engine_for_url(url: str) -> Engine:
    return db.make_engine(url)
