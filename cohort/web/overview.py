"""A read-only overview of cohorts and their meetings."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select
from sqlmodel import Session

from .. import services
from ..models import Meeting

bp = Blueprint("overview", __name__)


def _session() -> Session:
    return Session(current_app.extensions["cohort.engine"], expire_on_commit=False)


@bp.get("/")
def index():
    with _session() as session:
        cohorts = services.list_cohorts(session)
        meetings = {
            c.id: session.scalars(select(Meeting).where(Meeting.cohort_id == c.id)
                                  .order_by(Meeting.starts_at)).all()
            for c in cohorts
        }
    return render_template("overview/index.html", cohorts=cohorts, meetings=meetings)


@bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):
    with _session() as session:
        try:
            data = services.cohort_as_dict(session, services.get_cohort(session, cohort_id))
        except services.NotFound:
            abort(404)
    return render_template("overview/cohort.html", cohort=data)
