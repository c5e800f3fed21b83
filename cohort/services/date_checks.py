"""What a cohort's dates tell the facilitator: deadlines and meetings on weekends and public
holidays, items already past, and the emails a late cohort will skip.

The rules are pure (`core.date_warnings`, `core.launching.planned_emails`); this module finds
the cohort's plan and its country's holidays (`core.holidays_calendar`) for them. The
cohort's overview shows `upcoming_warnings` (so do the command line's new cohort and moved
meeting), the new-cohort preview `meeting_day_warnings`, creating a cohort reports
`late_start`, and the reschedule preview (services/meetings.py) uses `holidays_for`. These
are the one way the code warns about dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from ..core.date_warnings import (
    HOLIDAY,
    WEEKEND,
    DateWarning,
    date_warnings,
    next_change,
    plan_years,
)
from ..core.holidays_calendar import holiday_country, public_holidays
from ..core.launching import LaunchForecast, forecast_launch, planned_emails
from ..core.planning import Plan
from ..models import Cohort, Meeting
from ._lookup import get_cohort
from .plans import current_plan


def holidays_for(cohort: Cohort, plan: Plan) -> dict[date, str]:
    """The public holidays of the cohort's country in the years of its plan (none when the
    cohort's zone and language name no country we know)."""
    return plan_holidays(plan, cohort.language)


def plan_holidays(plan: Plan, language: str) -> dict[date, str]:
    """`holidays_for` a plan of no stored cohort yet: the country of its zone and `language`."""
    country = holiday_country(plan.timezone, language)
    return public_holidays(country, plan_years(plan)) if country else {}


def meeting_day_warnings(plan: Plan, language: str) -> list[DateWarning]:
    """The plan's meetings on a weekend or a public holiday, past or ahead, for a plan that is
    not stored yet (the new-cohort preview: what is already past is `late_start`'s to say)."""
    found = date_warnings(plan, None, plan_holidays(plan, language), codes=(WEEKEND, HOLIDAY))
    return [w for w in found if w.item == "meeting"]


@dataclass(frozen=True)
class UpcomingWarnings:
    warnings: list[DateWarning]
    changes_at: datetime | None  # the next moment the list can change by the clock alone


def upcoming_warnings(session: Session, cohort_id: int, now: datetime | None,
                      meetings: Sequence[Meeting] | None = None) -> UpcomingWarnings:
    """Meetings and deadlines still ahead that fall on a weekend or a public holiday
    (`meetings`: all of the cohort's rows, if the caller has them, as the overview does);
    with `now` None every one of them, past or ahead (a cohort just created)."""
    cohort = get_cohort(session, cohort_id)
    plan = current_plan(session, cohort, meetings)
    return UpcomingWarnings(
        date_warnings(plan, now, holidays_for(cohort, plan), codes=(WEEKEND, HOLIDAY)),
        next_change(plan, now) if now is not None else None)


def late_start(session: Session, cohort_id: int, now: datetime, *,
               overdue_limit: timedelta) -> LaunchForecast:
    """What launching now would skip for every participant (and the facilitator) because
    it is already too late: the plan's emails for one stand-in participant, judged by the
    dispatcher's rule. For a cohort just created, before anyone is in it."""
    cohort = get_cohort(session, cohort_id)
    return forecast_launch(planned_emails(current_plan(session, cohort), now), now,
                           overdue_limit=overdue_limit)
