"""The demo `make run` loads: the reference programme twice, with 32 fictitious leaders each.

One cohort is running (six to seven weeks under way, today between two meetings), one
finished a year earlier (every meeting held, every survey closed and answered, so its report
is ready). Meetings never fall on a weekend or a public holiday (moved to the next working
day), attendance is recorded for the meetings that have ended, and only surveys that have
opened have answers, none dated before its survey opened or after now; likewise the buddy
check-ins answer only the buddy exchanges released by now (`demo/buddies.py`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.engine import Engine

from .. import db, services
from ..core.attendance import ABSENT, EXCUSED, PRESENT, SOURCE_CHECK_IN, SOURCE_FACILITATOR, Mark
from ..core.participants import ParticipantRow
from ..core.planning import MeetingOverride, Plan, plan_cohort, working_day_overrides
from ..core.programme import Programme, load_library
from ..models import Delivery, utcnow
from .buddies import add_demo_buddy_check_ins
from .surveys import add_demo_evaluation

DEMO_PROGRAMME = "digital-lederskab"
FIRST_NAMES = [
    "Anne", "Mette", "Hanne", "Susanne", "Lene", "Camilla", "Louise", "Pia", "Trine", "Helle",
    "Birgitte", "Karina", "Marianne", "Tina", "Charlotte", "Maria", "Lars", "Jens", "Peter",
    "Søren", "Morten", "Henrik", "Anders", "Thomas", "Rasmus", "Mikkel", "Jesper", "Niels",
    "Bo", "Kasper", "Ulla", "Jørgen",
]
LAST_NAMES = [
    "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
    "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen",
    "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Østergaard", "Kjær",
    "Lund", "Bach", "Holm", "Dahl", "Frandsen", "Skov", "Winther", "Lauridsen", "Brøndum",
    "Ærenlund",
]
MUNICIPALITIES = ["Vejle", "Kolding", "Fredericia", "Middelfart", "Odense", "Svendborg",
                  "Aabenraa", "Haderslev"]
ROLES = ["Leder, hjemmeplejen", "Leder, sygeplejen", "Centerleder, plejecenter",
         "Leder, træning og rehabilitering", "Afdelingsleder, akutteam",
         "Leder, sundhedshus"]


def demo_participants(count: int = 32, seed: int = 2025) -> list[ParticipantRow]:
    """Fictitious leaders with Danish names from eight municipalities (deterministic)."""
    rng = random.Random(seed)
    last_names = LAST_NAMES[:]
    rng.shuffle(last_names)
    rows = []
    for index in range(count):
        first, last = FIRST_NAMES[index % len(FIRST_NAMES)], last_names[index % len(last_names)]
        municipality = MUNICIPALITIES[index % len(MUNICIPALITIES)]
        local = f"{first}.{last}".lower().replace("ø", "oe").replace("æ", "ae").replace("å", "aa")
        rows.append(ParticipantRow(
            name=f"{first} {last}",
            email=f"{local}@{municipality.lower()}-kommune.example",
            organisation=f"{municipality} Kommune",
            role=rng.choice(ROLES),
            language="da",
        ))
    return rows


def demo_start(today: date) -> date:
    """A Tuesday six to seven weeks back (the reference course started on a Tuesday).

    So the demo shows a course under way: the kick-off, workshop 1 and webinar 1 have taken
    place and have attendance recorded, and webinar 2 is two to three weeks ahead.
    """
    start = today - timedelta(days=42)
    return start - timedelta(days=(start.weekday() - 1) % 7)


@dataclass(frozen=True)
class DemoCohorts:
    """The demo's two cohorts: one running today, one finished with its report ready."""

    running: int
    finished: int


# How many weeks before the running cohort the finished one started (a year: its
# programme, surveys and final report are all over by the running one's start).
FINISHED_WEEKS_EARLIER = 52


def demo_plan(programme: Programme, start: date) -> tuple[Plan, dict[str, MeetingOverride]]:
    """The programme's plan from `start`, with meetings on weekends and holidays moved to the
    next working day (no webinar on Christmas Eve)."""
    plan = plan_cohort(programme, start, programme.timezone)
    overrides = working_day_overrides(plan, programme.language)
    return plan_cohort(programme, start, programme.timezone, overrides), overrides


def running_start(programme: Programme, today: date, now: datetime) -> date:
    """demo_start, moved a week back at a time until `now` falls between two meetings: some
    held, some to come, none going on."""
    start = demo_start(today)
    for _ in range(8):
        meetings = [m for m in demo_plan(programme, start)[0].meetings if not m.cancelled]
        held = [m for m in meetings if m.ends_at <= now]
        coming = [m for m in meetings if m.starts_at > now]
        if held and coming and len(held) + len(coming) == len(meetings):
            return start
        start -= timedelta(days=7)
    return start


def load_demo(engine: Engine, programmes_dir: str | Path, today: date | None = None,
              now: datetime | None = None) -> DemoCohorts | None:
    """Create the demo cohorts unless the database has cohorts already; return their ids."""
    library = load_library(programmes_dir)
    programme = library.programmes[DEMO_PROGRAMME]
    zone = ZoneInfo(programme.timezone)
    if now is None:
        now = utcnow() if today is None else datetime.combine(today, time(12), zone)
    today = today or now.astimezone(zone).date()
    start = running_start(programme, today, now)
    with db.transaction(engine) as session:
        if services.count_cohorts(session):
            return None
        finished = _demo_cohort(session, library, start - timedelta(
            weeks=FINISHED_WEEKS_EARLIER), now, "afsluttet", seed=2024)
        running = _demo_cohort(session, library, start, now, "i gang", seed=2025)
        return DemoCohorts(running=running, finished=finished)


def _demo_cohort(session, library, start: date, now: datetime, label: str, seed: int) -> int:
    programme = library.programmes[DEMO_PROGRAMME]
    zone = ZoneInfo(programme.timezone)
    new = services.NewCohort(programme, library.sources[DEMO_PROGRAMME], start,
                             title=f"{programme.title} — demohold ({label})")
    # Created two weeks before the start, as a real cohort would be.
    created = datetime.combine(start - timedelta(days=14), time(9), zone)
    cohort = services.create_cohort_as(session, new, None, overrides=demo_plan(
        programme, start)[1], participants=demo_participants(seed=seed), now=created)
    services.launch_cohort(session, cohort.id, None, created)  # launched when created
    record_demo_attendance(session, cohort.id, now)  # before: its catch-ups went out too
    _mark_past_deliveries_sent(session, cohort.id, now)
    add_demo_evaluation(session, cohort.id, now)
    add_demo_buddy_check_ins(session, cohort.id, now)
    return cohort.id


def _mark_past_deliveries_sent(session, cohort_id: int, now: datetime) -> None:
    """The demo course has been running for weeks: its past emails count as sent, so a
    scheduler started with `make run` does not send six weeks of mail at once."""
    session.execute(update(Delivery).where(
        Delivery.cohort_id == cohort_id, Delivery.state == "pending", Delivery.send_at <= now,
    ).values(state="sent", sent_at=Delivery.send_at))


# Why a demo participant missed a meeting (the facilitator's note on an excused absence).
EXCUSES = ["Syg", "Ferie", "Møde i direktionen", "Barn syg", "Kursus"]


def record_demo_attendance(session, cohort_id: int, now: datetime, seed: int = 1) -> None:
    """Attendance for every meeting that has ended: mostly present, some absent or excused.

    Deterministic; one participant has missed two meetings so the follow-up list is not
    empty. The in-person workshop's presences come from check-ins, the webinars' from the
    facilitator; each meeting is recorded when it ends (as in real use), so its absences queue
    catch-up emails then.
    """
    rng = random.Random(seed)
    keys = [m.key for m in services.attendance_summary(session, cohort_id).meetings]
    people = [row.participant for row in services.meeting_sheet(session, cohort_id, keys[0]).rows]
    follow_up = people[5].id
    for number, key in enumerate(keys):
        meeting = services.get_meeting(session, cohort_id, key)
        if meeting.ends_at > now:
            continue
        marks: dict[int, Mark] = {}
        for person in people:
            draw = rng.random()
            if (person.id == follow_up and number < 2) or draw < 0.08:
                marks[person.id] = Mark(ABSENT)
            elif draw < 0.13:
                marks[person.id] = Mark(EXCUSED, rng.choice(EXCUSES))
            else:
                marks[person.id] = Mark(PRESENT)
        source = SOURCE_CHECK_IN if meeting.format == "in_person" else SOURCE_FACILITATOR
        present = {pid: m for pid, m in marks.items() if m.state == PRESENT}
        missed = {pid: m for pid, m in marks.items() if m.state != PRESENT}
        services.set_marks(session, cohort_id, meeting.key, present, "demo", meeting.ends_at,
                           source)
        services.set_marks(session, cohort_id, meeting.key, missed, "demo", meeting.ends_at)
