"""`cohort db ...`: the schema's migrations (see cohort/db/migrate.py).

`migrate` (and so Alembic, Mako, Pygments) is imported by the commands that use it, not when
the command line starts: every other `cohort` command would wait for it.
"""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from .base import cohort, engine, fail


@cohort.group("db")
def database() -> None:
    """The database schema: apply migrations, show the revision."""


@database.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION (default: the newest); safe to run again."""
    from alembic.util import CommandError

    from ..db import migrate as schema

    try:
        before, after = schema.upgrade(engine(), revision)
    except (CommandError, schema.SchemaError) as exc:
        fail(str(exc))
    except OperationalError as exc:
        fail(f"cannot reach the database: {exc.orig}")
    if before == after:
        click.echo(f"Database already at revision {after}.")
    else:
        click.echo(f"Database upgraded from {before or 'empty'} to revision {after}.")


@database.command("current")
def current() -> None:
    """The database's revision, and whether it is the newest (exit 1 when it is not)."""
    from ..db import migrate as schema

    try:
        revision = schema.current_revision(engine())
    except OperationalError as exc:
        fail(f"cannot reach the database: {exc.orig}")
    head = schema.head_revision()
    if revision == head:
        click.echo(f"{revision} (head)")
        return
    click.echo(f"{revision or 'none'} (newest: {head}; run 'cohort db upgrade')")
    raise SystemExit(1)
