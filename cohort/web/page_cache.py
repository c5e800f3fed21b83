"""Rendered parts of pages, kept by each worker per cohort revision (issue #24).

A cohort's overview changes only when the cohort's data does, or when the clock passes a time
it shows. The database moves the cohort's revision on every write (models/revisions.py), so a
part rendered at revision N is still right while the revision is N, from whichever worker or
command the write came: one indexed read checks it. The key also holds the language. A part
that compares stored times with the clock is kept until its next turning point, the first
moment the clock alone changes it (core/turning_points.py; a meeting ends, an email falls
due): it is never behind a write nor behind the clock, and it is not rendered again by every
worker at every turn of the minute.

Only what every viewer of the part sees alike is kept: no CSRF token, no flash message, no
name of the signed-in user (those are in the page around the part, rendered per request).
`PAGE_CACHE_ENTRIES` bounds the number of parts a worker keeps (0: keep none).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from flask import current_app, render_template
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from .access import checked_cohort_revision, current_role
from .auth import may_manage_staff, page_path
from .formatting import locale_code

T = TypeVar("T")


class PartCache:
    """The least recently used parts are dropped first; safe for threaded workers."""

    def __init__(self, entries: int):
        self.entries = entries
        self._parts: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_make(self, key: Hashable, make: Callable[[], object]) -> object:
        found = self.get(key)
        if found is not None:
            return found
        made = make()  # outside the lock: two threads may both render; both are right
        self.put(key, made)
        return made

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            found = self._parts.get(key)
            if found is not None:
                self._parts.move_to_end(key)
                self.hits += 1
            return found

    def put(self, key: Hashable, part: object) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            self.misses += 1
            self._parts[key] = part
            self._parts.move_to_end(key)
            while len(self._parts) > self.entries:
                self._parts.popitem(last=False)


def init_page_cache(app) -> None:
    app.extensions["cohort.page_cache"] = PartCache(app.config["PAGE_CACHE_ENTRIES"])
    app.add_template_global(cohort_tabs)
    app.add_template_global(site_header)


# Stands in for the page's path while the header is kept: hex, so escaping leaves it as it is.
_PAGE_PATH = "page-path-" + secrets.token_hex(16)
_CSRF = "csrf-token-" + secrets.token_hex(16)


def site_header() -> Markup:
    """Every page's header (`_site_header.html`): the menu, the log-out and language forms.
    It was a third of a kept page's time and depends only on whether someone is signed in,
    their role, their right to start cohorts and the language: kept per those, with the
    session's CSRF token and the page's path (the language form's way back) put in per
    request. The token is rendered for real and swapped for a stand-in when kept, so the
    template writes it exactly as it writes it on an unkept page."""
    cache: PartCache = current_app.extensions["cohort.page_cache"]
    signed_in = bool(current_user.is_authenticated)
    key = ("site-header", signed_in, signed_in and current_user.role,
           signed_in and bool(current_user.may_create_cohorts), locale_code(),
           current_app.config.get("WTF_CSRF_ENABLED", True))
    token = generate_csrf()

    def render() -> str:
        html = render_template("_site_header.html", next_path=_PAGE_PATH).strip()
        return html.replace(token, _CSRF)

    kept: str = cache.get_or_make(key, render)  # type: ignore[assignment]
    return Markup(kept.replace(_CSRF, token).replace(_PAGE_PATH, escape(page_path())))


def cohort_tabs(cohort, current: str) -> Markup:
    """The tabs of a cohort's pages (`cohort_tabs_html` in _macros.html). Which tabs show
    depends only on the viewer's role and whether they manage the cohort's staff, not on the
    cohort's data: kept per cohort, page, role, staff right, draft state and language."""
    cache: PartCache = current_app.extensions["cohort.page_cache"]
    field = current_app.jinja_env.getattr  # as the template reads it: a row or a dict
    cohort_id, draft = field(cohort, "id"), field(cohort, "launched_at") is None
    role = current_role()
    manages = may_manage_staff(cohort_id)
    key = ("tabs", cohort_id, current, role, manages, draft, locale_code())

    def render() -> Markup:
        macro = current_app.jinja_env.get_template("_macros.html").module.cohort_tabs_html
        return Markup(macro(cohort, current, manages))

    return cache.get_or_make(key, render)  # type: ignore[return-value]


def _key(name: str, cohort_id: int, revision: int, variant: Hashable) -> Hashable:
    """What a kept part depends on: the cohort's revision, the request's language and
    `variant` (e.g. the viewer's role)."""
    return (name, cohort_id, revision, variant, locale_code())


def cohort_part(name: str, cohort_id: int, render: Callable[[], T]) -> T:
    """The part `name` of a cohort's page as `render` makes it, for a part that does not
    depend on the clock: kept for the cohort's revision and the request's language. The
    revision is the one the route's access check (`cohort_access`) read, before `render`
    reads any data, so a kept part is never older than its revision; a cohort without one is
    rendered every time."""
    revision = _checked_revision(cohort_id)
    if revision is None:
        return render()
    cache: PartCache = current_app.extensions["cohort.page_cache"]
    return cache.get_or_make(_key(name, cohort_id, revision, None),
                             render)  # type: ignore[return-value]


@dataclass(frozen=True)
class _Until:
    """A kept part and its next turning point (None: the clock never changes it)."""

    part: object
    changes_at: datetime | None

    def fresh_at(self, now: datetime) -> bool:
        return self.changes_at is None or now < self.changes_at


def cohort_part_until(name: str, cohort_id: int, now: datetime,
                      render: Callable[[], tuple[T, datetime | None]]) -> T:
    """Like `cohort_part`, for a part that depends on the clock only by comparing stored
    times with `now`: `render` gives the part and the next of those times still ahead
    (core/turning_points.py; None: none). The part is kept across minutes until then, so
    it is rendered again when something it shows changes, not by every worker at every
    minute."""
    revision = _checked_revision(cohort_id)
    if revision is None:
        return render()[0]
    cache: PartCache = current_app.extensions["cohort.page_cache"]
    key = _key(name, cohort_id, revision, "until")
    kept = cache.get(key)
    if isinstance(kept, _Until) and kept.fresh_at(now):
        return kept.part  # type: ignore[return-value]
    part, changes_at = render()
    cache.put(key, _Until(part, changes_at))
    return part


def _checked_revision(cohort_id: int) -> int | None:
    """The cohort's revision as the route's access check read it (None: it has none)."""
    checked = checked_cohort_revision(cohort_id)
    if checked is None:
        raise RuntimeError("a kept cohort part needs a route whose access check read the "
                           "cohort (cohort_access)")
    return checked[0]


def cohort_parts(name: str, revisions: dict[int, int], now: datetime, variant: Hashable,
                 make: Callable[[list[int]], dict[int, tuple[T, datetime | None]]],
                 cohort_ids: list[int]) -> dict[int, T]:
    """The part `name` of each of several cohorts (a landing page's cards), kept like
    `cohort_part_until` (`make` gives each part with its next turning point), with `variant`
    for whatever else it depends on (the viewer's role); the ones not kept are made by one
    call of `make` with their ids. `revisions` must have been read before `make` reads any
    data."""
    cache: PartCache = current_app.extensions["cohort.page_cache"]
    keys = {cohort_id: _key(name, cohort_id, revisions[cohort_id], variant)
            for cohort_id in cohort_ids if cohort_id in revisions}
    found: dict[int, T] = {}
    for cohort_id, key in keys.items():
        kept = cache.get(key)
        if isinstance(kept, _Until) and kept.fresh_at(now):
            found[cohort_id] = kept.part  # type: ignore[assignment]
    missing = [cohort_id for cohort_id in cohort_ids if cohort_id not in found]
    if missing:
        for cohort_id, (made, changes_at) in make(missing).items():
            found[cohort_id] = made
            if cohort_id in keys:
                cache.put(keys[cohort_id], _Until(made, changes_at))
    return found
