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


def site_base(base_url: str | None = None) -> str:
    """The site's address for links the command line prints: --base-url, else the configured
    COHORT_BASE_URL (config BASE_URL), without a trailing slash."""
    return (base_url or current_app.config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
