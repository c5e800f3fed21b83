"""The outbox's rules without any I/O: backoff, give-up, skips, Message-IDs, digest timing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cohort.core import deliveries as kinds
from cohort.core.deliveries import meeting_key_of, plan_facilitator_deliveries
from cohort.core.planning import MeetingOverride, plan_cohort
from cohort.core.sending import (
    RetryPolicy,
    SendFailure,
    is_permanent_smtp_code,
    message_id,
    outcome_of_failure,
    skip_reason,
)

NOW = datetime(2025, 4, 1, 8, 0, tzinfo=UTC)


def test_backoff_doubles_up_to_the_cap():
    policy = RetryPolicy(max_attempts=10, base=timedelta(minutes=1), cap=timedelta(minutes=10))
    assert [policy.delay(n) for n in range(1, 7)] == [timedelta(minutes=m)
                                                      for m in (1, 2, 4, 8, 10, 10)]


def test_temporary_failure_retries_until_the_limit_then_fails():
    policy = RetryPolicy(max_attempts=3)
    busy = SendFailure(421, "4.3.2 try again later", permanent=False)
    first = outcome_of_failure(busy, 1, NOW, policy)
    assert (first.state, first.retry_at, first.code) == ("pending", NOW + timedelta(minutes=1),
                                                         421)
    assert outcome_of_failure(busy, 2, NOW, policy).retry_at == NOW + timedelta(minutes=2)
    last = outcome_of_failure(busy, 3, NOW, policy)
    assert last.state == "failed" and last.retry_at is None
    assert last.error == "gave up after 3 attempts: 4.3.2 try again later"


def test_permanent_failure_fails_at_once_with_its_code():
    outcome = outcome_of_failure(SendFailure(550, "5.1.1 no such user", permanent=True), 1, NOW,
                                 RetryPolicy())
    assert (outcome.state, outcome.code, outcome.error) == ("failed", 550, "5.1.1 no such user")


def test_only_5xx_is_permanent():
    assert [is_permanent_smtp_code(c) for c in (None, 250, 421, 452, 550, 554)] == [
        False, False, False, False, True, True]


def test_message_id_is_stable_per_row_and_distinct_between_rows():
    one = message_id(7, 1, "prompt", "prompt:x@kickoff", "a@x.example", 0, "kommune.example")
    assert one == message_id(7, 1, "prompt", "prompt:x@kickoff", "a@x.example", 0,
                             "kommune.example")
    assert one.startswith("<cohort.1.7.") and one.endswith("@kommune.example>")
    resent = message_id(8, 1, "prompt", "prompt:x@kickoff", "a@x.example", 1, "kommune.example")
    assert resent != one


def test_skip_reasons():
    limit = timedelta(hours=72)
    due = NOW - timedelta(hours=1)
    assert skip_reason("prompt", due, NOW, deadline=None, settled=False,
                       overdue_limit=limit) is None
    assert skip_reason("task_reminder", due, NOW, deadline=None, settled=True,
                       overdue_limit=limit) == "already done"
    # A task *release* is still worth sending when the participant ticked it off early.
    assert skip_reason("task_released", due, NOW, deadline=None, settled=True,
                       overdue_limit=limit) is None
    assert skip_reason("meeting_invitation", due, NOW, deadline=NOW - timedelta(minutes=1),
                       settled=False, overdue_limit=limit).startswith("too late: its meeting")
    assert skip_reason("prompt", NOW - timedelta(days=4), NOW, deadline=None, settled=False,
                       overdue_limit=limit) == "overdue by more than 3 day(s)"
    # The welcome carries the personal link: late (an outbox paused for days) beats never.
    assert skip_reason("welcome", NOW - timedelta(days=40), NOW, deadline=None, settled=False,
                       overdue_limit=limit) is None


def test_digest_goes_the_day_before_each_meeting_at_14_local(library):
    programme = library.programmes["digital-lederskab"]
    plan = plan_cohort(programme, date(2025, 4, 8), "Europe/Copenhagen",
                       {"webinar-2": MeetingOverride(cancelled=True)})
    digests = plan_facilitator_deliveries(plan)
    assert {d.kind for d in digests} == {kinds.FACILITATOR_DIGEST}
    assert {d.recipient for d in digests} == {kinds.FACILITATOR}
    assert "meeting:webinar-2" not in {d.anchor for d in digests}
    kickoff = next(d for d in digests if d.anchor == "meeting:kickoff")
    assert kickoff.send_at == datetime(2025, 4, 7, 12, 0, tzinfo=UTC)  # 14:00 CEST
    assert meeting_key_of("meeting:webinar-2#3") == "webinar-2"
