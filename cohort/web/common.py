"""Helpers every blueprint uses: the database, the acting user, the programme library, and the
query-string guard (`plain_query`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path

from flask import abort, current_app, request
from flask_login import current_user
from sqlmodel import Session
from werkzeug.exceptions import BadRequest

from .. import db
from ..core.programme import Library, load_library
from ..core.text import has_control_character
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
    """The programme templates, parsed again only when the folder's files change (one added,
    removed or written: their names, sizes and modification times): parsing every template on
    every request was a third of /cohorts/new's time (15 ms of 45) and most of /programmes/'.
    A Library and its Programmes are frozen, so the kept one is shared by the requests."""
    directory = Path(current_app.config["PROGRAMMES_DIR"])
    stamp = tuple((path.name, status.st_size, status.st_mtime_ns)
                  for path in sorted(directory.glob("*.y*ml")) for status in [path.stat()])
    kept = current_app.extensions.get(_LIBRARY)
    if kept is None or kept[:2] != (directory, stamp):
        kept = (directory, stamp, load_library(directory))
        current_app.extensions[_LIBRARY] = kept
    return kept[2]


_LIBRARY = "cohort.library"


def or_404(value):
    if value is None:
        abort(404)
    return value


class ControlCharacterInAddress(BadRequest):
    """400 for a query string with a control character (`plain_query`); its page says so."""


def plain_query(view: Callable) -> Callable:
    """Refuse, with a 400 that says why, a request whose query string holds a control
    character (NUL, CR, LF, ESC, tab, DEL, ...: `core.text.CONTROL_CHARACTERS`) in any name or
    value, before the view runs.

    For every view whose query values can end up in a header (a redirect's Location, a
    download's name), a calendar line or a spreadsheet cell: the house rule is that no control
    character gets there, and no link this site makes carries one, so such a request is bad
    input, not something to clean up and go on with. Views whose query values only choose or
    filter what a page shows (the landing pages' search) need not use it.
    """
    @wraps(view)
    def checked(*args, **kwargs):
        if any(has_control_character(name) or has_control_character(value)
               for name, value in request.args.items(multi=True)):
            raise ControlCharacterInAddress()
        return view(*args, **kwargs)
    return checked
