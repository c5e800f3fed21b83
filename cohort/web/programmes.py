"""The programme library: every template with a readable preview; broken ones with errors."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, render_template

from ..core.planning import plan_cohort
from ..core.timeline import day_number, plan_timeline
from ..models import Role
from .access import requires
from .common import library

bp = Blueprint("programmes", __name__, url_prefix="/programmes")


def reference_start(today: date) -> date:
    """A Monday a few weeks ahead: previews show days and clock times, not real dates."""
    start = today + timedelta(days=21)
    return start - timedelta(days=start.weekday())


@bp.get("/")
@requires(Role.FACILITATOR)
def index():
    lib = library()
    return render_template("programmes/index.html", programmes=list(lib.programmes.values()),
                           broken=lib.broken)


@bp.get("/<programme_id>")
@requires(Role.FACILITATOR)
def show(programme_id: str):
    lib = library()
    programme = lib.programmes.get(programme_id)
    if programme is None:
        abort(404)
    plan = plan_cohort(programme, reference_start(date.today()), programme.timezone)
    first = plan.meetings[0].starts_at.astimezone(_zone(plan.timezone))
    return render_template(
        "programmes/show.html", programme=programme, plan=plan,
        timeline=plan_timeline(plan),
        day=lambda when: day_number(first, when.astimezone(_zone(plan.timezone))),
        meetings={m.key: m for m in programme.meetings},
    )


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
