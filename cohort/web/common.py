"""Helpers every blueprint uses: the database, the acting user, the programme library."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app
from flask_login import current_user
from sqlmodel import Session

from .. import db
from ..core.programme import Library, load_library
from ..models import utcnow


def engine():
    return current_app.extensions["cohort.engine"]


def transaction():
    """One unit of work for a request (commit at the end of the block, rollback on error)."""
    return db.transaction(engine())


def read_session() -> Session:
    """For reading only (see db.ReadSession): no transaction round trips, writes refused."""
    return db.read_session(engine())


def actor():
    """The signed-in staff member as the services' `actor` (id and email)."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def now() -> datetime:
    """The current time; tests may pin it with app.config['COHORT_NOW']."""
    pinned = current_app.config.get("COHORT_NOW")
    return pinned if pinned is not None else utcnow()


def library() -> Library:
    return load_library(current_app.config["PROGRAMMES_DIR"])


def or_404(value):
    if value is None:
        abort(404)
    return value
