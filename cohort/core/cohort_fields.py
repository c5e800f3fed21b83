"""What a cohort's title, time zone and dates may be: one check for the web form and the
command line (`cohort create`), so both refuse the same input with the same reasons.

A title goes into email subjects and calendar lines (one line, `text.single_line_problem`);
a time zone is looked up as a file name (an unknown or 300-character name must not reach
ZoneInfo); and nobody plans a cohort for the year 1 or 9999, where the planning's arithmetic
runs off the calendar's ends.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import available_timezones

from .text import SINGLE_LINE_MAX, single_line_problem

TITLE_MAX = SINGLE_LINE_MAX
YEARS_BACK, YEARS_AHEAD = 1, 5  # the dates a cohort may be planned for, around today


def title_problem(title: str) -> str | None:
    """`text.CONTROL_CHARACTER`, `text.TOO_LONG` (more than TITLE_MAX) or None."""
    return single_line_problem(title, TITLE_MAX)


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """The IANA zones; not "localtime" (the server's own zone, a file some systems add to
    the zone folder) nor the folder's other non-zones."""
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


def is_time_zone(name: str) -> bool:
    return name in time_zones()


def date_window(today: date, years_back: int = YEARS_BACK,
                years_ahead: int = YEARS_AHEAD) -> tuple[date, date]:
    """The first and last day a cohort's dates may fall on."""
    return years_later(today, -years_back), years_later(today, years_ahead)


def years_later(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
