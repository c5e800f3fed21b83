"""The `cohort` command group and helpers shared by its command modules."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

cohort = AppGroup("cohort", help="Run blended leadership programmes.")


def engine():
    return current_app.extensions["cohort.engine"]


def fail(message: str) -> NoReturn:
    """Print a clear error and exit 1: the CLI's answer to bad input, never a traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)
