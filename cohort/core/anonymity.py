"""The two rules that keep small groups from being identified in survey results.

1. *Generalisation when storing*: an anonymous answer keeps at most one attribute for
   breakdowns (organisation or role), and only a value that at least `k` invited participants
   share; the rest become "other" (''), and "other" itself is made large enough.
2. *Suppression when showing*: no figure for a group with fewer than `k` answers, and when a
   group is hidden, more groups are hidden until the hidden ones together hold at least `k`
   answers, so that subtracting the shown groups from the total reveals no small group.

`k` is the minimum group size: 5 by default, configurable, never below 3. Which of a
survey's figures may be shown, all of them decided together, is `publication.decide`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

DEFAULT_MIN_GROUP_SIZE = 5
MIN_GROUP_SIZE_FLOOR = 3
OTHER = ""


def checked_min_group_size(value: int | None, default: int = DEFAULT_MIN_GROUP_SIZE) -> int:
    """The minimum group size to use; a value below the floor is refused, never lowered."""
    size = default if value is None else value
    if size < MIN_GROUP_SIZE_FLOOR:
        raise ValueError(f"minimum group size {size} is below {MIN_GROUP_SIZE_FLOOR}: figures "
                         "for so few answers can identify people")
    return size


def generalise(values: Iterable[str], k: int) -> dict[str, str]:
    """Each value -> itself when shared by at least k people, else OTHER.

    If the OTHER class ends up with fewer than k people (but some), the smallest kept values
    are folded into it until it holds k, so no stored value points at fewer than k people.
    """
    counts = Counter(values)
    kept = {v for v, n in counts.items() if n >= k and v != OTHER}
    other_size = sum(n for v, n in counts.items() if v not in kept)
    while 0 < other_size < k and kept:
        smallest = min(kept, key=lambda v: (counts[v], v))
        kept.remove(smallest)
        other_size += counts[smallest]
    return {v: (v if v in kept else OTHER) for v in counts}


def suppressed_groups(sizes: Mapping[str, int], k: int) -> set[str]:
    """The groups whose figures must not be shown (primary and secondary suppression).

    Primary: 0 < size < k. Secondary: while the hidden groups together hold fewer than k
    answers (but some), also hide the smallest shown group. Empty groups reveal nothing and
    are left alone.
    """
    hidden = {g for g, n in sizes.items() if 0 < n < k}
    while 0 < sum(sizes[g] for g in hidden) < k:
        shown = [g for g, n in sizes.items() if g not in hidden and n > 0]
        if not shown:
            break
        hidden.add(min(shown, key=lambda g: (sizes[g], g)))
    return hidden
