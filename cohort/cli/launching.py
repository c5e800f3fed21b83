"""`cohort launch`: start a draft cohort's outbox after showing what it will send."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import click
from flask import current_app

from .. import db, services
from ..core.launching import LaunchForecast
from .base import cohort, engine, fail
from .outbox import _parse_now


def overdue_limit() -> timedelta:
    return timedelta(hours=current_app.config["OUTBOX_OVERDUE_LIMIT_HOURS"])


def forecast_lines(forecast: LaunchForecast, timezone: str) -> list[str]:
    """The launch summary, as the launch page shows it."""
    zone = ZoneInfo(timezone)
    days = forecast.horizon.days
    lines = [f"In the next {days} days: {forecast.sending_total} email(s) to "
             f"{forecast.recipients} recipient(s)"]
    for kind in forecast.sending:
        first = kind.first_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        inside = f" (+{kind.bundled} inside other emails)" if kind.bundled else ""
        lines.append(f"  {kind.kind:<22}{kind.emails:>6} to {kind.recipients:>4}, "
                     f"the first at {first}{inside}")
    lines.append(f"Overdue or too late, skipped instead of sent: {forecast.skipped_total}")
    lines.extend(f"  {kind:<22}{count:>6}" for kind, count in forecast.skipped)
    if forecast.skipped_items:
        lines.append("  What is skipped:")
        lines.extend(f"    {item.send_at.astimezone(zone):%Y-%m-%d %H:%M}  {item.kind:<20} "
                     f"{item.emails:>4}  {item.title} ({item.anchor})"
                     for item in forecast.skipped_items)
    lines.append(f"Later than {days} days: {forecast.later} email(s)")
    return lines


@cohort.command("launch")
@click.argument("cohort_id", type=int)
@click.option("--yes", is_flag=True, help="launch without asking")
@click.option("--now", "now_text", help="pretend it is this time (ISO 8601; naive = UTC)")
def launch(cohort_id: int, yes: bool, now_text: str | None) -> None:
    """Launch a draft cohort: print what its outbox will send, ask, then start sending."""
    now = _parse_now(now_text)
    try:
        with db.transaction(engine()) as session:
            found = services.get_cohort(session, cohort_id)
            title, timezone, launched = found.title, found.timezone, found.launched_at
            forecast = None if launched else services.launch_forecast(
                session, cohort_id, now, overdue_limit=overdue_limit())
    except services.NotFound as exc:
        fail(str(exc))
    if launched is not None:
        fail(f"cohort {cohort_id} was launched on {launched:%Y-%m-%d %H:%M} UTC already")
    click.echo(f"Launching cohort {cohort_id}: {title}")
    for line in forecast_lines(forecast, timezone):
        click.echo(line)
    if not yes and not click.confirm("Launch now and start sending?", default=False):
        fail("not launched: the cohort is still a draft")
    try:
        with db.transaction(engine()) as session:
            services.launch_cohort(session, cohort_id, None, now, overdue_limit=overdue_limit())
    except services.AlreadyLaunched as exc:
        fail(str(exc))
    click.echo(f"Cohort {cohort_id} launched: its emails go out from the next outbox pass.")
