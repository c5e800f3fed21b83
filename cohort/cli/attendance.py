"""`cohort attendance ...`: see, record, import and export attendance.

    cohort attendance COHORT [--json] [--min-group N]         (short for `attendance show`)
    cohort attendance import COHORT MEETING_KEY FILE [--min-percent 50] [--confirm-names]
                                                             [--dry-run] [--force]
    cohort attendance mark COHORT MEETING_KEY STATE EMAIL... [--note TEXT]
    cohort attendance code COHORT MEETING_KEY [--renew]
    cohort attendance export COHORT --output FILE.csv|FILE.xlsx
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from .. import db, services
from ..core.attendance import DEFAULT_MIN_GROUP, STATES, AttendanceError, Mark, format_code
from ..core.attendance_import import DEFAULT_MIN_PERCENT, ImportRefused
from ..core.participants import normalise_email
from ..core.teams_attendance import TeamsReportError
from .base import cohort, engine, fail


class _ShowByDefault(AppGroup):
    """`attendance 3 --json` means `attendance show 3 --json`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@cohort.group("attendance", cls=_ShowByDefault)
def attendance() -> None:
    """Attendance per meeting and participant; `attendance COHORT` shows it."""


@attendance.command("show")
@click.argument("cohort_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.option("--min-group", type=click.IntRange(min=1), default=DEFAULT_MIN_GROUP,
              show_default=True, help="report figures about fewer people are suppressed")
def show(cohort_id: int, as_json: bool, min_group: int) -> None:
    """Attendance per meeting and per participant, and who has missed two or more."""
    try:
        with db.transaction(engine()) as session:
            data = services.attendance_as_dict(session, cohort_id, min_group)
    except services.NotFound as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo("Meetings:")
    for m in data["meetings"]:
        if not m["recorded"]:
            click.echo(f"  {m['key']:<12} not recorded")
            continue
        rate = ("suppressed" if m["suppressed"] else
                f"{m['rate']:.0%}" if m["rate"] is not None else "-")
        click.echo(f"  {m['key']:<12} present {m['present']:>3}  absent {m['absent']:>3}  "
                   f"excused {m['excused']:>3}  unmarked {m['unmarked']:>3}  rate {rate}")
    click.echo("Participants:")
    for p in data["participants"]:
        flag = "  FOLLOW UP" if p["follow_up"] else ""
        missed = f"  missed: {', '.join(p['missed'])}" if p["missed"] else ""
        click.echo(f"  {p['name']} <{p['email']}>  present {p['present']}{missed}{flag}")
    if data["distribution"] is not None:
        spread = ", ".join(f"{d['attended']}: {d['participants']}"
                           for d in data["distribution"])
        click.echo(f"Meetings attended (count of participants): {spread}")


@attendance.command("import")
@click.argument("cohort_id", type=int)
@click.argument("meeting_key")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--min-percent", type=click.FloatRange(0, 100), default=DEFAULT_MIN_PERCENT,
              show_default=True, help="share of the meeting that counts as present")
@click.option("--confirm-names", is_flag=True,
              help="apply the matches made by name (listed without this flag)")
@click.option("--dry-run", is_flag=True, help="show what would be recorded; save nothing")
@click.option("--force", is_flag=True, help="import a report dated another day")
def import_report(cohort_id: int, meeting_key: str, file: str, min_percent: float,
                  confirm_names: bool, dry_run: bool, force: bool) -> None:
    """Record attendance from a Teams attendance report (.csv, UTF-16 or UTF-8)."""
    data = Path(file).read_bytes()
    try:
        with db.transaction(engine()) as session:
            if dry_run:
                preview = services.preview_teams_import(
                    session, cohort_id, meeting_key, data, min_percent, confirm_names)
                written = None
            else:
                outcome = services.apply_teams_import(
                    session, cohort_id, meeting_key, data, filename=Path(file).name,
                    min_percent=min_percent, confirmed_lines=confirm_names,
                    allow_other_date=force, recorded_by="cli")
                preview, written = outcome.preview, outcome.result
    except TeamsReportError as exc:
        fail(f"{file}: {exc}; nothing was imported")
    except (ImportRefused, AttendanceError) as exc:
        fail(f"{exc}; nothing was imported")
    except services.NotFound as exc:
        fail(str(exc))
    _report_import(preview, written, dry_run)


def _report_import(preview, written, dry_run: bool) -> None:
    plan, people = preview.plan, preview.participants
    minutes = round(plan.threshold.total_seconds() / 60)
    click.echo(f"{preview.report.layout} report, {len(preview.report.attendees)} attendee(s); "
               f"present from {minutes} min of {round(plan.meeting_length.total_seconds() / 60)}")
    for warning in plan.warnings:
        click.echo(f"Warning: {warning}", err=True)
    states = {s: sum(1 for pid, m in plan.marks.items() if m.state == s
                     and pid not in preview.kept) for s in STATES}
    verb = "Would record" if dry_run else "Recorded"
    click.echo(f"{verb}: " + ", ".join(f"{n} {s}" for s, n in states.items() if n))
    for pid, row in preview.kept.items():
        click.echo(f"Kept ({row.source}): {people[pid].name} is {row.state}")
    for match in plan.to_confirm:
        person = people[match.participant_id]
        click.echo(f"To confirm (line {match.line}): '{match.attendee.name}' may be "
                   f"{person.name} <{person.email}>; run again with --confirm-names")
    for match in plan.unmatched:
        email = f" <{match.attendee.email}>" if match.attendee.email else ""
        why = " (several participants have this name)" if match.candidates else ""
        click.echo(f"Unmatched (line {match.line}): {match.attendee.name}{email}{why}")
    if written is not None and (written.catch_ups_created or written.catch_ups_cancelled):
        click.echo(f"Catch-up emails: {written.catch_ups_created} queued, "
                   f"{written.catch_ups_cancelled} cancelled")


@attendance.command("mark")
@click.argument("cohort_id", type=int)
@click.argument("meeting_key")
@click.argument("state", type=click.Choice([*STATES, "clear"]))
@click.argument("emails", nargs=-1, required=True)
@click.option("--note", default="", help="e.g. the reason for an excused absence")
def mark(cohort_id: int, meeting_key: str, state: str, emails: tuple[str, ...],
         note: str) -> None:
    """Record one state for the participants with these emails (or clear their marks)."""
    try:
        with db.transaction(engine()) as session:
            sheet = services.meeting_sheet(session, cohort_id, meeting_key)
            by_email = {row.participant.email: row.participant.id for row in sheet.rows}
            unknown = [e for e in emails if normalise_email(e) not in by_email]
            if unknown:
                fail(f"not in cohort {cohort_id}: {', '.join(unknown)}; nothing was recorded")
            value = None if state == "clear" else Mark(state, note)
            result = services.set_marks(
                session, cohort_id, meeting_key,
                {by_email[normalise_email(e)]: value for e in emails}, recorded_by="cli")
    except AttendanceError as exc:
        fail(f"{exc}; nothing was recorded")
    except services.NotFound as exc:
        fail(str(exc))
    click.echo(f"{len(result.changed)} mark(s) changed; catch-up emails: "
               f"{result.catch_ups_created} queued, {result.catch_ups_cancelled} cancelled")


@attendance.command("code")
@click.argument("cohort_id", type=int)
@click.argument("meeting_key")
@click.option("--renew", is_flag=True, help="replace the code (e.g. if it was shared)")
def code(cohort_id: int, meeting_key: str, renew: bool) -> None:
    """The check-in code to show in the room."""
    try:
        with db.transaction(engine()) as session:
            value = services.check_in_code(session, cohort_id, meeting_key, "cli", renew)
    except services.NotFound as exc:
        fail(str(exc))
    click.echo(format_code(value))


@attendance.command("export")
@click.argument("cohort_id", type=int)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="FILE.csv or FILE.xlsx")
def export(cohort_id: int, output: str) -> None:
    """Write attendance (participants x meetings) to CSV or Excel."""
    suffix = Path(output).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        fail(f"'{output}': the file name must end in .csv or .xlsx")
    try:
        with db.transaction(engine()) as session:
            make = (services.export_attendance_csv if suffix == ".csv"
                    else services.export_attendance_xlsx)
            data = make(session, cohort_id)
    except services.NotFound as exc:
        fail(str(exc))
    Path(output).write_bytes(data)
    click.echo(f"Wrote {output}")
