"""The progress grid's rules: what a cell says, which rows a filter keeps, how rows sort, and
when a facilitator's message (an announcement or a "remind these") goes out.

The grid has one row per participant and a column per meeting (attendance), per task (done),
per reflection question (answered), per *identified* survey (answered) and one for the personal
link (opened). Anonymous surveys have no per-person column at all: their header carries the
response count, as the evaluation pages show it while a survey is open (core/publication.py,
rule 5). Each cell has a state, and each state a tone (ok, attention, missing, neutral) that the
page shows as text and colour together, never colour alone.

The services count each participant's figures in the database (`RowSummary`, one aggregate
query for the whole cohort); filtering, sorting and paging those few numbers per person happen
here, so a page of 50 out of 5,000 costs a handful of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from .attendance import MISSED_STATES
from .mailpolicy import MailPolicy, WorkingTime
from .paging import first_on_page, last_on_page, page_count, page_within
from .text import whole_number

# Tones of a cell: the traffic light, always shown with the state's words.
OK, ATTENTION, MISSING, NEUTRAL = "ok", "attention", "missing", "neutral"

# Cell states.
PRESENT, ABSENT, EXCUSED, UNMARKED, UPCOMING, CANCELLED = (
    "present", "absent", "excused", "unmarked", "upcoming", "cancelled")
DONE, OPEN, OVERDUE, NOT_YET = "done", "open", "overdue", "not_yet"
ANSWERED, NOT_ANSWERED, CLOSED_UNANSWERED = "answered", "not_answered", "closed_unanswered"
OPENED, NOT_OPENED = "opened", "not_opened"

TONES: dict[str, str] = {
    PRESENT: OK, ABSENT: MISSING, EXCUSED: ATTENTION, UNMARKED: ATTENTION, UPCOMING: NEUTRAL,
    CANCELLED: NEUTRAL, DONE: OK, OPEN: ATTENTION, OVERDUE: MISSING, NOT_YET: NEUTRAL,
    ANSWERED: OK, NOT_ANSWERED: ATTENTION, CLOSED_UNANSWERED: MISSING, OPENED: OK,
    NOT_OPENED: MISSING,
}

PAGE_SIZE = 50
SORTS = ("name", "organisation", "missed", "tasks", "answers", "link")


def meeting_cell(mark: str | None, starts_at: datetime, cancelled: bool,
                 now: datetime) -> str:
    """A participant's attendance at one meeting."""
    if cancelled:
        return CANCELLED
    if mark in (PRESENT, ABSENT, EXCUSED):
        return mark
    return UPCOMING if starts_at > now else UNMARKED


def task_cell(done: bool, release_at: datetime, due_at: datetime | None,
              now: datetime) -> str:
    if done:
        return DONE
    if release_at > now:
        return NOT_YET
    return OVERDUE if due_at is not None and due_at <= now else OPEN


def prompt_cell(answered: bool, send_at: datetime, now: datetime) -> str:
    if answered:
        return ANSWERED
    return NOT_YET if send_at > now else NOT_ANSWERED


def survey_cell(answered: bool, opens_at: datetime, closes_at: datetime,
                now: datetime) -> str:
    """An *identified* survey only: anonymous surveys have no per-person cell."""
    if answered:
        return ANSWERED
    if opens_at > now:
        return NOT_YET
    return CLOSED_UNANSWERED if closes_at <= now else NOT_ANSWERED


def link_cell(opened: bool) -> str:
    return OPENED if opened else NOT_OPENED


def missed(marks: Iterable[str]) -> int:
    """Meetings missed, as the attendance overview counts them (absent or excused)."""
    return sum(1 for mark in marks if mark in MISSED_STATES)


class RowSummary(NamedTuple):
    """One participant's figures, counted in the database (a tuple: 5,000 are made per page
    view, and a tuple is the cheapest object to make)."""

    participant_id: int
    name: str
    email: str
    organisation: str
    missed: int
    tasks_done: int
    answers: int  # reflection questions answered plus identified surveys answered
    link_opened: bool


@dataclass(frozen=True)
class GridFilters:
    """What the facilitator narrowed the grid to; every given filter must hold.

    `task_not_done` is a task key: rows of people who have not marked that task done.
    `group_id` keeps the members of one group.
    """

    missed_at_least: int | None = None
    link_not_opened: bool = False
    task_not_done: str | None = None
    group_id: int | None = None
    sort: str = "name"
    descending: bool = False

    @property
    def active(self) -> bool:
        return bool(self.missed_at_least or self.link_not_opened or self.task_not_done
                    or self.group_id)

    def as_args(self) -> dict[str, str]:
        """The query string that gives these filters back (`parse_filters`)."""
        args: dict[str, str] = {}
        if self.missed_at_least:
            args["missed"] = str(self.missed_at_least)
        if self.link_not_opened:
            args["link"] = "not_opened"
        if self.task_not_done:
            args["task"] = self.task_not_done
        if self.group_id:
            args["group"] = str(self.group_id)
        if self.sort != "name":
            args["sort"] = self.sort
        if self.descending:
            args["order"] = "desc"
        return args


def parse_filters(args: Mapping[str, str], task_keys: Iterable[str] = (),
                  group_ids: Iterable[int] = ()) -> GridFilters:
    """Filters from a query string; anything unknown or malformed is ignored (a hand-edited
    URL shows the unfiltered grid rather than an error)."""
    missed_at_least = None
    missed = whole_number((args.get("missed") or "").strip(), 4)
    if missed is not None and 0 < missed <= 1000:
        missed_at_least = missed
    task = args.get("task") or None
    if task not in set(task_keys):
        task = None
    group = (args.get("group") or "").strip()
    group_id = whole_number(group)
    group_id = group_id if group_id in set(group_ids) else None
    sort = args.get("sort") if args.get("sort") in SORTS else "name"
    return GridFilters(missed_at_least=missed_at_least,
                       link_not_opened=args.get("link") == "not_opened",
                       task_not_done=task, group_id=group_id, sort=sort,
                       descending=args.get("order") == "desc")


def select_rows(rows: Sequence[RowSummary], filters: GridFilters,
                done_task: Iterable[int] = (),
                group_members: Iterable[int] | None = None) -> list[RowSummary]:
    """The rows that pass every filter, sorted. `done_task`: ids of the people who have done
    the filter's task; `group_members`: ids in the filter's group."""
    done = set(done_task)
    members = set(group_members) if group_members is not None else None
    kept = [r for r in rows
            if (filters.missed_at_least is None or r.missed >= filters.missed_at_least)
            and (not filters.link_not_opened or not r.link_opened)
            and (filters.task_not_done is None or r.participant_id not in done)
            and (filters.group_id is None or members is None
                 or r.participant_id in members)]
    return sort_rows(kept, filters.sort, filters.descending)


def sort_rows(rows: Iterable[RowSummary], sort: str = "name",
              descending: bool = False) -> list[RowSummary]:
    """By the chosen column, then by name (case-insensitive) and id, so pages never shuffle;
    descending reverses the column but keeps the tie-break by name ascending."""
    by_name = sorted(rows, key=lambda r: (r.name.casefold(), r.participant_id))
    if sort == "name" or sort not in SORTS:
        return by_name[::-1] if descending else by_name
    column = {
        "organisation": lambda r: r.organisation.casefold(),
        "missed": lambda r: r.missed,
        "tasks": lambda r: r.tasks_done,
        "answers": lambda r: r.answers,
        "link": lambda r: r.link_opened,
    }[sort]
    return sorted(by_name, key=column, reverse=descending)  # stable: names stay in order


@dataclass(frozen=True)
class Page:
    rows: list[RowSummary]
    number: int
    pages: int
    total: int
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        return first_on_page(self.number, self.size, self.total)

    @property
    def last(self) -> int:
        return last_on_page(self.number, self.size, self.total)


def page_of(rows: Sequence[RowSummary], number: int, size: int = PAGE_SIZE) -> Page:
    """Page `number` (from 1; out-of-range numbers give the nearest page)."""
    pages = page_count(len(rows), size)
    number = page_within(number, pages)
    start = (number - 1) * size
    return Page(list(rows[start:start + size]), number, pages, len(rows), size)


# --- when a facilitator's message goes ------------------------------------------------------

# A message joins the participant's next bundled email if that goes within this time;
# otherwise it goes at the next time the mail policy allows.
JOIN_WITHIN = timedelta(days=2)


def message_send_at(now: datetime, policy: MailPolicy | None, next_bundled: datetime | None,
                    urgent: bool = False) -> datetime:
    """When an announcement or a reminder for one participant goes out.

    Urgent: now (the room changed; quiet hours do not apply). Otherwise it rides along with
    the participant's next bundled email if one is due within `JOIN_WITHIN` (the mail policy's
    "at most one such email a day"), else at the next time the policy allows.
    """
    if urgent:
        return now
    if next_bundled is not None and now <= next_bundled <= now + JOIN_WITHIN:
        return next_bundled
    if policy is None:
        return now
    return WorkingTime(policy).next_allowed(now)


MAX_SUBJECT = 120
MAX_BODY = 2000
