"""The triggers that move a cohort's revision (models/revisions.py) on every write to its data.

Every table that holds a cohort's data says which cohort a row belongs to: its own `cohort_id`,
or the cohort of the participant, survey, meeting or group it refers to (`cohort_paths`,
worked out from the tables themselves, so a new table is covered without a list to forget).
After any insert, update or delete the database adds one to that cohort's counter:

- SQLite: a row trigger per table and operation (a few hundred nanoseconds a row).
- PostgreSQL: a statement trigger with transition tables, so a bulk insert of a thousand rows
  moves the counter once. A statement locks the counters it moves in cohort order, so two
  statements that move the same cohorts wait for each other instead of deadlocking. (Two
  transactions that each write two cohorts, one statement a cohort, in opposite orders can
  still deadlock, as they could on the rows they write; PostgreSQL then aborts one.)

A new cohort gets its counter from its own insert. Migrations install the triggers for the
tables they create (`install`), `create_schema` for all of them.
"""

from __future__ import annotations

from sqlalchemy import MetaData, Table, text
from sqlalchemy.engine import Connection

REVISION_TABLE = "cohort_revision"
# Where a row names the cohort through another table: the column and the table it points to.
PARENTS = (("participant_id", "participant"), ("survey_id", "survey"),
           ("meeting_id", "meeting"), ("group_id", "cohort_group"))
OPERATIONS = ("insert", "update", "delete")


def cohort_paths(metadata: MetaData) -> dict[str, tuple[str, str | None]]:
    """Per table of a cohort's data: (column, None) when the column holds the cohort's id,
    (column, parent table) when it holds the id of a row of the parent that does."""
    paths: dict[str, tuple[str, str | None]] = {}
    for table in metadata.sorted_tables:
        path = _path(table)
        if path is not None and table.name != REVISION_TABLE:
            paths[table.name] = path
    return paths


def _path(table: Table) -> tuple[str, str | None] | None:
    if table.name == "cohort":
        return ("id", None)
    if "cohort_id" in table.c:
        return ("cohort_id", None)
    for column, parent in PARENTS:
        if column in table.c:
            return (column, parent)
    return None


def trigger_names(paths: dict[str, tuple[str, str | None]]) -> set[str]:
    """The names `install` gives (the cohort's own delete needs none: its counter cascades)."""
    return {_trigger_name(table, operation) for table in paths for operation in OPERATIONS
            if not (table == "cohort" and operation == "delete")}


def install(connection: Connection, paths: dict[str, tuple[str, str | None]]) -> None:
    statements = (_postgresql_ddl if connection.dialect.name == "postgresql" else _sqlite_ddl)
    for table, (column, parent) in paths.items():
        for statement in statements(table, column, parent):
            connection.execute(text(statement))


def uninstall(connection: Connection, paths: dict[str, tuple[str, str | None]]) -> None:
    postgresql = connection.dialect.name == "postgresql"
    for table in paths:
        for name in sorted(trigger_names({table: paths[table]})):
            connection.execute(text(f'DROP TRIGGER IF EXISTS {name}'
                                    + (f' ON "{table}"' if postgresql else "")))
        if postgresql:
            connection.execute(text(f"DROP FUNCTION IF EXISTS {_function_name(table)}()"))


def _trigger_name(table: str, operation: str) -> str:
    return f"{REVISION_TABLE}_{table}_{operation}"


def _function_name(table: str) -> str:
    return f"{REVISION_TABLE}_after_{table}"


def _sqlite_ddl(table: str, column: str, parent: str | None) -> list[str]:
    def cohort_of(row: str) -> str:
        if parent is None:
            return f"{row}.{column}"
        return f'(SELECT cohort_id FROM "{parent}" WHERE id = {row}.{column})'

    def bump(where: str) -> str:
        return f'UPDATE {REVISION_TABLE} SET number = number + 1 WHERE cohort_id {where};'

    if table == "cohort":
        bodies = {"insert": f"INSERT INTO {REVISION_TABLE} (cohort_id, number) "
                            "VALUES (NEW.id, 1);",
                  "update": bump("= NEW.id")}
    else:
        bodies = {"insert": bump(f"= {cohort_of('NEW')}"),
                  "update": bump(f"IN ({cohort_of('OLD')}, {cohort_of('NEW')})"),
                  "delete": bump(f"= {cohort_of('OLD')}")}
    return [f'CREATE TRIGGER IF NOT EXISTS {_trigger_name(table, operation)} '
            f'AFTER {operation.upper()} ON "{table}" FOR EACH ROW BEGIN {body} END'
            for operation, body in bodies.items()]


def _postgresql_ddl(table: str, column: str, parent: str | None) -> list[str]:
    def cohorts_in(rows: str) -> str:
        if parent is None:
            return f"SELECT changed.{column} FROM {rows} AS changed"
        return (f'SELECT owner.cohort_id FROM "{parent}" AS owner '
                f"JOIN {rows} AS changed ON owner.id = changed.{column}")

    def bump(rows: str) -> str:
        # Lock the counters in cohort order first: no deadlock between two writers.
        return (f"UPDATE {REVISION_TABLE} AS revision SET number = revision.number + 1 "
                f"FROM (SELECT cohort_id FROM {REVISION_TABLE} WHERE cohort_id IN "
                f"({cohorts_in(rows)}) ORDER BY cohort_id FOR UPDATE) AS locked "
                "WHERE revision.cohort_id = locked.cohort_id;")

    both = f"(SELECT {column} FROM old_rows UNION SELECT {column} FROM new_rows)"
    if table == "cohort":
        on_insert = (f"INSERT INTO {REVISION_TABLE} (cohort_id, number) "
                     "SELECT id, 1 FROM new_rows;")
        on_delete = "NULL;"
    else:
        on_insert, on_delete = bump("new_rows"), bump("old_rows")
    function = (f"CREATE OR REPLACE FUNCTION {_function_name(table)}() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                f"IF TG_OP = 'INSERT' THEN {on_insert} "
                f"ELSIF TG_OP = 'DELETE' THEN {on_delete} "
                f"ELSE {bump(both)} END IF; RETURN NULL; END $$")
    transitions = {"insert": "NEW TABLE AS new_rows",
                   "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                   "delete": "OLD TABLE AS old_rows"}
    operations = ("insert", "update") if table == "cohort" else OPERATIONS
    return [function] + [
        f'CREATE OR REPLACE TRIGGER {_trigger_name(table, operation)} '
        f'AFTER {operation.upper()} ON "{table}" REFERENCING {transitions[operation]} '
        f"FOR EACH STATEMENT EXECUTE FUNCTION {_function_name(table)}()"
        for operation in operations]
