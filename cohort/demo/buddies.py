"""Demo buddy check-ins, so the facilitator's groups page and the report's Behaviour chapter
show the buddy scheme at work.

After each buddy exchange task released by `now`, most pairs answer "did you meet your
buddy?": many met, some not yet, a few could not, and a few pairs say nothing. Fewer pairs meet
as the course goes on (the first rounds are the easiest to keep), as the reference course's
evaluation describes. Each answer is given between the task's release and the earlier of a
week and a half later and `now`, so the running cohort only answers rounds that are past, and
never before a round opened.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from ..core.buddy_check_ins import COULD_NOT, MET, NOT_YET
from ..models import Participant, Task
from ..services.buddy_check_ins import BUDDY_TASK, buddy_pairs, record_check_in

# The chance that a pair meets in round 1, 2, ...; later rounds keep the last value.
MEETING_CHANCE = (0.9, 0.8, 0.75, 0.7, 0.65)
SILENT_PAIR = 0.12  # a pair where nobody answers
SILENT_MEMBER = 0.3  # a member of an answering pair who does not answer
ANSWER_WINDOW = timedelta(days=10, hours=6)
NOTES = [
    "Vi talte om, hvordan vi introducerer skærmbesøg for medarbejderne.",
    "Gennemgik hinandens teknologiradar og gav sparring på næste skridt.",
    "Talte om modstand i personalegruppen, og hvordan vi kan tage den alvorligt.",
    "Delte erfaringer med at afprøve digitale tilsyn om natten.",
    "Aftalte at besøge hinandens enheder efter sommerferien.",
    "Min buddy hjalp mig med at forberede oplægget til direktionen.",
]


def add_demo_buddy_check_ins(session: Session, cohort_id: int, now: datetime,
                             seed: int = 2025) -> int:
    """Answer the buddy check-ins of the rounds released by `now`; returns the answers
    added."""
    rng = random.Random(seed + cohort_id)
    rounds = session.scalars(select(Task).where(
        Task.cohort_id == cohort_id, Task.kind == BUDDY_TASK,
        Task.release_at <= now).order_by(Task.release_at, Task.id)).all()
    pairs = buddy_pairs(session, cohort_id)
    people = {p.id: p for p in session.scalars(select(Participant).where(
        Participant.cohort_id == cohort_id))}
    notes = NOTES[:]
    rng.shuffle(notes)
    added = 0
    for number, task in enumerate(rounds):
        chance = MEETING_CHANCE[min(number, len(MEETING_CHANCE) - 1)]
        last = min(task.release_at + ANSWER_WINDOW, now)
        span = int((last - task.release_at).total_seconds())
        for members in pairs:
            if rng.random() < SILENT_PAIR:
                continue
            status = MET if rng.random() < chance else rng.choice([NOT_YET, NOT_YET, COULD_NOT])
            answering = [p for p in members if rng.random() >= SILENT_MEMBER] or [members[0]]
            for participant_id in answering:
                moment = task.release_at + timedelta(seconds=rng.randint(0, max(0, span)))
                note = notes.pop() if status == MET and notes and rng.random() < 0.2 else ""
                record_check_in(session, people[participant_id], task.id, status,
                                         moment, note=note, shared=bool(note) and
                                         rng.random() < 0.5)
                added += 1
    return added
