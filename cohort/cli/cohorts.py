"""Commands for programmes, cohorts and participants."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app

from .. import db, services
from ..core.cohort_fields import TITLE_MAX, date_window, is_time_zone, title_problem
from ..core.date_warnings import PAST, WEEKEND, DateWarning
from ..core.participants import WEB_ROWS_MAX, ParticipantImportError, parse_participant_list
from ..core.programme import ProgrammeError, load_library, load_programme_file
from ..core.text import CONTROL_CHARACTER, TOO_LONG
from ..models import utcnow
from .base import cohort
from .base import engine as _engine
from .base import fail as _fail

# The web form takes WEB_ROWS_MAX people a file; the command line, run by whoever runs the
# server, may take more at once.
CLI_ROWS_MAX = 20_000
MAX_ROWS_OPTION = click.option(
    "--max-rows", type=click.IntRange(1), default=CLI_ROWS_MAX, show_default=True,
    help=f"refuse a participant file with more rows (the web form allows {WEB_ROWS_MAX})")


# The command line may record a cohort that ran years ago (the web form: one year back).
CLI_YEARS_BACK = 10


def _library():
    return load_library(current_app.config["PROGRAMMES_DIR"])


@cohort.command("init-db")
def init_db() -> None:
    """Create the database tables, or upgrade them to the newest revision (safe to run again)."""
    from ..db import migrate as schema

    _before, after = schema.upgrade(_engine())
    click.echo(f"Database ready (revision {after}).")


@cohort.group("programmes")
def programmes() -> None:
    """Programme templates in programmes/."""


@programmes.command("list")
def programmes_list() -> None:
    """Every programme template, and the broken ones with their errors."""
    library = _library()
    for programme in library.programmes.values():
        click.echo(f"{programme.id}\t{programme.language}\t{len(programme.meetings)} meetings\t"
                   f"{programme.title}")
    for name, error in library.broken.items():
        click.echo(f"BROKEN {name}: {len(error.errors)} error(s); run 'cohort programmes check'",
                   err=True)


@programmes.command("check")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
def programmes_check(paths: tuple[str, ...]) -> None:
    """Validate templates (all of programmes/ when no PATH is given); exit 1 on any error."""
    files = [Path(p) for p in paths] or sorted(
        Path(current_app.config["PROGRAMMES_DIR"]).glob("*.y*ml"))
    failed = 0
    for path in files:
        try:
            programme = load_programme_file(path, str(path))
        except FileNotFoundError:
            click.echo(f"{path}: no such file", err=True)
            failed += 1
        except ProgrammeError as exc:
            for error in exc.errors:
                click.echo(str(error), err=True)
            failed += 1
        else:
            click.echo(f"{path}: ok ({programme.id}, {len(programme.meetings)} meetings)")
    if failed or not files:
        sys.exit(1)


@cohort.command("create")
@click.option("--programme", "programme_id", required=True, help="programme id")
@click.option("--start", required=True, help="start date, YYYY-MM-DD")
@click.option("--title")
@click.option("--timezone")
@click.option("--language", type=click.Choice(["da", "nb", "en"]))
@click.option("--participants", "participants_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--launch", "launch_now", is_flag=True,
              help="launch at once (otherwise a draft: nothing is sent until `cohort launch`)")
@MAX_ROWS_OPTION
def create(programme_id, start, title, timezone, language, participants_file,
           launch_now, max_rows) -> None:
    """Create a draft cohort from a programme and print its id (see `cohort launch`)."""
    library = _library()
    if programme_id not in library.programmes:
        known = ", ".join(library.programmes) or "none"
        broken = f"; broken templates: {', '.join(library.broken)}" if library.broken else ""
        _fail(f"no programme '{programme_id}' (known: {known}){broken}")
    programme = library.programmes[programme_id]
    start_date = _parse_date(start)
    _check_new_cohort(title, timezone, start_date, date.today())
    rows = []
    if participants_file:
        rows = _read_participants(participants_file, language or programme.language,
                                  max_rows)
    new = services.NewCohort(programme, library.sources[programme_id], start_date, title,
                             timezone, language)
    limit = timedelta(hours=current_app.config["OUTBOX_OVERDUE_LIMIT_HOURS"])
    now = utcnow()
    with db.transaction(_engine()) as session:
        created = services.create_cohort_as(session, new, None, participants=rows, now=now)
        late = services.date_checks.late_start(session, created.id, now, overdue_limit=limit)
        # Every date of the new plan on a weekend or holiday (what is already too late to
        # send is listed below too).
        ahead = services.date_checks.upcoming_warnings(session, created.id, None)
        zone = ZoneInfo(created.timezone)
        if launch_now:
            services.launch_cohort(session, created.id, None, now, overdue_limit=limit)
    for found in ahead.warnings:
        click.echo(date_warning_line(found, zone), err=True)
    for line in late_lines(late, zone):
        click.echo(line, err=True)
    click.echo(created.id)


def _check_new_cohort(title: str | None, timezone: str | None, start: date,
                      today: date) -> None:
    """The web form's checks (core.cohort_fields), with the reason in the message."""
    problem = title_problem(title) if title is not None else None
    if problem == CONTROL_CHARACTER:
        _fail("the title must be one line, without line breaks or other control characters")
    if problem == TOO_LONG:
        _fail(f"the title is {len(title)} characters long; at most {TITLE_MAX}")
    if title is not None and not title.strip():
        _fail("the title is empty; leave --title out for the programme's title and the date")
    if timezone is not None and not is_time_zone(timezone):
        _fail(f"'{timezone[:60]}' is not a time zone such as Europe/Copenhagen")
    first, last = date_window(today, years_back=CLI_YEARS_BACK)
    if not first <= start <= last:
        _fail(f"the start date must be between {first.isoformat()} and {last.isoformat()}")


def date_warning_line(found: DateWarning, zone: ZoneInfo) -> str:
    """One `core.date_warnings` warning for the terminal (English, like the rest of the CLI)."""
    why = {PAST: "already past", WEEKEND: "a weekend day"}.get(
        found.code, f"a public holiday: {found.holiday}")
    return (f"Warning: {found.item} {found.key} {found.field.removesuffix('_at')} "
            f"{found.at.astimezone(zone):%Y-%m-%d %H:%M}: {why}")


def late_lines(late, zone: ZoneInfo) -> list[str]:
    """What a late cohort skips for every participant, one email per line."""
    if not late.skipped_items:
        return []
    lines = [f"Already too late, skipped instead of sent: {len(late.skipped_items)} planned "
             "email(s), each to every participant (digests to the facilitator):"]
    lines += [f"  {item.send_at.astimezone(zone):%Y-%m-%d %H:%M}  {item.kind:<20} "
              f"{item.title} ({item.anchor})" for item in late.skipped_items]
    return lines


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"'{value}' is not a date in the form YYYY-MM-DD")
        raise


def _read_participants(path: str, language: str, max_rows: int):
    try:
        return parse_participant_list(Path(path).read_bytes(), language, max_rows=max_rows)
    except ParticipantImportError as exc:
        _report_import_errors(path, exc)


def _report_import_errors(path: str, exc: ParticipantImportError) -> None:
    for error in exc.errors:
        click.echo(f"{path}: {error}", err=True)
    _fail(f"{len(exc.errors)} problem(s) in {path}; nothing was imported")


@cohort.group("participants")
def participants() -> None:
    """Participants of a cohort."""


@participants.command("import")
@click.argument("cohort_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@MAX_ROWS_OPTION
def participants_import(cohort_id: int, file: str, max_rows: int) -> None:
    """Add the participants in an Excel workbook (.xlsx, its first sheet) or a CSV file
    (name, email, organisation, role, language)."""
    try:
        with db.transaction(_engine()) as session:
            rows = services.import_participants(
                session, cohort_id, Path(file).read_bytes(), max_rows=max_rows,
                overdue_limit=timedelta(hours=current_app.config["OUTBOX_OVERDUE_LIMIT_HOURS"]))
    except ParticipantImportError as exc:
        _report_import_errors(file, exc)
    except services.NotFound as exc:
        _fail(str(exc))
    click.echo(f"Imported {len(rows)} participant(s) into cohort {cohort_id}.")


@cohort.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_cohorts(as_json: bool) -> None:
    """Every cohort."""
    with db.transaction(_engine()) as session:
        cohorts = services.list_cohorts(session)
    rows = [dict(id=c.id, title=c.title, programme=c.programme_id, start=c.start_date.isoformat(),
                 state=c.state) for c in cohorts]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']}\t{row['start']}\t{row['programme']}\t{row['title']}")


@cohort.command("show")
@click.argument("cohort_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def show(cohort_id: int, as_json: bool) -> None:
    """One cohort: meetings, participants, tasks, prompts, groups and deliveries."""
    try:
        with db.transaction(_engine()) as session:
            data = services.cohort_as_dict(session, services.get_cohort(session, cohort_id))
    except services.NotFound as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{data['title']} ({data['programme']}, {data['timezone']}): {data['state']}")
    for m in data["meetings"]:
        starts = datetime.fromisoformat(m["starts_at"]).strftime("%a %d %b %Y %H:%M")
        click.echo(f"  {starts}  {m['kind']:<9} {m['title']}")
    click.echo(f"{len(data['participants'])} participants, {len(data['tasks'])} tasks, "
               f"{len(data['prompts'])} prompts, {len(data['surveys'])} surveys, "
               f"{len(data['deliveries'])} deliveries")


@cohort.command("demo")
def demo() -> None:
    """Create the database and a demo cohort, unless there are cohorts already."""
    from ..db import migrate as schema
    from ..demo import load_demo

    schema.upgrade(_engine())
    demo_cohorts = load_demo(_engine(), current_app.config["PROGRAMMES_DIR"])
    if demo_cohorts is None:
        click.echo("The database already has cohorts; demo not loaded again.")
    else:
        click.echo(f"Demo cohorts created: {demo_cohorts.running} (running), "
                   f"{demo_cohorts.finished} (finished).")
    with db.transaction(_engine()) as session:
        user, password = services.accounts.ensure_demo_facilitator(session)
        email = user.email
    if password:
        click.echo(f"Facilitator login: {email}  password: {password}")
    else:
        click.echo(f"Facilitator login: {email} (password as printed when it was created; "
                   f"new one: cohort set-password {email})")
