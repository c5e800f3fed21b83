"""The facilitator's outbox for one cohort: what goes out when, what failed, what needs review;
preview any message, resend, pause/resume, send what is due now; and the digest page.

Thin: each view declares its access rule, calls services or mail/dispatch.py, renders.
"Resend" emails someone, so it asks first: its first click shows what goes to whom, and only
the confirmation (carrying `services.resend_plan`'s fingerprint) queues the copy.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlmodel import Session
from wtforms import HiddenField, SubmitField

from .. import db, services
from ..mail.compose import Undeliverable
from ..models import Role
from .access import requires
from .common import actor, now, plain_query
from .formatting import DELIVERY_KINDS, DELIVERY_STATES
from .forms import CohortForm

bp = Blueprint("outbox", __name__, url_prefix="/cohorts/<int:cohort_id>")


class ActionForm(CohortForm):
    """Every button here is a POST with a CSRF token and nothing else."""


class ResendForm(CohortForm):
    """"Resend" posts the CSRF token alone (the question); its confirmation adds these."""

    previewed = HiddenField()
    confirm = SubmitField(_l("Resend the email"))


def _engine():
    return current_app.extensions["cohort.engine"]


def _session() -> Session:
    return Session(_engine(), expire_on_commit=False)


def _day(name: str, timezone: str, after: int = 0) -> datetime | None:
    """A `YYYY-MM-DD` from the filter form as the UTC start of that local day (plus `after`
    days); anything else is no filter."""
    try:
        day = date.fromisoformat(request.args.get(name, ""))
        local = datetime.combine(day + timedelta(days=after), time(), ZoneInfo(timezone))
        return local.astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or 0001-01-01 / 9999-12-31 and the like
        return None


def _filters(timezone: str) -> services.OutboxFilters:
    def text(name: str) -> str | None:
        # No control characters get here (`plain_query`): NUL above all, which PostgreSQL
        # refuses in text.
        return (request.args.get(name) or "").strip()[:200] or None

    return services.OutboxFilters(kind=text("kind"), state=text("state"),
                                  person=text("person"), start=_day("from", timezone),
                                  end=_day("to", timezone, after=1))


@bp.get("/outbox")
@requires(Role.FACILITATOR, cohort_access=True)
@plain_query  # the filters go into the pages' links and the database's LIKE
def index(cohort_id: int):
    """One row per email a person gets, filtered (GET form) and paged, opening at the next
    emails to go; anonymous surveys' reminders only counted."""
    # No page asked for: the page of the next emails to go; a page that is no number: 1.
    page = (request.args.get("page", type=int) or 1) if "page" in request.args else None
    with _session() as session:
        try:
            cohort = services.get_cohort(session, cohort_id)
            listing = services.outbox_page(session, cohort_id, _filters(cohort.timezone),
                                           page)
            paused = services.is_paused(session, cohort_id)
            rounds = services.anonymous_reminder_rounds(session, cohort_id)
        except services.NotFound:
            abort(404)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("outbox/index.html", cohort=cohort, paused=paused, rounds=rounds,
                           listing=listing, args=args, kinds=DELIVERY_KINDS,
                           states=DELIVERY_STATES, form=ActionForm())


@bp.get("/outbox/<int:delivery_id>")
@requires(Role.FACILITATOR, cohort_access=True)
def preview(cohort_id: int, delivery_id: int):
    from ..mail.preview import preview_message

    with _session() as session:
        try:
            cohort = services.get_cohort(session, cohort_id)
            delivery = services.get_delivery(session, delivery_id, cohort_id)
            # A reminder of an anonymous survey: its state would say whether they answered.
            hidden = services.hides_state(session, delivery)
            # All recipients' pending rows of this send-out: counted, so it tells nobody's.
            _kind, _anchor, waiting = services.pending_send_out(session, delivery_id,
                                                                cohort_id)
        except services.NotFound:
            abort(404)
    try:
        message = preview_message(delivery_id)
        problem = None
    except Undeliverable as exc:
        message, problem = None, str(exc)
    parts = {}
    if message is not None:
        parts = {kind: message.get_body((kind,)).get_content() for kind in ("plain", "html")}
    return render_template("outbox/preview.html", cohort=cohort, delivery=delivery,
                           message=message, parts=parts, problem=problem, form=ActionForm(),
                           hidden=hidden, waiting=waiting)


# The email's HTML part, framed by the preview page: an email's layout is inline styles (mail
# clients read nothing else), which the app's own policy refuses (web/security.py). This one
# document may apply inline styles and data: images and nothing else: no script, no request
# to anywhere, no form; `sandbox` gives it an opaque origin as well; only our own pages may
# frame it.
EMAIL_POLICY = "; ".join([
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    "img-src data:",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'self'",
    "sandbox",
])


@bp.get("/outbox/<int:delivery_id>/email.html")
@requires(Role.FACILITATOR, cohort_access=True)
def email_html(cohort_id: int, delivery_id: int):
    """The HTML part of a delivery's email as its recipient's mail program shows it, for the
    preview page's frame (placeholders instead of credentials, like the preview)."""
    from ..mail.preview import preview_message

    with _session() as session:
        try:
            services.get_cohort(session, cohort_id)
            services.get_delivery(session, delivery_id, cohort_id)
        except services.NotFound:
            abort(404)
    try:
        message = preview_message(delivery_id)
    except Undeliverable:
        abort(404)  # the preview page says why
    html = message.get_body(("html",))
    if html is None:
        abort(404)
    response = current_app.response_class(html.get_content(), mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.post("/outbox/<int:delivery_id>/test")
@requires(Role.FACILITATOR, cohort_access=True)
def send_test(cohort_id: int, delivery_id: int):
    """Send me a test: this email as its recipient would get it, with a placeholder instead
    of their personal link, to the signed-in staff member's own address."""
    from ..mail.preview import TestNotSafe, send_test_message
    from ..mail.transport import MailError

    if not ActionForm().validate_on_submit():
        abort(400)
    with _session() as session:
        try:
            services.get_cohort(session, cohort_id)
            services.get_delivery(session, delivery_id, cohort_id)
        except services.NotFound:
            abort(404)
    address = actor().email
    try:
        send_test_message(delivery_id, address, now())
    except (Undeliverable, TestNotSafe, MailError) as exc:
        flash(_("The test email was not sent: %(problem)s", problem=str(exc)), "error")
    else:
        flash(_("A test email was sent to %(email)s.", email=address), "success")
    return redirect(url_for("outbox.preview", cohort_id=cohort_id, delivery_id=delivery_id))


def _post_action(cohort_id: int, action, delivery_id: int | None = None):
    """Check CSRF and that the ids belong together, run `action(session)` (it returns the
    message to show) in one transaction, and go back to the outbox."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with db.transaction(_engine()) as session:
            services.get_cohort(session, cohort_id)
            if delivery_id is not None:
                services.get_delivery(session, delivery_id, cohort_id)
            flash(action(session))
    except services.NotFound:
        abort(404)
    except ValueError as exc:
        flash(str(exc), "error")
    return redirect(url_for("outbox.index", cohort_id=cohort_id))


@bp.post("/outbox/<int:delivery_id>/resend")
@requires(Role.FACILITATOR, cohort_access=True)
def resend(cohort_id: int, delivery_id: int):
    form = ResendForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.transaction(_engine()) as session:
            services.get_cohort(session, cohort_id)
            copy = services.resend(session, delivery_id, now(), cohort_id=cohort_id,
                                   confirmed=form.previewed.data if form.confirm.data else None)
    except services.NotFound:
        abort(404)
    except services.ResendNeedsConfirmation as asked:
        if form.confirm.data:
            flash(_("This email was resent in the meantime: check before resending it "
                    "again."), "warning")
        with _session() as session:
            cohort = services.get_cohort(session, cohort_id)
        return render_template("outbox/resend_confirm.html", cohort=cohort, plan=asked.plan,
                               form=ResendForm(formdata=None, previewed=asked.plan.fingerprint))
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("outbox.index", cohort_id=cohort_id))
    flash(_("Queued again as delivery %(id)s.", id=copy.id))
    return redirect(url_for("outbox.index", cohort_id=cohort_id))


@bp.post("/outbox/<int:delivery_id>/dismiss")
@requires(Role.FACILITATOR, cohort_access=True)
def dismiss(cohort_id: int, delivery_id: int):
    def action(session):
        services.dismiss_review(session, delivery_id, now())
        return _("Marked as reviewed.")

    return _post_action(cohort_id, action, delivery_id)


@bp.post("/outbox/<int:delivery_id>/cancel-send-out")
@requires(Role.FACILITATOR, cohort_access=True)
def cancel_send_out(cohort_id: int, delivery_id: int):
    """Cancel this email's send-out (its kind and item) for every recipient still waiting."""
    def action(session):
        count = services.cancel_send_out(session, cohort_id, delivery_id, actor(), now())
        return ngettext("Cancelled for %(num)d recipient.", "Cancelled for %(num)d recipients.",
                        count)

    return _post_action(cohort_id, action, delivery_id)


@bp.post("/outbox/pause")
@requires(Role.FACILITATOR, cohort_access=True)
def pause(cohort_id: int):
    def action(session):
        services.set_paused(session, cohort_id, True, now())
        return _("Deliveries paused.")

    return _post_action(cohort_id, action)


@bp.post("/outbox/resume")
@requires(Role.FACILITATOR, cohort_access=True)
def resume(cohort_id: int):
    def action(session):
        services.set_paused(session, cohort_id, False, now())
        return _("Deliveries resumed.")

    return _post_action(cohort_id, action)


@bp.post("/outbox/send-now")
@requires(Role.FACILITATOR, cohort_access=True)
def send_now(cohort_id: int):
    """Run the outbox pass for this cohort at once (the same pass the scheduler runs)."""
    from ..mail.dispatch import send_due

    if not ActionForm().validate_on_submit():
        abort(400)
    with _session() as session:
        try:
            services.get_cohort(session, cohort_id)
        except services.NotFound:
            abort(404)
    report = send_due(cohort_id=cohort_id)
    flash(_("Outbox pass: %(summary)s", summary=report.summary()))
    return redirect(url_for("outbox.index", cohort_id=cohort_id))


@bp.get("/digest")
@requires(Role.FACILITATOR, cohort_access=True)
def digest(cohort_id: int):
    """Questions and reflections since the last meeting: input for the next agenda."""
    moment = now()
    with _session() as session:
        try:
            cohort = services.get_cohort(session, cohort_id)
            key = request.args.get("meeting") or services.next_meeting_key(session, cohort_id,
                                                                           moment)
            result = services.facilitator_digest(session, cohort_id, key, moment) if key else None
        except services.NotFound:
            abort(404)
    return render_template("outbox/digest.html", cohort=cohort, digest=result)
