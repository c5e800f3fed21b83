"""Page arithmetic shared by every paged list (landing pages, the progress grid, the outbox):
how many pages, which page a number asked for lands on, and which rows a page shows."""

from __future__ import annotations


def page_count(total: int, size: int) -> int:
    """Pages needed for `total` rows of `size` a page; an empty list still has one page."""
    return max(1, -(-total // size))


def page_within(number: int, pages: int) -> int:
    """The page asked for, kept within 1..pages (past the end: the last page)."""
    return min(max(1, number), pages)


def first_on_page(number: int, size: int, total: int) -> int:
    """The 1-based position of the page's first row (0 when there are no rows)."""
    return (number - 1) * size + 1 if total else 0


def last_on_page(number: int, size: int, total: int) -> int:
    """The 1-based position of the page's last row (0 when there are no rows)."""
    return min(number * size, total)
