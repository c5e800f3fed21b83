"""Commands for the outbox, the scheduler, personal links and the facilitator digest."""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from .. import db, services
from ..mail.compose import Undeliverable
from ..mail.transport import MailConfigError
from ..models import utcnow
from .base import cohort, engine, fail, site_base
from .cohorts import participants


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"'{value}' is not a time such as 2025-04-08T09:00 or 2025-04-08T09:00+02:00")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@cohort.command("send-due")
@click.option("--now", "now_text", help="pretend it is this time (ISO 8601; naive = UTC)")
@click.option("--cohort", "cohort_id", type=int, help="only this cohort")
@click.option("--limit", type=int, help="send at most this many")
@click.option("--json", "as_json", is_flag=True)
def send_due(now_text, cohort_id, limit, as_json) -> None:
    """Send every delivery that is due, once (the scheduler runs the same pass)."""
    from ..mail.dispatch import send_due as run_pass

    try:
        report = run_pass(now=_parse_now(now_text), cohort_id=cohort_id, limit=limit)
    except MailConfigError as exc:
        fail(f"COHORT_MAIL_URL: {exc}")
    if as_json:
        click.echo(json.dumps(report.__dict__, indent=2))
    else:
        click.echo(report.summary())
        for error in report.errors:
            click.echo(f"failed: {error}", err=True)


@cohort.command("scheduler")
@click.option("--interval", type=float, help="seconds between outbox passes")
def scheduler(interval) -> None:
    """Run the deployment's one scheduler in this process until stopped (Ctrl+C, SIGTERM)."""
    from ..mail.scheduler import start_scheduler

    app = current_app._get_current_object()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    running = start_scheduler(app, interval)
    click.echo(f"Scheduler running: outbox pass every "
               f"{interval or app.config['SCHEDULER_INTERVAL_SECONDS']:g}s "
               f"to {_mail_description(app)}. Stop with Ctrl+C.")
    stop.wait()
    running.shutdown(wait=True)
    app.extensions.pop("cohort.mail.scheduler", None)
    click.echo("Scheduler stopped.")


def _mail_description(app) -> str:
    from ..mail.transport import parse_mail_url

    try:
        return parse_mail_url(app.config["MAIL_URL"]).description
    except MailConfigError as exc:
        fail(f"COHORT_MAIL_URL: {exc}")


class _ListByDefault(AppGroup):
    """`cohort outbox 3` lists cohort 3's outbox; `cohort outbox resend 17` etc. still work."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@cohort.group("outbox", cls=_ListByDefault)
def outbox() -> None:
    """A cohort's deliveries: `cohort outbox COHORT [--json]`, resend, pause, resume."""


@outbox.command("list")
@click.argument("cohort_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def outbox_list(cohort_id: int, as_json: bool) -> None:
    """Upcoming, needs-review, failed, sent and not-sent deliveries of a cohort."""
    try:
        with db.transaction(engine()) as session:
            view = services.outbox_view(session, cohort_id)
            emails = [e.as_dict() for e in services.outbox_emails(session, cohort_id)]
    except services.NotFound as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps({
            "cohort": cohort_id, "paused": view.paused,
            "facilitator_email": view.facilitator_email,
            # one row per email a person gets, a bundle's items inside
            "emails": emails,
            "email_states": dict(Counter(e["state"] for e in emails)),
            **{name: [services.delivery_as_dict(d) for d in rows]
               for name, rows in view.groups.items()},
            # counted, never listed by person (services/deliveries.py says why)
            "anonymous_reminders": [r.as_dict() for r in view.anonymous_reminders],
        }, ensure_ascii=False, indent=2))
        return
    click.echo(f"Cohort {cohort_id}{' (PAUSED)' if view.paused else ''}: " + ", ".join(
        f"{name.replace('_', ' ')} {len(rows)}" for name, rows in view.groups.items()))
    for name in ("needs_review", "failed"):
        for d in view.groups[name]:
            code = f" {d.last_code}" if d.last_code else ""
            click.echo(f"  {name.upper()} #{d.id} {d.kind} {d.anchor} to {d.recipient}:"
                       f"{code} {d.last_error or ''}")
    for d in view.groups["upcoming"][:10]:
        click.echo(f"  next #{d.id} {d.send_at.isoformat()} {d.kind} {d.anchor} "
                   f"to {d.recipient}")
    for r in view.anonymous_reminders:
        click.echo(f"  anonymous survey reminder {r.anchor} {r.send_at.isoformat()}: "
                   f"{r.waiting} waiting, {r.done} sent or not needed")


@outbox.command("resend")
@click.argument("delivery_id", type=int)
def outbox_resend(delivery_id: int) -> None:
    """Queue a delivery again, due now (a new row linked to the original)."""
    try:
        with db.transaction(engine()) as session:
            # Naming the delivery on the command line is the confirmation.
            plan = services.resend_plan(session, delivery_id)
            copy = services.resend(session, delivery_id, utcnow(), confirmed=plan.fingerprint)
    except (services.NotFound, ValueError) as exc:
        fail(str(exc))
    click.echo(f"Delivery {delivery_id} queued again as delivery {copy.id}.")


@outbox.command("dismiss")
@click.argument("delivery_id", type=int)
def outbox_dismiss(delivery_id: int) -> None:
    """Mark a needs-review delivery as checked (it arrived; no resend needed)."""
    try:
        with db.transaction(engine()) as session:
            services.dismiss_review(session, delivery_id, utcnow())
    except (services.NotFound, ValueError) as exc:
        fail(str(exc))
    click.echo(f"Delivery {delivery_id} reviewed.")


@outbox.command("pause")
@click.argument("cohort_id", type=int)
def outbox_pause(cohort_id: int) -> None:
    """Hold every email of a cohort until resumed."""
    _set_paused(cohort_id, True)
    click.echo(f"Deliveries of cohort {cohort_id} paused.")


@outbox.command("resume")
@click.argument("cohort_id", type=int)
def outbox_resume(cohort_id: int) -> None:
    """Send a paused cohort's emails again (far overdue ones are skipped)."""
    _set_paused(cohort_id, False)
    click.echo(f"Deliveries of cohort {cohort_id} resumed.")


def _set_paused(cohort_id: int, paused: bool) -> None:
    try:
        with db.transaction(engine()) as session:
            services.set_paused(session, cohort_id, paused, utcnow())
    except services.NotFound as exc:
        fail(str(exc))


@outbox.command("preview")
@click.argument("delivery_id", type=int)
def outbox_preview(delivery_id: int) -> None:
    """Print the message a delivery sends, as an RFC 5322 message (.eml)."""
    from ..mail.preview import preview_message

    try:
        message = preview_message(delivery_id)
    except (services.NotFound, Undeliverable) as exc:
        fail(str(exc))
    click.echo(bytes(message).decode("ascii", "replace"))


@outbox.command("facilitator")
@click.argument("cohort_id", type=int)
@click.argument("email", required=False)
def outbox_facilitator(cohort_id: int, email: str | None) -> None:
    """Set where a cohort's facilitator digest goes (no EMAIL: back to COHORT_MAIL_FROM)."""
    try:
        with db.transaction(engine()) as session:
            services.set_facilitator_email(session, cohort_id, email)
    except services.NotFound as exc:
        fail(str(exc))
    click.echo(f"Digest of cohort {cohort_id} goes to {email or 'COHORT_MAIL_FROM'}.")


@cohort.command("digest")
@click.argument("cohort_id", type=int)
@click.option("--meeting", "meeting_key", help="meeting key (default: the next meeting)")
@click.option("--now", "now_text", help="pretend it is this time (ISO 8601)")
@click.option("--json", "as_json", is_flag=True)
def digest(cohort_id: int, meeting_key: str | None, now_text: str | None,
           as_json: bool) -> None:
    """What participants sent in since the last meeting: the next meeting's agenda input."""
    now = _parse_now(now_text)
    try:
        with db.transaction(engine()) as session:
            key = meeting_key or services.next_meeting_key(session, cohort_id, now)
            if key is None:
                fail(f"cohort {cohort_id} has no meeting ahead; name one with --meeting")
            result = services.facilitator_digest(session, cohort_id, key, now)
    except services.NotFound as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps({
            "meeting": result.meeting.key, "title": result.meeting.title,
            "since": result.since.isoformat() if result.since else None,
            "until": result.until.isoformat(),
            "sections": [{"kind": s.source_kind, "source": s.source, "contributions": [
                {"participant": c.participant, "organisation": c.organisation,
                 "text": c.text, "at": c.at.isoformat()} for c in s.contributions]}
                for s in result.sections],
        }, ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.meeting.title}: {result.count} contribution(s)")
    for section in result.sections:
        click.echo(f"\n{section.source}")
        for c in section.contributions:
            click.echo(f"  - {c.participant} ({c.organisation}): {c.text}")


@participants.command("remove")
@click.argument("cohort_id", type=int)
@click.argument("email")
def participants_remove(cohort_id: int, email: str) -> None:
    """Take a participant out of a cohort; their pending emails are cancelled."""
    try:
        with db.transaction(engine()) as session:
            removal = services.participants.remove_participant_by_email(session, cohort_id,
                                                                        email)
    except services.NotFound as exc:
        fail(str(exc))
    click.echo(f"Removed {email} from cohort {cohort_id}.")
    if removal.erased:
        click.echo("They had answered a survey: their answers stay in the figures, and their "
                   "personal data was erased instead of the row deleted.")


@participants.command("link")
@click.argument("cohort_id", type=int)
@click.argument("email")
@click.option("--revoke", is_flag=True, help="revoke the old link(s) and issue a new one")
@click.option("--base-url", help="the site's address (default: COHORT_BASE_URL)")
def participants_link(cohort_id: int, email: str, revoke: bool, base_url: str | None) -> None:
    """Print a participant's personal link (the same one their emails carry)."""
    from sqlalchemy import select

    from ..core.participants import normalise_email
    from ..models import Participant

    secret = current_app.config["SECRET_KEY"]
    with db.transaction(engine()) as session:
        participant = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id,
            Participant.email == normalise_email(email))).one_or_none()
        if participant is None:
            fail(f"cohort {cohort_id} has no participant '{email}'")
        if revoke:
            services.revoke_links(session, participant.id, secret, utcnow())
        token = services.personal_token(session, participant.id, secret, utcnow())
    click.echo(f"{site_base(base_url)}/p/{token}")
