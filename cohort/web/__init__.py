"""Blueprints: parse input, call services, render. `register_web` wires them into the app."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

# The largest id a database column holds on every engine (PostgreSQL's integer; SQLite's go to
# 2^63 - 1): a larger number in a URL is no row, whatever the engine.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: 0 to MAX_ID, else the URL matches nothing (404).

    Without it /cohorts/99999999999 reached the database, which refused the number (a 500:
    "integer out of range" on PostgreSQL, OverflowError past 2^63 on SQLite).
    """

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_web(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter  # before any route is added
    from . import (
        about,
        account,
        admin,
        attendance,
        auth,
        calendars,
        cohorts,
        evaluation,
        formatting,
        groups,
        health,
        materials,
        meetings,
        outbox,
        participant,
        participant_attendance,  # noqa: F401  (its routes are on participant.bp)
        participant_buddy,  # noqa: F401
        participant_calendar,  # noqa: F401
        participant_materials,  # noqa: F401
        participant_surveys,  # noqa: F401
        participants,
        programmes,
        progress,
        reports,
    )
    from .access import init_access
    from .page_cache import init_page_cache
    from .security import init_security

    init_security(app)
    auth.init_auth(app)
    init_access(app)
    for blueprint in (auth.bp, account.bp, admin.bp, programmes.bp, cohorts.bp,
                      participants.bp, meetings.bp, calendars.bp, outbox.bp, participant.bp,
                      evaluation.bp, attendance.bp, reports.bp, groups.bp, health.bp, about.bp,
                      progress.bp, materials.bp):
        app.register_blueprint(blueprint)
    formatting.init_formatting(app)
    init_page_cache(app)
