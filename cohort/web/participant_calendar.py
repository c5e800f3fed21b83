"""The participant's own calendar as a file: `/me/calendar.ics`.

The same calendar their subscription link (`calendars.feed`, shown on their page as webcal://)
serves live: the cohort's meetings plus their task deadlines, with the meetings' stable UIDs,
so importing the file and subscribing later never duplicates an event.
"""

from __future__ import annotations

from .. import services
from ..models import Role
from .access import requires
from .calendars import ics_response
from .common import read_session
from .participant import bp, own_participant


@bp.get("/me/calendar.ics")
@requires(Role.PARTICIPANT)
def calendar_download():
    with read_session() as db_session:
        participant = own_participant(db_session)
        document = services.participant_calendar(db_session, participant.cohort_id,
                                                 participant.email)
    response = ics_response(document, download=True)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
