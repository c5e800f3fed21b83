"""The overdue rule the outbox pass and a join share (services/overdue.py), on SQLite and
PostgreSQL: what it skips, for whom, and in words that say which of the two skipped it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from cohort import db, services
from cohort.core.deliveries import first_email_of
from cohort.core.participants import ParticipantRow
from cohort.models import Delivery
from cohort.services import overdue
from tests.fixtures.cohorts import START

PEOPLE = [ParticipantRow("Anne Jensen", "anne@vejle.example", "Vejle Kommune", "Leder", "da"),
          ParticipantRow("Bo Holm", "bo@kolding.example", "Kolding Kommune", "Leder", "da"),
          ParticipantRow("Cai Berg", "cai@odense.example", "Odense Kommune", "Leder", "da")]
LIMIT = timedelta(hours=72)
LATER = datetime.combine(START + timedelta(days=30), time(9), UTC)


def _states(engine) -> dict[str, dict[tuple[str, str], tuple[str, str | None]]]:
    with db.read_session(engine) as session:
        found: dict[str, dict] = {}
        for row in session.scalars(select(Delivery)):
            found.setdefault(row.recipient, {})[row.kind, row.anchor] = (row.state,
                                                                         row.last_error)
        return found


def test_only_the_recipients_given_and_each_skip_says_who_skipped_it(engine, make_cohort,
                                                                      monkeypatch):
    cohort_id = make_cohort(engine, people=PEOPLE).id
    monkeypatch.setattr(overdue, "RECIPIENTS_AT_ONCE", 1)  # one statement per person
    with db.transaction(engine) as session:
        joined = overdue.skip_overdue(session.connection(), LATER, LIMIT, cohort_id=cohort_id,
                                      recipients=["anne@vejle.example", "bo@kolding.example"],
                                      when=overdue.WHEN_THEY_JOINED)
    after = _states(engine)
    assert {state for state, _e in after["cai@odense.example"].values()} <= {"pending",
                                                                             "skipped"}
    assert not [e for _s, e in after["cai@odense.example"].values()
                if e and "overdue" in e]
    skipped = 0
    for person in ("anne@vejle.example", "bo@kolding.example"):
        rows = after[person]
        for (kind, anchor), (state, error) in rows.items():
            if error and error.startswith("skipped: overdue"):
                assert error.endswith("when they joined")
                skipped += 1
            first = first_email_of(kind, anchor)
            if first and state == "pending":
                assert rows[first][0] == "pending", (kind, anchor)
            if error == "skipped: its first email was not sent":
                skipped += 1
    assert joined == skipped > 0
    # The pass then takes the rest, in its own words; nothing of those who joined is left.
    with db.transaction(engine) as session:
        assert overdue.skip_overdue(session.connection(), LATER, LIMIT) > 0
    cai = _states(engine)["cai@odense.example"]
    assert any(e and e.endswith("when the outbox ran again") for _s, e in cai.values())
    assert _states(engine)["anne@vejle.example"] == after["anne@vejle.example"]


def test_a_paused_or_draft_cohort_has_nothing_skipped(engine, make_cohort):
    paused = make_cohort(engine, people=PEOPLE[:1]).id
    draft = make_cohort(engine, people=PEOPLE[1:2], title="Kladde", launched=False).id
    with db.transaction(engine) as session:
        services.set_paused(session, paused, True, LATER)
    with db.transaction(engine) as session:
        for cohort_id in (paused, draft):
            assert overdue.skip_overdue(session.connection(), LATER, LIMIT,
                                        cohort_id=cohort_id) == 0
