"""The outbox page counts and pages in the database: the counts per state are those of the
emails `outbox_emails` lists (a bundle is one email), a page loads only its own rows, and the
page a facilitator lands on holds the next emails to go (each test runs on SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select, update

from cohort import db, services
from cohort.core import deliveries as kinds
from cohort.core.participants import ParticipantRow
from cohort.models import Announcement, Delivery
from cohort.services.outbox_pages import OutboxFilters, item_titles, outbox_page
from tests.fixtures.statements import recorded_statements

PEOPLE = [ParticipantRow(f"Leder {i}", f"leder{i}@kommune.example", "Kommune", "Leder", "da")
          for i in range(6)]
NOW = datetime(2025, 5, 20, 10, 0, tzinfo=UTC)  # six weeks into the programme


def cohort_with_history(engine, make_cohort) -> int:
    """Everything due before NOW went out (a bundle under one Message-ID), one failed, one
    was cancelled: the outbox holds every state a facilitator sees."""
    cohort_id = make_cohort(engine, people=PEOPLE).id
    with db.transaction(engine) as session:
        for n, email in enumerate(e for e in services.outbox_emails(session, cohort_id)
                                  if e.send_at < NOW and e.state == kinds.PENDING):
            for row in email.items:
                row.state, row.sent_at, row.attempts = kinds.SENT, email.send_at, 1
                row.message_id = f"<{n}@cohort.example>"
        session.flush()
        late = session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.state == kinds.PENDING,
            Delivery.kind == kinds.PROMPT).order_by(Delivery.send_at, Delivery.id)).first()
        late.state, late.attempts, late.last_code = kinds.FAILED, 3, 550
        session.execute(update(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.anchor == "meeting:kickout",
            Delivery.kind == kinds.MEETING_INVITATION).values(state=kinds.CANCELLED))
    return cohort_id


def every_page(session, cohort_id, filters, per_page=50):
    first = outbox_page(session, cohort_id, filters, 1, per_page)
    return [first, *(outbox_page(session, cohort_id, filters, n, per_page)
                     for n in range(2, first.pages + 1))]


def test_counts_and_pages_are_the_emails_of_the_outbox(engine, make_cohort):
    cohort_id = cohort_with_history(engine, make_cohort)
    with db.transaction(engine) as session:
        emails = services.outbox_emails(session, cohort_id)
        for filters, chosen in [
                (OutboxFilters(), lambda e: True),
                (OutboxFilters(kind=kinds.TASK_RELEASED),
                 lambda e: any(d.kind == kinds.TASK_RELEASED for d in e.items)),
                (OutboxFilters(kind="bundle"), lambda e: len(e.items) > 1),
                (OutboxFilters(person="LEDER3@"), lambda e: e.recipient.startswith("leder3@")),
                (OutboxFilters(start=NOW, end=NOW + timedelta(days=20)),
                 lambda e: NOW <= e.send_at < NOW + timedelta(days=20))]:
            wanted = [e for e in emails if chosen(e)]
            pages = every_page(session, cohort_id, filters, per_page=40)
            assert pages[0].counts == dict(Counter(e.state for e in wanted)), filters
            assert pages[0].total == len(wanted)
            listed = [e for page in pages for e in page.emails]
            assert [(e.kind, e.recipient, e.send_at, e.state, [d.id for d in e.items])
                    for e in listed] == [
                (e.kind, e.recipient, e.send_at, e.state, [d.id for d in e.items])
                for e in wanted], filters
            for state, count in pages[0].counts.items():
                only = outbox_page(session, cohort_id,
                                   OutboxFilters(**{**filters.__dict__, "state": state}))
                assert only.total == count and {e.state for e in only.emails} == {state}
    assert {e.state for e in emails} >= {kinds.SENT, kinds.PENDING, kinds.FAILED,
                                         kinds.CANCELLED}
    assert any(len(e.items) > 1 and e.state == kinds.SENT for e in emails)


def test_a_page_loads_only_its_own_rows(engine, make_cohort):
    cohort_id = cohort_with_history(engine, make_cohort)
    loaded: list[int] = []

    def count(target, _context):
        loaded.append(target.id)

    event.listen(Delivery, "load", count)
    try:
        with db.transaction(engine) as session:
            total = len(session.scalars(select(Delivery.id).where(
                Delivery.cohort_id == cohort_id)).all())
            page = outbox_page(session, cohort_id, OutboxFilters(), 2, 20)
    finally:
        event.remove(Delivery, "load", count)
    assert total > 500 and len(page.emails) == 20
    assert sorted(loaded) == sorted(d.id for e in page.emails for d in e.items)


def test_the_outbox_opens_at_the_next_emails_to_go(engine, make_cohort):
    cohort_id = cohort_with_history(engine, make_cohort)
    with db.transaction(engine) as session:
        emails = services.outbox_emails(session, cohort_id)
        upcoming = next(e for e in emails if e.state == kinds.PENDING)
        assert emails.index(upcoming) >= 50  # history fills the first page and more
        opened = outbox_page(session, cohort_id, OutboxFilters(), None)
        assert opened.page == emails.index(upcoming) // 50 + 1 > 1
        assert [d.id for d in upcoming.items] in [[d.id for d in e.items]
                                                  for e in opened.emails]
        assert opened.next_to_go == upcoming.items[0].id
        # An explicit page is that page; with nothing left to send, the newest page.
        assert outbox_page(session, cohort_id, OutboxFilters(), 1).page == 1
        sent = outbox_page(session, cohort_id, OutboxFilters(state=kinds.SENT), None)
        assert sent.page == sent.pages and sent.next_to_go is None


def test_item_titles_name_every_kind_of_item_in_one_statement(engine, make_cohort):
    """The outbox, the cohort overview and a meeting change's preview name what an email is
    about with `item_titles`; the overview reads a fixed number of statements, so this is one
    (tests/web/test_page_statements.py)."""
    cohort_id = make_cohort(engine, people=PEOPLE).id
    with db.transaction(engine) as session:
        session.add(Announcement(cohort_id=cohort_id, subject="Lokale flyttet", body="..."))
        session.flush()
        announcement = session.scalars(select(Announcement.id)).one()
        anchors = {"meeting:kickoff", "meeting:webinar-2#3", "task:questions@kickoff",
                   "survey:meeting-evaluation@kickoff#2", "prompt:leading-question@workshop-1",
                   f"announcement:{announcement}", "cohort", "task:no-such-task"}
        with recorded_statements(engine) as seen:
            titles = item_titles(session, cohort_id, anchors)
        assert len(seen) == 1
    assert titles == {
        "meeting:kickoff": "Kick-off-webinar", "meeting:webinar-2#3": "Webinar 2",
        "task:questions@kickoff": "Saml spørgsmål og refleksioner til næste møde",
        "survey:meeting-evaluation@kickoff#2": "Evaluering af mødet",
        "prompt:leading-question@workshop-1": "Workshop 1",
        f"announcement:{announcement}": "Lokale flyttet"}
