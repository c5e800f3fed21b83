"""The launch forecast: what a draft's launch sends within the horizon and what it skips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cohort.core import deliveries as kinds
from cohort.core.launching import PendingEmail, forecast_launch, send_at_after_launch

NOW = datetime(2025, 3, 20, 9, 0, tzinfo=UTC)
LIMIT = timedelta(hours=72)
CREATED = NOW - timedelta(days=19)


def test_emails_due_at_once_move_to_the_launch_planned_ones_keep_their_time():
    assert send_at_after_launch(kinds.WELCOME, CREATED, NOW) == NOW
    assert send_at_after_launch(kinds.MEETING_INVITATION, CREATED, NOW) == NOW
    assert send_at_after_launch(kinds.TASK_RELEASED, CREATED, NOW) == CREATED
    later = NOW + timedelta(days=1)
    assert send_at_after_launch(kinds.WELCOME, later, NOW) == later


def test_forecast_counts_per_kind_and_skips_as_the_dispatcher_does():
    meeting = NOW + timedelta(days=10)
    emails = [
        PendingEmail(kinds.WELCOME, "a@x", CREATED),
        PendingEmail(kinds.WELCOME, "b@x", CREATED),
        PendingEmail(kinds.MEETING_INVITATION, "a@x", CREATED, deadline=meeting),
        # The kickoff started yesterday: its invitation is too late.
        PendingEmail(kinds.MEETING_INVITATION, "b@x", CREATED, deadline=NOW - timedelta(days=1)),
        # Planned four days ago, never tried: overdue beyond the limit.
        PendingEmail(kinds.TASK_RELEASED, "a@x", NOW - timedelta(days=4)),
        # Planned two days ago: within the limit, sent at once.
        PendingEmail(kinds.PROMPT, "a@x", NOW - timedelta(days=2)),
        # A reminder for what is done already.
        PendingEmail(kinds.TASK_REMINDER, "b@x", NOW + timedelta(days=3), settled=True),
        PendingEmail(kinds.FACILITATOR_DIGEST, kinds.FACILITATOR, meeting - timedelta(days=1),
                     deadline=meeting),
        PendingEmail(kinds.SURVEY_INVITATION, "a@x", NOW + timedelta(days=15)),
    ]
    forecast = forecast_launch(emails, NOW, overdue_limit=LIMIT)
    assert [(k.kind, k.emails, k.recipients) for k in forecast.sending] == [
        (kinds.WELCOME, 2, 2), (kinds.MEETING_INVITATION, 1, 1), (kinds.PROMPT, 1, 1),
        (kinds.FACILITATOR_DIGEST, 1, 1)]
    assert forecast.sending[0].first_at == NOW
    assert forecast.sending[-1].first_at == meeting - timedelta(days=1)
    assert forecast.skipped == ((kinds.MEETING_INVITATION, 1), (kinds.TASK_RELEASED, 1),
                                (kinds.TASK_REMINDER, 1))
    assert (forecast.sending_total, forecast.skipped_total, forecast.later,
            forecast.recipients) == (5, 3, 1, 3)


def test_a_retried_row_is_not_overdue():
    retried = PendingEmail(kinds.TASK_RELEASED, "a@x", NOW - timedelta(days=5), attempts=2)
    assert forecast_launch([retried], NOW, overdue_limit=LIMIT).sending_total == 1


def test_forecast_counts_the_emails_people_get_not_the_items_inside_them():
    """Items of one person due at the same time travel as one email (core.deliveries
    .bundle_key): the forecast counts that email once, under the kind of its first section,
    and says how many items of each kind travel inside another kind's email."""
    soon = NOW + timedelta(days=2)
    emails = [
        PendingEmail(kinds.WELCOME, "a@x", CREATED),
        PendingEmail(kinds.TASK_RELEASED, "a@x", NOW),  # due at the launch: in the welcome
        PendingEmail(kinds.SURVEY_INVITATION, "a@x", NOW),  # the same
        PendingEmail(kinds.WELCOME, "b@x", CREATED),
        PendingEmail(kinds.MEETING_INVITATION, "a@x", CREATED),  # a calendar email: alone
        PendingEmail(kinds.TASK_RELEASED, "b@x", soon),  # alone on its day
        PendingEmail(kinds.PROMPT, "b@x", soon + timedelta(days=1)),
        PendingEmail(kinds.TASK_REMINDER, "b@x", soon + timedelta(days=1)),  # with the prompt
        PendingEmail(kinds.TASK_REMINDER, "b@x", soon + timedelta(days=1), settled=True),
    ]
    forecast = forecast_launch(emails, NOW, overdue_limit=LIMIT)
    assert [(k.kind, k.emails, k.items, k.bundled) for k in forecast.sending] == [
        (kinds.WELCOME, 2, 2, 0), (kinds.MEETING_INVITATION, 1, 1, 0),
        (kinds.TASK_RELEASED, 1, 2, 1), (kinds.TASK_REMINDER, 1, 1, 0),
        (kinds.PROMPT, 0, 1, 1), (kinds.SURVEY_INVITATION, 0, 1, 1)]
    assert forecast.sending_total == 5  # what the two people's inboxes will hold
    assert forecast.items_total == 8


def test_a_reminder_of_a_first_email_skipped_as_overdue_is_skipped_with_it():
    """A late launch plans the tasks released before it at their past times, so the outbox
    skips their emails as overdue, and with them their reminders (mail/outbox/claim.py):
    the forecast counted those reminders as going, within the horizon or later."""
    due = NOW + timedelta(days=40)
    emails = [
        PendingEmail(kinds.TASK_RELEASED, "a@x", NOW - timedelta(days=4), deadline=due,
                     anchor="task:old"),
        PendingEmail(kinds.TASK_REMINDER, "a@x", NOW + timedelta(days=3), deadline=due,
                     anchor="task:old"),
        PendingEmail(kinds.TASK_REMINDER, "a@x", NOW + timedelta(days=30), deadline=due,
                     anchor="task:old"),
        # Someone else's first email went: their reminder goes.
        PendingEmail(kinds.TASK_RELEASED, "b@x", NOW - timedelta(days=1), deadline=due,
                     anchor="task:old"),
        PendingEmail(kinds.TASK_REMINDER, "b@x", NOW + timedelta(days=3), deadline=due,
                     anchor="task:old"),
        PendingEmail(kinds.SURVEY_INVITATION, "a@x", NOW - timedelta(days=5), deadline=due,
                     anchor="survey:pre"),
        PendingEmail(kinds.SURVEY_REMINDER, "a@x", NOW + timedelta(days=2), deadline=due,
                     anchor="survey:pre#1"),
    ]
    forecast = forecast_launch(emails, NOW, overdue_limit=LIMIT)
    assert dict(forecast.skipped) == {kinds.TASK_RELEASED: 1, kinds.TASK_REMINDER: 2,
                                      kinds.SURVEY_INVITATION: 1, kinds.SURVEY_REMINDER: 1}
    assert {(k.kind, k.items) for k in forecast.sending} == {
        (kinds.TASK_RELEASED, 1), (kinds.TASK_REMINDER, 1)}
    assert forecast.later == 0
