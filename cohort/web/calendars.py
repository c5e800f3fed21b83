"""Personal calendar feeds: `GET /calendar/<token>.ics`, the URL a participant subscribes to.

No login: the secret token in the URL is the credential (calendar apps cannot log in). A
wrong or revoked token is a plain 404, and so is a feed whose cohort ended more than
COHORT_CALENDAR_FEED_GRACE_DAYS ago. Responses carry ETag and Last-Modified and answer
conditional requests with 304, so calendar apps polling every hour cost almost nothing.

Facilitators download the whole cohort's calendar from the cohort pages.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, request, url_for
from sqlmodel import Session

from .. import services
from ..models import Role
from .access import public, requires
from .common import now

bp = Blueprint("calendars", __name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"


@bp.get("/calendar/<token>.ics")
@public  # the token is the credential
def feed(token: str):
    with Session(current_app.extensions["cohort.engine"]) as session:
        try:
            document = services.feed_calendar(session, token, now(), timedelta(
                days=current_app.config["CALENDAR_FEED_GRACE_DAYS"]))
        except services.NotFound:
            abort(404)
    response = ics_response(document)
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/cohorts/<int:cohort_id>/calendar.ics")
@requires(Role.FACILITATOR, cohort_access=True)
def cohort_download(cohort_id: int):
    with Session(current_app.extensions["cohort.engine"]) as session:
        try:
            document = services.cohort_calendar(session, cohort_id)
        except services.NotFound:
            abort(404)
    return ics_response(document, download=True)


def ics_response(document: services.CalendarDocument, download: bool = False) -> Response:
    """The .ics with caching headers; 304 when the client already has these bytes."""
    response = Response(document.ics, content_type=CONTENT_TYPE)
    response.set_etag(document.etag)
    response.last_modified = document.last_modified
    response.cache_control.private = True
    response.cache_control.no_cache = True
    if download:
        response.headers.set("Content-Disposition", "attachment", filename=document.filename)
    return response.make_conditional(request)


def webcal_url(token: str) -> str:
    """The subscription link to show a participant (webcal:// opens their calendar app)."""
    url = url_for("calendars.feed", token=token, _external=True)
    return "webcal://" + url.split("://", 1)[1]
