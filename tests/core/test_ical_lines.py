"""Our faster line folding gives exactly icalendar's bytes."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from icalendar import Event
from icalendar.parser import Contentline

from cohort.core.ical_lines import component_ics, fold_line

ALPHABET = "abcdefghij KLMNOP,;:\\^\"æøåÆØÅ€—🙂\t"


def test_folding_matches_icalendar_for_any_line():
    rng = random.Random(5545)
    for _ in range(3000):
        line = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 400)))
        assert fold_line(line.encode()) == Contentline(line).to_ical(), line


def test_folding_at_the_edges():
    for line in ("x" * 74, "x" * 75, "x" * 148, "x" * 149, "x" * 73 + "\\" + "y" * 10,
                 "x" * 73 + "æ" + "y", "x" * 72 + "🙂" + "y" * 80, "\\" * 200, "^" * 80):
        folded = fold_line(line.encode())
        assert folded == Contentline(line).to_ical(), line
        assert all(len(piece) <= 75 for piece in folded.split(b"\r\n"))


def test_a_component_serialises_as_icalendar_does():
    event = Event()
    event.add("uid", "a@b")
    event.add("dtstart", datetime(2025, 4, 8, 11, tzinfo=UTC))
    event.add("summary", "Digital ledelse: Kick-off-webinar — før, under og efter 🙂 " * 3)
    event.add("description", "Temaer: a, b\n\nOpgaver:\n- læs kapitel 3 (fre 11 apr 12:00)\\")
    assert component_ics(event) == event.to_ical()
