"""Data protection commands: a participant's data export and erasure, and the retention purge."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app

from .. import db
from ..models import utcnow
from ..services import NotFound, privacy
from ..services.materials import MaterialStore
from .base import cohort, engine, fail
from .cohorts import participants


@participants.command("export")
@click.argument("cohort_id", type=int)
@click.argument("email")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="the JSON file to write ('-' for stdout)")
def participants_export(cohort_id: int, email: str, output: str) -> None:
    """Everything stored about a participant, as JSON (their right of access)."""
    try:
        with db.transaction(engine()) as session:
            person = privacy.find_participant(session, cohort_id, email)
            data = privacy.participant_export(session, person, utcnow())
    except NotFound as exc:
        fail(str(exc))
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output == "-":
        click.echo(text)
        return
    Path(output).write_text(text + "\n", encoding="utf-8")
    click.echo(f"Wrote the data of {email} in cohort {cohort_id} to {output}.")


@participants.command("erase")
@click.argument("cohort_id", type=int)
@click.argument("email")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def participants_erase(cohort_id: int, email: str, yes: bool) -> None:
    """Erase a participant's personal data (results and anonymous answers stay)."""
    try:
        with db.transaction(engine()) as session:
            person = privacy.find_participant(session, cohort_id, email)
            if not yes:
                click.confirm(f"Erase the personal data of {person.name} <{person.email}> "
                              f"in cohort {cohort_id}? This cannot be undone", abort=True)
            erased = privacy.erase_participant(session, person, None, utcnow())
    except NotFound as exc:
        fail(str(exc))
    click.echo(f"Erased the personal data of participant {erased.participant_id} in cohort "
               f"{cohort_id}: {erased.emails_cancelled} pending email(s) cancelled, "
               f"{erased.prompt_answers} answer(s) deleted, "
               f"{erased.log_entries_redacted} log entr(ies) redacted.")


@cohort.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=0),
              help="days since a cohort ended (default: COHORT_RETENTION_DAYS)")
@click.option("--dry-run", is_flag=True, help="list the cohorts, change nothing")
def purge(days: int | None, dry_run: bool) -> None:
    """Erase the participants' personal data of cohorts that ended longer ago than DAYS."""
    days = days if days is not None else current_app.config.get("RETENTION_DAYS")
    if days is None:
        fail("give --older-than DAYS or set COHORT_RETENTION_DAYS")
    older_than, now = timedelta(days=days), utcnow()
    with db.transaction(engine()) as session:
        if dry_run:
            found = privacy.cohorts_to_purge(session, older_than, now)
        else:
            found = privacy.purge_ended_cohorts(
                session, older_than, now,
                materials=MaterialStore(current_app.config["MATERIALS_DIR"]))
    verb = "Would erase" if dry_run else "Erased"
    for item in found:
        click.echo(f"{verb} {item.participants} participant(s) of cohort {item.cohort_id} "
                   f"({item.title}), ended {item.ended_at.date().isoformat()}.")
    if not found:
        click.echo(f"No cohort ended more than {days} day(s) ago with personal data left.")
