"""The evaluation report on the web: the HTML view, and its PDF made outside the request.

The PDF takes seconds in WeasyPrint, so a POST starts a background job (`rendering.jobs`) and
redirects to a progress page that refreshes itself with `<meta http-equiv="refresh">` (the
CSP forbids inline script) until the file can be downloaded. A job id is unguessable but not
an authorisation: every job page checks the cohort's access rule and that the job belongs to
the cohort in the URL.

Facilitators get the figures, evaluators (and admins) the figures and the words: the report
(page, PDF and job) of a cohort's owner or co-facilitator has no coded quotes and no free-text
answers and says so (`access.sees_words`); a PDF with words is not given to a facilitator even
with its job id.
"""

from __future__ import annotations

import re
import unicodedata

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, SubmitField

from .. import services
from ..models import Role
from ..rendering import jobs
from ..rendering.report import STEPS, render_report_html
from ..services import accounts
from .access import requires, sees_words
from .common import engine, now, read_session
from .formatting import LANGUAGE_NAMES
from .forms import CohortForm, options

bp = Blueprint("reports", __name__, url_prefix="/cohorts/<int:cohort_id>/report")
REFRESH_SECONDS = 2
STEP_LABELS = {
    "load": _l("Loading the cohort's evaluation data"),
    "charts": _l("Drawing the charts"),
    "html": _l("Writing the report"),
    "layout": _l("Laying out the pages"),
    "write": _l("Writing the PDF"),
}
assert set(STEP_LABELS) == {key for key, _text in STEPS}


class ReportOptionsForm(CohortForm):
    """Language and comparison: read from the query string for the view (no CSRF needed
    for a GET), posted with CSRF to start the PDF."""

    language = SelectField(_l("Report language"), choices=options(LANGUAGE_NAMES.items()))
    compare = SelectField(_l("Compare with"), choices=[], default="")
    submit = SubmitField(_l("Download PDF"))

    def fill(self, cohort, others, default_language: bool) -> None:
        self.compare.choices = options(
            [("", _l("No comparison"))] + [(str(c.id), c.title) for c in others])
        if default_language and not self.language.data:
            self.language.data = cohort.language

    @property
    def compare_id(self) -> int | None:
        return int(self.compare.data) if self.compare.data else None


def _comparable(session, cohort) -> list:
    """Other cohorts of the same programme that the signed-in user may open."""
    user = accounts.get_user(session, current_user.id)
    return [c for c in accounts.visible_cohorts(session, user)
            if c.programme_id == cohort.programme_id and c.id != cohort.id]


def _options_form(cohort_id: int, formdata, csrf: bool):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        others = _comparable(session, cohort)
    form = ReportOptionsForm(formdata=formdata, **({} if csrf else {"meta": {"csrf": False}}))
    form.fill(cohort, others, default_language=not csrf)  # a POST names its language
    return cohort, form


@bp.get("")
@requires(Role.EVALUATOR, Role.FACILITATOR, cohort_access=True)
def view(cohort_id: int):
    """The report in the site layout, in the chosen language, optionally compared."""
    chosen = request.args if request.args else None
    cohort, form = _options_form(cohort_id, chosen, csrf=False)
    if chosen is not None and not form.validate():
        return render_template("report/options_invalid.html", cohort=cohort, form=form), 400
    return _report_page(cohort, form)


def _report_page(cohort, form):
    """The report page; its download button posts the same options (with CSRF)."""
    return render_report_html(engine(), cohort.id, form.language.data, form.compare_id,
                              now=now(), extra={"options_form": form, "cohort_id": cohort.id},
                              words=sees_words(cohort.id))


@bp.post("/pdf")
@requires(Role.EVALUATOR, Role.FACILITATOR, cohort_access=True)
def start_pdf(cohort_id: int):
    """Queue the PDF and go to its progress page."""
    cohort, form = _options_form(cohort_id, request.form, csrf=True)
    if not form.validate():
        return render_template("report/options_invalid.html", cohort=cohort, form=form), 400
    try:
        job = jobs.start_report_job(current_app, cohort_id, form.language.data,
                                    form.compare_id, words=sees_words(cohort_id),
                                    requested_by=current_user.id)
    except jobs.ReportJobsBusy as busy:
        # 429 with the report page and why: their own report first, or everyone's.
        if isinstance(busy, jobs.ReportJobsBusyForYou):
            flash(_("You already have a PDF being made. Wait until it is ready, then start "
                    "the next one."), "error")
        else:
            flash(_("Other reports are being made right now. Please try again in a minute."),
                  "error")
        response = make_response(_report_page(cohort, form), 429)
        response.headers["Retry-After"] = "30"
        return response
    return redirect(url_for(".job", cohort_id=cohort_id, job_id=job.id), code=303)


def _job(cohort_id: int, job_id: str) -> jobs.ReportJob:
    """The job, or 404 for an unknown id, a job of another cohort, or a report with words
    (quotes, free text) asked for by someone who gets only the figures."""
    try:
        job = jobs.report_job(current_app.instance_path, job_id)
    except services.NotFound:
        abort(404)
    if job.cohort_id != cohort_id or (job.words and not sees_words(cohort_id)):
        abort(404)
    return job


@bp.get("/jobs/<job_id>")
@requires(Role.EVALUATOR, Role.FACILITATOR, cohort_access=True)
def job(cohort_id: int, job_id: str):
    """Progress of a PDF job: step i of n, the error, or the download link."""
    found = _job(cohort_id, job_id)
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
    return render_template("report/job.html", cohort=cohort, job=found,
                           step_label=STEP_LABELS.get(found.step_key),
                           refresh=None if found.finished else REFRESH_SECONDS)


@bp.get("/jobs/<job_id>.pdf")
@requires(Role.EVALUATOR, Role.FACILITATOR, cohort_access=True)
def job_pdf(cohort_id: int, job_id: str):
    """The finished PDF as a download."""
    found = _job(cohort_id, job_id)
    try:
        path = jobs.report_job_pdf(current_app.instance_path, job_id)
    except services.NotFound:
        abort(404)
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=pdf_filename(cohort.title, found.language or cohort.language,
                                                found.compare))


def pdf_filename(title: str, language: str, compare: int | None) -> str:
    """'evalueringsrapport-hold-1-da.pdf' (the kind named in the report's language, like
    everything in it): ASCII, no spaces, safe in every browser."""
    with force_locale(language):
        kind = _("comparison") if compare else _("evaluation report")
    return f"{_slug(kind) or 'report'}-{_slug(title)[:60].strip('-') or 'cohort'}-{language}.pdf"


def _slug(text: str) -> str:
    ascii_text = (unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O")
                                        .replace("æ", "ae").replace("Æ", "Ae"))
                  .encode("ascii", "ignore").decode())
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
