"""Blueprints: parse input, call services, render. `register_web` wires them into the app."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
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
        meetings,
        outbox,
        participant,
        participant_attendance,  # noqa: F401  (its routes are on participant.bp)
        participant_calendar,  # noqa: F401
        participant_surveys,  # noqa: F401
        participants,
        programmes,
        reports,
    )
    from .access import init_access
    from .security import init_security

    init_security(app)
    auth.init_auth(app)
    init_access(app)
    for blueprint in (auth.bp, account.bp, admin.bp, programmes.bp, cohorts.bp,
                      participants.bp, meetings.bp, calendars.bp, outbox.bp, participant.bp,
                      evaluation.bp, attendance.bp, reports.bp, groups.bp, health.bp, about.bp):
        app.register_blueprint(blueprint)
    formatting.init_formatting(app)
