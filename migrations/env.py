"""Alembic environment: the app's tables (SQLModel metadata) on the app's database.

`cohort db upgrade` passes its own connection; the plain `alembic` command opens one from
COHORT_DATABASE_URL. What is shared with the test that compares models and migrations lives in
`cohort/db/migrate.py` (type rendering, comparison options, SQLite foreign keys off while
migrating).
"""

from alembic import context

from cohort.db import migrate as schema

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=schema.database_url(), literal_binds=True, **schema.context_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = schema.engine_for_url(schema.database_url())
    try:
        with schema.migration_connection(engine) as connection:
            _migrate(connection)
    finally:
        engine.dispose()


def _migrate(connection) -> None:
    context.configure(connection=connection, **schema.context_options())
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
