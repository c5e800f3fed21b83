"""Text that has to stay on one line: names, titles, places in email headers and forms.

A line break in a participant's name or a cohort's title is harmless on a web page but not in
an email header (it would start a header line of its own, or the body) or a calendar line.
"""

from __future__ import annotations

import re

# C0 controls (NUL, tab, CR, LF, ...), DEL, C1 controls (NEL, ...) and the Unicode line and
# paragraph separators: everything `str.splitlines` or a mail program may take as a line break,
# and the characters no human types into a one-line field.
CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL_RUNS = re.compile(f"[{CONTROL_CHARACTERS}]+")


def one_line(value: str) -> str:
    """`value` with every run of control characters (CR, LF, tab, NUL, ...) made one space.

    For text written where a line break would change the meaning (email headers): the last
    line of defence, whatever was stored.
    """
    return _CONTROL_RUNS.sub(" ", value)
