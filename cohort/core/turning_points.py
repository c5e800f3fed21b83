"""The next moment a view can look different by the clock alone.

A page that depends on the clock only by comparing stored times with `now` (a meeting has
ended, an email is due, a survey has opened) looks the same at every moment before the
earliest of those times still ahead, as long as the data does not change. So a rendered part
can be kept until then rather than for a minute: a part kept per minute is rendered again by
every worker as each minute turns, all at once, where a part kept until its next turning point
is rendered again only when something it shows changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

# The smallest step of a datetime: a view that changes only once the clock has passed `t`
# (`t < now`, `now <= t`) turns at `t + JUST_AFTER`.
JUST_AFTER = timedelta(microseconds=1)


def next_turning_point(times: Iterable[datetime | None], now: datetime) -> datetime | None:
    """The earliest of `times` after `now` (None when none is ahead): the moment a view
    rendered at `now` can first look different by the clock alone.

    Each time is the first moment its comparison comes out otherwise: `t` for `t <= now`
    (an email due from its time on), `t + JUST_AFTER` for `now <= t` (a deadline still ahead
    up to and including its moment). The view is the same at every moment m with
    now <= m < the result.
    """
    ahead = [t for t in times if t is not None and t > now]
    return min(ahead) if ahead else None

