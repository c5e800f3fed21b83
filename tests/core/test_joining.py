"""What a late joiner's welcome lists (core/joining.py): the items released before they joined
whose first emails the outbox does not send them, and nothing that still reaches them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cohort.core import deliveries as kinds
from cohort.core.joining import (
    FirstEmail,
    MissedItem,
    PlannedItem,
    is_late_joiner,
    missed_before_joining,
)

LAUNCHED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
JOINED = datetime(2025, 4, 14, 9, 0, tzinfo=UTC)
LIMIT = timedelta(hours=72)
KICKOFF = ("Kick-off", datetime(2025, 4, 8, 11, 0, tzinfo=UTC))
WORKSHOP = ("Workshop 1", datetime(2025, 4, 17, 7, 0, tzinfo=UTC))


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2025, 4, day, hour, 0, tzinfo=UTC)


def task(key: str, released: datetime, due: datetime | None,
         meeting: tuple[str, datetime] = KICKOFF) -> PlannedItem:
    return PlannedItem(kinds.TASK_RELEASED, f"task:{key}", key.title(), released, due, due,
                       *meeting)


def survey(key: str, opens: datetime, closes: datetime) -> PlannedItem:
    return PlannedItem(kinds.SURVEY_INVITATION, f"survey:{key}", key.title(), opens, closes,
                       closes, *KICKOFF)


def prompt(key: str, sent: datetime, before: datetime | None = None) -> PlannedItem:
    return PlannedItem(kinds.PROMPT, f"prompt:{key}", f"Why {key}?", sent, None, before,
                       *(WORKSHOP if before else KICKOFF))


def email(item: PlannedItem, state: str = kinds.SKIPPED, send_at: datetime | None = None,
          attempts: int = 0, resend: int = 0) -> FirstEmail:
    return FirstEmail(item.kind, item.anchor, state, send_at or item.released_at, attempts,
                      resend)


def missed(emails, items, now=JOINED, joined=JOINED, launched=LAUNCHED):
    return missed_before_joining(joined, launched, emails, items, [KICKOFF, WORKSHOP], now,
                                 LIMIT)


def test_only_someone_added_after_the_launch_is_a_late_joiner():
    assert is_late_joiner(JOINED, LAUNCHED)
    assert not is_late_joiner(LAUNCHED, LAUNCHED)  # added with the launch
    assert not is_late_joiner(JOINED, None)  # a draft's people all start together
    case = task("case", at(9), at(16))
    assert missed([email(case)], [case], launched=JOINED) is None
    assert missed([email(case)], [case], launched=None) is None


def test_what_the_outbox_skipped_before_they_joined_is_listed_with_due_dates_and_next_meeting():
    case = task("case", at(9), at(16))
    reading = task("reading", at(9), None)
    question = prompt("lead", at(9, 7), before=WORKSHOP[1])
    found = missed([email(case), email(reading), email(question)], [case, reading, question])
    assert found.items == (
        MissedItem("task", "Case", at(9), at(16), *KICKOFF),
        MissedItem("task", "Reading", at(9), None, *KICKOFF),
        MissedItem("prompt", "Why lead?", at(9, 7), None, *WORKSHOP),
    )
    assert (found.next_meeting_title, found.next_meeting_starts_at) == WORKSHOP


def test_what_still_reaches_them_is_not_listed():
    sent = task("sent", at(9), at(16))
    fresh = task("fresh", at(12), at(16))  # 48 hours before they joined: the outbox sends it
    later = task("later", at(15), at(23))  # after they joined
    failed = task("failed", at(9), at(16))
    assert missed([email(sent, kinds.SENT), email(fresh, kinds.PENDING),
                   email(later, kinds.PENDING), email(failed, kinds.FAILED)],
                  [sent, fresh, later, failed]) is None
    # Skipped after they joined (a long pause, say): not something released before they came.
    assert missed([email(later)], [later], now=at(20)) is None


def test_waiting_emails_the_outbox_will_skip_are_listed_as_if_skipped():
    """A paused cohort's outbox has not skipped them yet: the preview must say what the
    welcome will, so the outbox's own rule decides (overdue, or past its deadline)."""
    overdue = task("overdue", at(9), at(20))
    claimed = task("claimed", at(9), at(20))
    too_late = task("too-late", at(12), at(13))  # 45 hours old, but due yesterday
    tried = task("tried", at(9), at(20))  # being retried: not overdue (as the outbox says)
    found = missed([email(overdue, kinds.PENDING), email(claimed, kinds.CLAIMED),
                    email(too_late, kinds.PENDING), email(tried, kinds.PENDING, attempts=1)],
                   [overdue, claimed, too_late, tried])
    assert [item.title for item in found.items] == ["Claimed", "Overdue", "Too-Late"]
    # A preview some hours later: the fresh one is overdue by then too.
    fresh = task("fresh", at(12), at(20))
    assert "Fresh" not in [i.title for i in missed([email(fresh, kinds.PENDING)] + [
        email(overdue)], [fresh, overdue]).items]
    assert [i.title for i in missed([email(fresh, kinds.PENDING)], [fresh],
                                    now=at(15, 10)).items] == ["Fresh"]


def test_closed_surveys_and_reminders_and_resends_and_removed_items_are_not_listed():
    closed = survey("pre", at(1), at(8))
    still_open = survey("evaluation", at(8, 13), at(15, 13))
    case = task("case", at(9), at(16))
    reminder = FirstEmail(kinds.TASK_REMINDER, case.anchor, kinds.SKIPPED, at(10))
    resend = email(case, resend=1)
    gone = FirstEmail(kinds.TASK_RELEASED, "task:gone", kinds.SKIPPED, at(9))
    found = missed([email(closed), email(still_open), reminder, resend, gone],
                   [closed, still_open, case])
    assert [(i.kind, i.title) for i in found.items] == [("survey", "Evaluation")]
    # Once it closes, the open survey goes too, and with it the whole part.
    assert missed([email(closed), email(still_open)], [closed, still_open],
                  now=at(15, 14)) is None


def test_items_are_listed_meeting_by_meeting_and_without_a_next_meeting_at_the_end():
    after = task("after-kickoff", at(9), at(16))
    before = prompt("before-workshop", at(9), before=WORKSHOP[1])
    earlier = PlannedItem(kinds.PROMPT, "prompt:kickoff", "Why?", at(10), None, None,
                          *KICKOFF)
    found = missed([email(before), email(earlier), email(after)], [after, before, earlier],
                   now=at(30))
    assert [i.meeting_title for i in found.items] == ["Kick-off", "Kick-off", "Workshop 1"]
    assert [i.kind for i in found.items] == ["task", "prompt", "prompt"]
    assert found.next_meeting_title is None and found.next_meeting_starts_at is None
