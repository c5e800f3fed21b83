"""Text that has to stay on one line: names, titles, places in email headers and forms.

A line break in a participant's name or a cohort's title is harmless on a web page but not in
an email header (it would start a header line of its own, or the body) or a calendar line.
Input is checked (`single_line_problem`, used by the CSV import and the web forms) and what
is written into headers is made one line anyway (`one_line`).
"""

from __future__ import annotations

import re

# C0 controls (NUL, tab, CR, LF, ...), DEL, C1 controls (NEL, ...) and the Unicode line and
# paragraph separators: everything `str.splitlines` or a mail program may take as a line break,
# and the characters no human types into a one-line field.
CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL_RUNS = re.compile(f"[{CONTROL_CHARACTERS}]+")
# In a one-line field a tab is harmless (a space on a page; headers and exports neutralise it).
_REFUSED_IN_A_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
# In a text box line breaks and tabs are the point; NUL and the rest are not text.
_REFUSED_IN_A_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

SINGLE_LINE_MAX = 200  # characters: names, organisations, roles, titles
CONTROL_CHARACTER = "control_character"
TOO_LONG = "too_long"


def whole_number(raw: str | None, max_digits: int = 11) -> int | None:
    """`raw` as a non-negative whole number if it is one in ASCII digits (at most `max_digits`),
    else None. For ids and page numbers from forms and query strings: `str.isdigit()` also
    passes "²" and "٣", which `int()` refuses or reads as another number."""
    if raw and len(raw) <= max_digits and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


def has_control_character(value: str) -> bool:
    """Whether `value` holds any of CONTROL_CHARACTERS (a tab too): for text no human types,
    such as a query string's names and values."""
    return _CONTROL_RUNS.search(value) is not None


def one_line(value: str) -> str:
    """`value` with every run of control characters (CR, LF, tab, NUL, ...) made one space.

    For text written where a line break would change the meaning (email headers): the last
    line of defence, whatever was stored.
    """
    return _CONTROL_RUNS.sub(" ", value)


def single_line_problem(value: str, max_length: int = SINGLE_LINE_MAX) -> str | None:
    """What is wrong with a human-entered one-line value, or None if nothing is.

    CONTROL_CHARACTER: a line break, NUL or another control character (a tab is allowed);
    TOO_LONG: more than `max_length` characters.
    """
    if _REFUSED_IN_A_LINE.search(value):
        return CONTROL_CHARACTER
    if len(value) > max_length:
        return TOO_LONG
    return None


def multi_line_problem(value: str, max_length: int) -> str | None:
    """As `single_line_problem` for a text box: line breaks and tabs are allowed."""
    if _REFUSED_IN_A_TEXT.search(value):
        return CONTROL_CHARACTER
    if len(value) > max_length:
        return TOO_LONG
    return None
