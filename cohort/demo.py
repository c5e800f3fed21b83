"""The demo cohort `make run` loads: the reference programme with 32 fictitious leaders."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from . import db, services
from .core.participants import ParticipantRow
from .core.programme import load_library
from .demo_surveys import add_demo_evaluation

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
    """A Tuesday two to three weeks ahead, as the reference course started on a Tuesday."""
    start = today + timedelta(days=14)
    return start + timedelta(days=(1 - start.weekday()) % 7)


def load_demo(engine: Engine, programmes_dir: str | Path, today: date | None = None) -> int | None:
    """Create the demo cohort unless the database has cohorts already; return its id."""
    library = load_library(programmes_dir)
    programme = library.programmes[DEMO_PROGRAMME]
    with db.transaction(engine) as session:
        if services.count_cohorts(session):
            return None
        new = services.NewCohort(
            programme, library.sources[DEMO_PROGRAMME], demo_start(today or date.today()),
            title=f"{programme.title} — demohold",
        )
        cohort = services.create_cohort(session, new, demo_participants())
        add_demo_evaluation(session, cohort.id)
        return cohort.id
