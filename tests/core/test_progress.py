"""The progress grid's rules: cell states, filters, sorting, paging, and when a facilitator's
message goes under the mail policy."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cohort.core import progress as p
from cohort.core.mailpolicy import MailPolicy, WorkingTime
from tests.fixtures.properties import property_settings

NOW = datetime(2025, 5, 15, 13, 30, tzinfo=UTC)  # Thursday, 15:30 in Copenhagen
HOUR = timedelta(hours=1)


def test_meeting_cells():
    assert p.meeting_cell("present", NOW - HOUR, False, NOW) == p.PRESENT
    assert p.meeting_cell(None, NOW - HOUR, False, NOW) == p.UNMARKED
    assert p.meeting_cell(None, NOW + HOUR, False, NOW) == p.UPCOMING
    assert p.meeting_cell("absent", NOW - HOUR, True, NOW) == p.CANCELLED


def test_task_prompt_survey_and_link_cells():
    assert p.task_cell(True, NOW + HOUR, None, NOW) == p.DONE
    assert p.task_cell(False, NOW + HOUR, None, NOW) == p.NOT_YET
    assert p.task_cell(False, NOW - HOUR, NOW + HOUR, NOW) == p.OPEN
    assert p.task_cell(False, NOW - 2 * HOUR, NOW - HOUR, NOW) == p.OVERDUE
    assert p.prompt_cell(False, NOW + HOUR, NOW) == p.NOT_YET
    assert p.prompt_cell(False, NOW - HOUR, NOW) == p.NOT_ANSWERED
    assert p.survey_cell(False, NOW - 2 * HOUR, NOW - HOUR, NOW) == p.CLOSED_UNANSWERED
    assert p.survey_cell(True, NOW - 2 * HOUR, NOW - HOUR, NOW) == p.ANSWERED
    assert p.link_cell(False) == p.NOT_OPENED
    # Every state has a tone, and so a sign and words on the page.
    assert set(p.TONES.values()) == {p.OK, p.ATTENTION, p.MISSING, p.NEUTRAL}


def test_parse_filters_ignores_what_it_does_not_know():
    f = p.parse_filters({"missed": "2", "link": "not_opened", "task": "a", "group": "7",
                         "sort": "missed", "order": "desc"}, ["a"], [7])
    assert f == p.GridFilters(2, True, "a", 7, "missed", True)
    assert p.parse_filters(f.as_args(), ["a"], [7]) == f
    junk = p.parse_filters({"missed": "-1", "task": "zz", "group": "x", "sort": "evil"},
                           ["a"], [7])
    assert junk == p.GridFilters() and not junk.active


rows_strategy = st.lists(st.builds(
    p.RowSummary, participant_id=st.integers(1, 10_000), name=st.sampled_from(
        ["Anne", "anne", "Bo", "Åse", "Øjvind", "Carl"]),
    email=st.just("x@y.example"), organisation=st.sampled_from(["A", "b", ""]),
    missed=st.integers(0, 5), tasks_done=st.integers(0, 5), answers=st.integers(0, 5),
    link_opened=st.booleans()), max_size=60, unique_by=lambda r: r.participant_id)


@property_settings(200)
@given(rows=rows_strategy, missed=st.none() | st.integers(1, 4), link=st.booleans(),
       sort=st.sampled_from(p.SORTS), descending=st.booleans(),
       done=st.sets(st.integers(1, 10_000), max_size=30), task=st.booleans(),
       size=st.integers(1, 20))
def test_filters_keep_exactly_the_matching_rows_and_pages_cover_them(
        rows, missed, link, sort, descending, done, task, size):
    filters = p.GridFilters(missed, link, "t" if task else None, None, sort, descending)
    kept = p.select_rows(rows, filters, done)
    expected = {r.participant_id for r in rows
                if (missed is None or r.missed >= missed) and (not link or not r.link_opened)
                and (not task or r.participant_id not in done)}
    assert sorted(r.participant_id for r in kept) == sorted(expected)
    # Sorted by the column, ties by name then id (ascending, whichever the direction).
    attribute = {"name": None, "organisation": lambda r: r.organisation.casefold(),
                 "missed": lambda r: r.missed, "tasks": lambda r: r.tasks_done,
                 "answers": lambda r: r.answers, "link": lambda r: r.link_opened}[sort]
    for a, b in zip(kept, kept[1:], strict=False):
        if attribute is None:
            pair = ((a.name.casefold(), a.participant_id), (b.name.casefold(), b.participant_id))
            assert (pair[0] >= pair[1]) if descending else (pair[0] <= pair[1])
        elif attribute(a) == attribute(b):
            assert (a.name.casefold(), a.participant_id) <= (b.name.casefold(),
                                                            b.participant_id)
        else:
            assert (attribute(a) > attribute(b)) if descending else (attribute(a) < attribute(b))
    # The pages together are the rows, in order, each at most `size` long.
    first = p.page_of(kept, 1, size)
    pages = [p.page_of(kept, n, size) for n in range(1, first.pages + 1)]
    assert [r for page in pages for r in page.rows] == kept
    assert all(len(page.rows) <= size for page in pages)
    assert p.page_of(kept, first.pages + 5, size).number == first.pages


POLICY = MailPolicy(timezone="Europe/Copenhagen")


def test_urgent_goes_now_even_at_night():
    night = datetime(2025, 5, 17, 22, 0, tzinfo=UTC)  # a Saturday, midnight local
    assert p.message_send_at(night, POLICY, None, urgent=True) == night


def test_joins_the_next_bundled_email_when_it_is_near():
    soon = NOW + timedelta(days=1)
    assert p.message_send_at(NOW, POLICY, soon) == soon


def test_otherwise_at_the_next_allowed_time():
    far = NOW + timedelta(days=9)
    evening = datetime(2025, 5, 16, 18, 0, tzinfo=UTC)  # Friday 20:00 local
    assert p.message_send_at(NOW, POLICY, far) == NOW  # within working hours: now
    monday = p.message_send_at(evening, POLICY, None)
    local = monday.astimezone(WorkingTime(POLICY).zone)
    assert local.weekday() == 0 and local.time() == time(8, 0)
    assert p.message_send_at(evening, None, None) == evening


@property_settings(100)
@given(offset=st.integers(0, 24 * 14), next_in=st.none() | st.integers(0, 24 * 10))
def test_a_message_never_goes_before_now_nor_outside_the_policy(offset, next_in):
    now = NOW + timedelta(hours=offset)
    upcoming = None if next_in is None else now + timedelta(hours=next_in)
    at = p.message_send_at(now, POLICY, upcoming)
    assert at >= now
    assert at == upcoming or WorkingTime(POLICY).allowed(at)
