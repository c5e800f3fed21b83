"""The evaluation report as HTML (web view) and PDF (WeasyPrint), from `core.reporting` data.

One Jinja body (`templates/report/_body.html`) serves both: the PDF wraps it in a title page
and a table of contents (`report/document.html`), the web view in the site layout
(`report/web.html`). Both get the same report object, so they show the same figures.

UI strings go through Flask-Babel in the report's language (`force_locale`), so these
functions need an application context; texts from the programme (questions, report phrases)
stay in the programme's language. The PDF loads nothing but the app's static files
(`fetcher.StaticOnlyFetcher`); fonts come from fontconfig (DejaVu, from Debian's
fonts-dejavu-core) and are embedded as subsets.

Long renders belong outside the request: see `jobs.py` for the background job the web uses.

WeasyPrint (and so `fetcher`, whose class extends WeasyPrint's) is imported only when a PDF or
the PDF's HTML is made, and pygal (`charts`) only when charts are drawn: importing them takes
most of a second, and every `cohort` command and every app start imports this module (the
web's report page) without drawing a report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.engine import Engine

from .. import db
from ..core.report_comparison import Comparison
from ..core.reporting import Report
from ..core.survey_results import format_percent
from ..core.surveys import LIKERT_LABELS
from ..services import reporting as report_service

# Steps of a PDF render, for progress displays: (key, what the user is told).
STEPS: tuple[tuple[str, str], ...] = (
    ("load", "loading the cohort's evaluation data"),
    ("charts", "drawing the charts"),
    ("html", "writing the report"),
    ("layout", "laying out the pages"),
    ("write", "writing the PDF"),
)
Progress = Callable[[int, int, str], None]  # (step number from 1, number of steps, step key)
PDF_OPTIONS = {"pdf_tags": True}  # tagged PDF: headings, lists and tables for screen readers


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    pages: int
    refused: tuple[str, ...]  # URLs the HTML asked for and the fetcher refused


def load_report(engine: Engine, cohort_id: int, language: str | None = None,
                compare: int | None = None, now: datetime | None = None, words: bool = True
                ) -> Report | Comparison:
    """The report data (or two cohorts' side by side), read in one short transaction;
    `words=False` leaves out quotes and free-text answers (the facilitators' report)."""
    with db.transaction(engine) as session:
        if compare is None:
            return report_service.cohort_report(session, cohort_id, language, now,
                                                words=words)
        return report_service.comparison_report(session, cohort_id, compare, language, now,
                                                words=words)


def report_charts(document: Report | Comparison) -> dict[str, object]:
    """The charts of a report, labelled in the report's language."""
    if isinstance(document, Comparison):
        return {}
    with force_locale(document.language):
        return _charts(document)


def _charts(report: Report) -> dict[str, object]:
    from . import charts

    likert_labels = LIKERT_LABELS.get(report.cohort.text_language, LIKERT_LABELS["en"])
    attendance = report.about.attendance
    found: dict[str, object] = {
        "response_rates": charts.response_rates_chart(report.about.response_rates,
                                                      _("Response rate")),
        "headline": (charts.likert_chart(report.headline, likert_labels)
                     if report.headline else None),
        "attendance": (charts.attendance_chart(attendance, _("Attendance"))
                       if attendance else None),
        "attendance_distribution": (
            charts.distribution_chart(attendance, _("Participants"),
                                      _("Number of meetings attended"))
            if attendance else None),
        "pre_post": {p.question_id: charts.pre_post_chart(p, _("Before"), _("After"))
                     for p in report.learning.pre_post},
        "blocks": {f"{level}:{block.key}": charts.likert_chart(block, likert_labels)
                   for level, section in (("learning", report.learning),
                                          ("behaviour", report.behaviour),
                                          ("results", report.results))
                   for block in section.blocks if len(block.statements) > 1},
    }
    return found


def page_counter_css(template: str) -> str:
    """'Page {page} of {pages}' -> the CSS content value '"Page " counter(page) ...'."""
    parts = []
    rest = template
    while rest:
        head, brace, tail = rest.partition("{")
        if head:
            parts.append('"' + head.replace("\\", "\\\\").replace('"', '\\"') + '"')
        if not brace:
            break
        name, _close, rest = tail.partition("}")
        if name not in ("page", "pages"):
            raise ValueError(f"unknown counter {{{name}}} in {template!r}")
        parts.append(f"counter({name})")
    return " ".join(parts).replace("<", "")


def _file_url(name: str) -> str:
    """The file: URL of a static file, for the PDF's HTML (`fetcher.static_url`)."""
    from .fetcher import static_url

    return static_url(name)


def report_html(document: Report | Comparison, *, web: bool = False,
                asset_url: Callable[[str], str] = _file_url,
                extra: dict | None = None, drawn: dict | None = None) -> str:
    """The report as HTML: a standalone document for the PDF, or (web=True) a page in the
    site layout, which needs a request context for its links."""
    comparison = isinstance(document, Comparison)
    name = ("compare" if comparison else "report") + ("_web" if web else "_document")
    with force_locale(document.language):
        return render_template(
            f"report/{name}.html",
            report=document.first if comparison else document,
            comparison=document if comparison else None,
            charts=report_charts(document) if drawn is None else drawn,
            asset_url=asset_url,
            page_counter=page_counter_css(_("Page {page} of {pages}")),
            rounding_example=format_percent(1, 8, document.language),
            confidence_level=format_percent(95, 100, document.language),  # "95 %" / "95%"
            **(extra or {}),
        )


def html_to_pdf(html: str, progress: Progress | None = None, first_step: int = 4,
                total_steps: int = len(STEPS)) -> RenderedPdf:
    """HTML -> PDF with WeasyPrint, loading nothing but static files and data: URIs."""
    from weasyprint import HTML

    from .fetcher import STATIC_ROOT, StaticOnlyFetcher

    fetcher = StaticOnlyFetcher()
    if progress:
        progress(first_step, total_steps, "layout")
    document = HTML(string=html, base_url=STATIC_ROOT.as_uri() + "/",
                    url_fetcher=fetcher).render()
    if progress:
        progress(first_step + 1, total_steps, "write")
    pdf = document.write_pdf(**PDF_OPTIONS)
    return RenderedPdf(pdf, len(document.pages), tuple(fetcher.refused))


def report_pdf(document: Report | Comparison, progress: Progress | None = None) -> RenderedPdf:
    if progress:
        progress(2, len(STEPS), "charts")
    drawn = report_charts(document)
    if progress:
        progress(3, len(STEPS), "html")
    return html_to_pdf(report_html(document, drawn=drawn), progress)


def render_report_pdf(engine: Engine, cohort_id: int, language: str | None = None,
                      compare: int | None = None, now: datetime | None = None,
                      progress: Progress | None = None, words: bool = True) -> RenderedPdf:
    """The PDF of a cohort's report (or of two cohorts compared), with progress per step.

    Raises services.NotFound, core NotComparable or ValueError (unknown language).
    """
    if progress:
        progress(1, len(STEPS), "load")
    return report_pdf(load_report(engine, cohort_id, language, compare, now, words), progress)


def render_report_html(engine: Engine, cohort_id: int, language: str | None = None,
                       compare: int | None = None, now: datetime | None = None,
                       web: bool = True, asset_url: Callable[[str], str] | None = None,
                       extra: dict | None = None, words: bool = True) -> str:
    """The report as a web page (site layout) or, with web=False, the PDF's own HTML.

    `extra` goes to the template: the web view shows a download button when given
    `pdf_url`. For the web view call it inside a request."""
    if asset_url is None:
        asset_url = _web_static_url if web else _file_url
    document = load_report(engine, cohort_id, language, compare, now, words)
    return report_html(document, web=web, asset_url=asset_url, extra=extra)


def _web_static_url(name: str) -> str:
    from flask import url_for

    return url_for("static", filename=name)
