"""Page arithmetic shared by the landing pages, the progress grid and the outbox."""

from __future__ import annotations

import pytest

from cohort.core.paging import first_on_page, last_on_page, page_count, page_within


@pytest.mark.parametrize("total, size, pages", [(0, 20, 1), (1, 20, 1), (20, 20, 1),
                                                (21, 20, 2), (100, 20, 5), (101, 20, 6)])
def test_page_count(total, size, pages):
    assert page_count(total, size) == pages


@pytest.mark.parametrize("asked, pages, shown", [(1, 3, 1), (3, 3, 3), (4, 3, 3), (99, 3, 3),
                                                 (0, 3, 1), (-5, 3, 1)])
def test_a_page_past_either_end_is_the_nearest_page(asked, pages, shown):
    assert page_within(asked, pages) == shown


@pytest.mark.parametrize("number, size, total, span", [
    (1, 20, 0, (0, 0)), (1, 20, 5, (1, 5)), (1, 20, 20, (1, 20)), (2, 20, 25, (21, 25)),
    (5, 20, 100, (81, 100)),
])
def test_rows_on_a_page(number, size, total, span):
    assert (first_on_page(number, size, total), last_on_page(number, size, total)) == span
