"""Commands for calendars: .ics files, personal feed links and moving a meeting."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from sqlalchemy import select

from .. import db, services
from ..models import Meeting, utcnow
from .base import cohort, engine, fail, site_base
from .cohorts import date_warning_line

_LOCAL_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})$")


@cohort.command("calendar")
@click.argument("cohort_id", type=int)
@click.option("--participant", "email", help="that participant's calendar (with task deadlines)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="file (default: stdout)")
def calendar(cohort_id: int, email: str | None, output: str | None) -> None:
    """Write a cohort's calendar, or one participant's, as an iCalendar (.ics) file."""
    try:
        with db.transaction(engine()) as session:
            if email:
                document = services.participant_calendar(session, cohort_id, email)
            else:
                document = services.cohort_calendar(session, cohort_id)
    except services.NotFound as exc:
        fail(str(exc))
    if output is None:
        click.echo(document.ics, nl=False)
        return
    try:
        Path(output).write_bytes(document.ics)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    click.echo(f"Wrote {output}", err=True)


@cohort.command("reschedule")
@click.argument("cohort_id", type=int)
@click.argument("meeting_key")
@click.option("--to", "to", required=True, metavar='"YYYY-MM-DD HH:MM"',
              help="new start, local time in the cohort's time zone")
def reschedule(cohort_id: int, meeting_key: str, to: str) -> None:
    """Move a meeting; its tasks, prompts and surveys move along and calendars update."""
    wall = _parse_local(to)
    try:
        with db.transaction(engine()) as session:
            cohort_row = services.get_cohort(session, cohort_id)
            zone_name = cohort_row.timezone
            starts_at = _existing_local_time(wall, zone_name)
            # What the move puts in the past or on a weekend or holiday: the web's preview.
            warnings = services.meetings.preview_reschedule(
                session, cohort_row, meeting_key, starts_at, now=utcnow()).date_warnings
            # No actor: the activity log records the command line as "system".
            plan = services.meetings.reschedule(session, cohort_id, meeting_key, starts_at,
                                                actor=None)
            sequence = session.scalar(select(Meeting.sequence).where(
                Meeting.cohort_id == cohort_id, Meeting.key == meeting_key))
    except (services.NotFound, ValueError) as exc:  # ValueError: a cancelled meeting
        fail(str(exc))
    moved = plan.meeting(meeting_key)
    local = moved.starts_at.astimezone(ZoneInfo(zone_name))
    click.echo(f"Moved {meeting_key} to {local:%a %d %b %Y %H:%M} ({zone_name}); "
               f"calendar SEQUENCE is now {sequence}.")
    for found in warnings:
        click.echo(date_warning_line(found, ZoneInfo(zone_name)), err=True)


def _parse_local(value: str) -> datetime:
    match = _LOCAL_TIME.match(value.strip())
    try:
        if not match:
            raise ValueError
        return datetime.fromisoformat(f"{match.group(1)} {match.group(2).zfill(5)}")
    except ValueError:
        fail(f"'{value}' is not a local time in the form \"YYYY-MM-DD HH:MM\"")


def _existing_local_time(wall: datetime, zone_name: str) -> datetime:
    """The wall-clock time as an aware datetime; a time skipped by a DST change is an error."""
    zone = ZoneInfo(zone_name)
    local = wall.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        fail(f"{wall:%Y-%m-%d %H:%M} does not exist in {zone_name} (the clocks skip it)")
    return local


@cohort.command("calendar-link")
@click.argument("cohort_id", type=int)
@click.argument("email")
@click.option("--renew", is_flag=True, help="make a new link; the old one stops working")
@click.option("--revoke", is_flag=True, help="stop the participant's link")
@click.option("--base-url", help="the site's address (default: COHORT_BASE_URL)")
def calendar_link(cohort_id: int, email: str, renew: bool, revoke: bool,
                  base_url: str | None) -> None:
    """Print a participant's personal calendar subscription link (webcal://)."""
    if renew and revoke:
        fail("choose --renew or --revoke, not both")
    secret = current_app.config["SECRET_KEY"]
    try:
        with db.transaction(engine()) as session:
            participant_id = services.participant_by_email(session, cohort_id, email).id
            if revoke:
                services.revoke_calendar_feed(session, participant_id)
                token = None
            elif renew:
                token = services.renew_calendar_feed(session, participant_id, secret)
            else:
                token = services.calendar_feed_token(session, participant_id, secret)
    except services.NotFound as exc:
        fail(str(exc))
    if revoke:
        click.echo(f"Calendar link of {email} revoked.")
        return
    if token is None:
        fail(f"the calendar link of {email} was revoked; use --renew to make a new one")
    host = site_base(base_url).split("://", 1)[-1]
    click.echo(f"webcal://{host}/calendar/{token}.ics")

