"""The staff landing pages' list of cohorts, made in the database.

A region runs a hundred cohorts, and a facilitator, evaluator or admin may see all of them. The
landing pages (`/dashboard`, `/evaluation`) show one screen of them: each visible cohort's phase
(running, upcoming, finished) is worked out in SQL from its meetings, the cohorts are counted
per phase with one GROUP BY, and only the page's cohorts are loaded (without their programme
snapshot, the largest column). Their figures are then counted for the page alone
(`services.dashboard.cohort_cards`, `response_totals`).

The phase and the order are defined here once, as SQL, and the dashboard's cards take theirs
from the same expressions (`timeline`), so a card never lands in another section than the one
it was counted in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TypeVar

from sqlalchemy import BindParameter, Select, Subquery, bindparam, case, func, select
from sqlalchemy.orm import defer
from sqlmodel import Session

from ..core.cohort_fields import TITLE_MAX
from ..core.paging import first_on_page, last_on_page, page_count, page_within
from ..core.text import whole_number
from ..db import constant
from ..models import Cohort, CohortRevision, Meeting

# The dashboard's three sections, in the order it shows them.
RUNNING, UPCOMING, FINISHED = "running", "upcoming", "finished"
PHASES = (RUNNING, UPCOMING, FINISHED)
PAGE_SIZE = 20  # cards on one screen
T = TypeVar("T")


@dataclass(frozen=True)
class ListFilters:
    """What the landing page's query string asks for: one phase or all, a piece of the title."""

    phase: str | None = None
    text: str = ""

    def as_args(self, **changes: str) -> dict[str, str]:
        """The filters as query-string arguments, with `changes` (the pager's and the phase
        links: `as_args(phase="")` is every phase); empty ones left out."""
        args = {"phase": self.phase or "", "q": self.text, **changes}
        return {k: v for k, v in args.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.phase or self.text)


@dataclass(frozen=True)
class CohortPage:
    """One page of the visible cohorts, in the dashboard's order."""

    cohorts: list[Cohort]  # this page's, in order; `programme` is not loaded
    phases: dict[int, str]  # cohort id -> phase, for this page's cohorts
    # cohort id -> revision (models/revisions.py), read with the page, before any figure: the
    # kept cards are compared with it (web/page_cache.cohort_parts)
    revisions: dict[int, int]
    counts: dict[str, int]  # cohorts per phase (matching the text, whatever the phase filter)
    number: int
    pages: int
    total: int  # cohorts matching both filters
    size: int = PAGE_SIZE
    filters: ListFilters = field(default_factory=ListFilters)

    @property
    def first(self) -> int:
        return first_on_page(self.number, self.size, self.total)

    @property
    def last(self) -> int:
        return last_on_page(self.number, self.size, self.total)

    @property
    def everyone(self) -> int:
        """Cohorts matching the text, in every phase."""
        return sum(self.counts.values())


def by_phase(items: Sequence[T], phase_of: Callable[[T], str]) -> list[tuple[str, list[T]]]:
    """A page's items in sections by phase, in PHASES order (empty phases left out), each
    section keeping the items' order."""
    sections: dict[str, list[T]] = {phase: [] for phase in PHASES}
    for item in items:
        sections[phase_of(item)].append(item)
    return [(phase, found) for phase, found in sections.items() if found]


def parse_filters(args: Mapping[str, str]) -> ListFilters:
    """Filters from a query string; anything unknown is ignored (a landing page never fails)."""
    phase = args.get("phase")
    text = "".join(ch for ch in (args.get("q") or "") if ch.isprintable()).strip()
    return ListFilters(phase if phase in PHASES else None, text[:TITLE_MAX])


def parse_page(args: Mapping[str, str]) -> int:
    """The page number asked for; junk gives page 1 (past the end gives the last page)."""
    raw = args.get("page") or "1"
    return whole_number(raw, 6) or 1


# The moment the phases are judged at, bound when a query runs (the queries are built once).
NOW = bindparam("now")
TODAY = bindparam("today")
# A list of cohort ids, bound when a query runs (`cohort_cards`: the page's cohorts).
COHORT_IDS = bindparam("cohort_ids", expanding=True)


def moment(now: datetime) -> dict[str, object]:
    """The parameters NOW and TODAY (the cohort's start date counts for one without meetings:
    a UTC date, as everywhere the dashboard compares start dates)."""
    return {"now": now, "today": now.date()}


def timeline(cohort_ids: Select | BindParameter) -> Subquery:
    """One row per cohort of `cohort_ids`: its scheduled meetings (`total`, `held` by NOW,
    `first_start`, `last_end`, `next_start` of those not over), and `rank`, the index of its
    phase in PHASES.

    A cohort whose meetings are all held is finished; one whose first meeting has begun is
    running, else upcoming. One without meetings (all cancelled) goes by its start date."""
    scheduled = (select(Meeting.cohort_id, func.count().label("total"),
                        func.count().filter(Meeting.ends_at <= NOW).label("held"),
                        func.min(Meeting.starts_at).label("first_start"),
                        func.max(Meeting.ends_at).label("last_end"),
                        func.min(Meeting.starts_at).filter(Meeting.ends_at > NOW)
                        .label("next_start"))
                 .where(Meeting.cohort_id.in_(cohort_ids), Meeting.status != constant("cancelled"))
                 .group_by(Meeting.cohort_id).subquery())
    total = func.coalesce(scheduled.c.total, 0)
    rank = case((total == 0, case((Cohort.start_date > TODAY, 1), else_=2)),
                (scheduled.c.held == total, 2),
                (scheduled.c.first_start <= NOW, 0),
                else_=1)
    return (select(Cohort.id.label("cohort_id"), Cohort.title, total.label("total"),
                   func.coalesce(scheduled.c.held, 0).label("held"), scheduled.c.first_start,
                   scheduled.c.last_end, scheduled.c.next_start, rank.label("rank"))
            .outerjoin(scheduled, scheduled.c.cohort_id == Cohort.id)
            .where(Cohort.id.in_(cohort_ids)).subquery("timeline"))


def in_order(rows: Subquery) -> tuple:
    """The dashboard's order over `timeline` rows: running → upcoming → finished; the cohort in
    a meeting now or meeting soonest first, then those starting soonest, then those that ended
    last (cohorts without meetings first among the upcoming, last among the finished)."""
    return (rows.c.rank,
            case((rows.c.rank == 0, rows.c.next_start), (rows.c.rank == 1, rows.c.first_start))
            .asc().nulls_first(),
            case((rows.c.rank == 2, rows.c.last_end)).desc().nulls_last(),
            rows.c.cohort_id)


@cache
def _page_queries(cohort_ids: Select, by_text: bool, by_phase: bool) -> tuple[Select, Select]:
    """The page (with the counts per phase on each of its rows) and the counts alone, built
    once for each way of asking: building these statements costs more than running them
    (`cohort_ids` is one of the constants of `accounts.visible_cohort_ids`, so there are a
    handful).

    The counts ride on the page's rows as window sums, computed over every cohort matching
    the text before the phase filter and the LIMIT: one statement (one round trip on
    PostgreSQL) for the page and its counts. Only a page with no rows (nothing matches, or a
    page past the end) needs the counts query."""
    rows = timeline(cohort_ids)
    matching = [rows.c.title.ilike(bindparam("pattern"), escape="\\")] if by_text else []
    counts = select(rows.c.rank, func.count()).where(*matching).group_by(rows.c.rank)
    per_phase = [func.sum(case((rows.c.rank == rank, 1), else_=0)).over().label(f"n{rank}")
                 for rank in range(len(PHASES))]
    listed = select(rows, *per_phase).where(*matching).subquery("listed")
    in_phase = [listed.c.rank == bindparam("rank")] if by_phase else []
    page = (select(Cohort, listed.c.rank, CohortRevision.number,
                   *(listed.c[f"n{rank}"] for rank in range(len(PHASES))))
            .join(listed, listed.c.cohort_id == Cohort.id)
            .outerjoin(CohortRevision, CohortRevision.cohort_id == Cohort.id)
            .options(defer(Cohort.programme)).where(*in_phase).order_by(*in_order(listed))
            .offset(bindparam("offset")).limit(bindparam("limit")))
    return counts, page


def cohort_page(session: Session, cohort_ids: tuple[Select, dict], now: datetime,
                filters: ListFilters = ListFilters(), page: int = 1,
                size: int = PAGE_SIZE) -> CohortPage:
    """Page `page` (from 1; past the end: the last) of the cohorts of `cohort_ids` (a user's:
    `accounts.visible_cohort_ids`), in one query however many cohorts there are (three for a
    page past the end)."""
    ids, params = cohort_ids
    params = {**params, **moment(now)}
    if filters.text:
        params["pattern"] = "%" + "".join("\\" + ch if ch in "%_\\" else ch
                                          for ch in filters.text) + "%"
    if filters.phase is not None:
        params["rank"] = PHASES.index(filters.phase)
    count_query, page_query = _page_queries(ids, bool(filters.text), filters.phase is not None)

    def rows_of(number: int) -> list:
        return session.execute(page_query, {**params, "offset": (number - 1) * size,
                                            "limit": size}).all()

    number = max(page, 1)
    found = rows_of(number)
    if found:
        counts = {phase: n for phase, n in zip(PHASES, found[0][3:], strict=True) if n}
    else:  # nothing matches, or a page past the end: count, then the last page
        counts = {PHASES[rank]: n for rank, n in session.execute(count_query, params)}
    total = counts.get(filters.phase, 0) if filters.phase else sum(counts.values())
    pages = page_count(total, size)
    if not found and total:
        number = page_within(page, pages)
        found = rows_of(number)
    number = page_within(number, pages)
    return CohortPage(cohorts=[row[0] for row in found],
                      phases={row[0].id: PHASES[row[1]] for row in found},
                      revisions={row[0].id: row[2] for row in found if row[2] is not None},
                      counts=counts, number=number, pages=pages, total=total, size=size,
                      filters=filters)
