"""The `cohort` command line (also available as `flask --app wsgi cohort ...`).

The console script `cohort` is `cohort.app:main` (it makes the app, then runs this group).
Command names and JSON shapes are a contract that other tools and checks rely on. Each module
here adds its commands to the one `cohort` group.
"""

from __future__ import annotations

from . import (  # noqa: F401  (registers commands)
    accounts,
    attendance,
    calendars,
    cohorts,
    database,
    grouping,
    launching,
    outbox,
    privacy,
    reporting,
    surveys,
)
from .base import cohort

__all__ = ["cohort"]
