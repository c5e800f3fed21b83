"""The facilitator digest: the window between meetings, grouping and order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cohort.core.digest import Contribution, DigestMeeting, compose_digest

START = datetime(2025, 5, 15, 11, 0, tzinfo=UTC)
PREVIOUS_END = datetime(2025, 4, 17, 13, 0, tzinfo=UTC)
MEETING = DigestMeeting("webinar-1", "Webinar 1", START, ("Medarbejderen",), ())


def contribution(kind, source, text, at, who="Anne"):
    return Contribution(kind, source, text, at, who, "Vejle Kommune")


def test_only_the_window_since_the_previous_meeting_counts():
    items = [
        contribution("prompt", "Q1", "before the previous meeting",
                     PREVIOUS_END - timedelta(days=1)),
        contribution("prompt", "Q1", "in the window", PREVIOUS_END + timedelta(days=2)),
        contribution("task", "Saml spørgsmål", "Hvordan får vi de ældre med?",
                     START - timedelta(days=1), "Bo"),
        contribution("prompt", "Q1", "   ", PREVIOUS_END + timedelta(days=3)),
        contribution("prompt", "Q2", "after the meeting started", START + timedelta(hours=1)),
    ]
    digest = compose_digest(MEETING, PREVIOUS_END, items, now=START + timedelta(days=1))
    assert digest.count == 2
    assert [(s.source_kind, s.source) for s in digest.sections] == [("prompt", "Q1"),
                                                                    ("task", "Saml spørgsmål")]
    assert digest.sections[0].contributions[0].text == "in the window"
    assert digest.until == START


def test_first_meeting_takes_everything_until_now():
    items = [contribution("prompt", "Q", "early", START - timedelta(days=30)),
             contribution("prompt", "Q", "later", START - timedelta(days=2))]
    digest = compose_digest(MEETING, None, items, now=START - timedelta(days=1))
    assert [c.text for c in digest.sections[0].contributions] == ["early", "later"]
    assert digest.since is None and digest.until == START - timedelta(days=1)
