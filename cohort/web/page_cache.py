"""Rendered parts of pages, kept by each worker per cohort revision (issue #24).

A cohort's overview changes only when the cohort's data does, or when the clock passes a time
it shows. The database moves the cohort's revision on every write (models/revisions.py), so a
part rendered at revision N is still right while the revision is N, from whichever worker or
command the write came: one indexed read checks it. The key also holds the language and the
minute: a page that shows times to the minute is at most a minute behind the clock (a meeting
that started at 10:00 shows as started from the first view at 10:00), never behind a write.

Only what every viewer of the part sees alike is kept: no CSRF token, no flash message, no
name of the signed-in user (those are in the page around the part, rendered per request).
`PAGE_CACHE_ENTRIES` bounds the number of parts a worker keeps (0: keep none).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime

from flask import current_app
from markupsafe import Markup

from .formatting import locale_code


class PartCache:
    """The least recently used parts are dropped first; safe for threaded workers."""

    def __init__(self, entries: int):
        self.entries = entries
        self._parts: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_make(self, key: Hashable, make: Callable[[], object]) -> object:
        if self.entries <= 0:
            return make()
        with self._lock:
            found = self._parts.get(key)
            if found is not None:
                self._parts.move_to_end(key)
                self.hits += 1
                return found
        made = make()  # outside the lock: two workers' threads may both render; both are right
        with self._lock:
            self.misses += 1
            self._parts[key] = made
            self._parts.move_to_end(key)
            while len(self._parts) > self.entries:
                self._parts.popitem(last=False)
        return made


def init_page_cache(app) -> None:
    app.extensions["cohort.page_cache"] = PartCache(app.config["PAGE_CACHE_ENTRIES"])


def cohort_part(name: str, cohort_id: int, revision: int | None, now: datetime,
                render: Callable[[], tuple[str, Markup]]) -> tuple[str, Markup]:
    """The part `name` of a cohort's page as (title, HTML) rendered at `revision` in the
    request's language, in the minute of `now`; rendered by `render` when not kept yet. A
    cohort without a revision (none yet, or deleted meanwhile) is rendered every time."""
    if revision is None:
        return render()
    cache: PartCache = current_app.extensions["cohort.page_cache"]
    key = (name, cohort_id, revision, locale_code(), now.replace(second=0, microsecond=0))
    return cache.get_or_make(key, render)  # type: ignore[return-value]
