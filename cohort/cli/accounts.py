"""Commands for staff accounts."""

from __future__ import annotations

import sys

import click

from .. import db
from ..models import STAFF_ROLES
from ..services import accounts
from .base import cohort, engine, fail


def _read_password(password_stdin: bool) -> str:
    """From stdin (one line, for scripts) or an interactive prompt asked twice."""
    if password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@cohort.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([str(r) for r in STAFF_ROLES]))
@click.option("--name", default="", help="the person's name, shown in the activity log")
@click.option("--password-stdin", is_flag=True,
              help="read the password from the first line of stdin (also when not a terminal)")
def create_user(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create a staff account; asks for the password (at least 10 characters)."""
    from ..db import migrate as schema  # here: Alembic is for the few commands that migrate

    schema.upgrade(engine())
    password = _read_password(password_stdin)
    try:
        with db.transaction(engine()) as session:
            user = accounts.create_user(session, email, role, password, name=name)
    except accounts.AccountError as exc:
        fail(str(exc))
    click.echo(f"Created {user.role} {user.email}.")


@cohort.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="read the password from stdin")
def set_password(email: str, password_stdin: bool) -> None:
    """Give a staff account a new password (signs it out everywhere)."""
    password = _read_password(password_stdin)
    try:
        with db.transaction(engine()) as session:
            user = accounts.find_user(session, email)
            if user is None:
                fail(f"there is no account for {email}")
            accounts.set_password(session, user, password)
    except accounts.AccountError as exc:
        fail(str(exc))
    click.echo(f"New password set for {email}.")


@cohort.command("users")
def list_users() -> None:
    """Every staff account: role, email, active."""
    with db.transaction(engine()) as session:
        for user in accounts.list_users(session):
            state = "" if user.active else "\t(inactive)"
            click.echo(f"{user.role}\t{user.email}{state}")
