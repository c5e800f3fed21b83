"""One-line text and links as people type them: what is refused, what is kept."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cohort.core.links import NOT_A_WEB_LINK, web_link_problem
from cohort.core.programme import Meeting
from cohort.core.text import (
    CONTROL_CHARACTER,
    TOO_LONG,
    has_control_character,
    multi_line_problem,
    one_line,
    single_line_problem,
    whole_number,
)

CONTROLS = ["\r", "\n", "\r\n", "\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b",
            "\u2028", "\u2029"]


@pytest.mark.parametrize("control", CONTROLS)
def test_a_control_character_is_refused_in_a_line(control):
    assert single_line_problem(f"Anne{control}Bcc: x@evil.example") == CONTROL_CHARACTER
    assert one_line(f"Anne{control}Bcc") == "Anne Bcc"
    assert has_control_character(f"Anne{control}Bcc")


def test_a_tab_is_a_control_character_where_no_human_types_but_plain_text_has_none():
    assert has_control_character("/\t/evil.example")  # a query string's tab: refused
    for text in ("Søren Ærenlund", "Anne 😀", "a b", "%0D%0A", ""):
        assert not has_control_character(text)


def test_names_as_people_write_them_pass():
    for name in ("Søren Ærenlund", "Åse O'Neil-Brøndum", "Zoë\tvan Dijk", "王小明", "أحمد",
                 "Anne 😀", "x" * 200):
        assert single_line_problem(name) is None
    assert single_line_problem("x" * 201) == TOO_LONG
    assert single_line_problem("x" * 300, max_length=300) is None


def test_a_text_box_keeps_line_breaks_but_not_other_controls():
    assert multi_line_problem("Line one\r\nLine two\n\tindented", 100) is None
    assert multi_line_problem("NUL\x00", 100) == CONTROL_CHARACTER
    assert multi_line_problem("x" * 101, 100) == TOO_LONG


@pytest.mark.parametrize("link", [
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting?context=%7b%7d",
    "http://meet.example/room", "HTTPS://Meet.Example/x"])
def test_web_links_pass(link):
    assert web_link_problem(link) is None


@pytest.mark.parametrize("link", [
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>", "ftp://x.example",
    "https://meet.example/x\r\nX-Evil: 1", "https://meet.example/x y", " https://x.example",
    "https://x.example/\x00", "https:///path", "//meet.example/x", "meet.example/x",
    "https://[::1", ""])
def test_other_links_are_refused(link):
    assert web_link_problem(link) == NOT_A_WEB_LINK


def test_a_programme_file_refuses_a_link_that_is_not_http():
    Meeting(key="a", kind="webinar", title="A", offset=0, online_url="https://meet.example/a")
    for link in ("javascript:alert(1)", "https://meet.example/a\nb"):
        with pytest.raises(ValidationError, match="https://"):
            Meeting(key="a", kind="webinar", title="A", offset=0, online_url=link)


@pytest.mark.parametrize("raw, expected", [
    ("7", 7), ("0", 0), ("007", 7), ("12345678901", 12345678901),
    ("123456789012", None),  # longer than the default 11 digits
    ("", None), (None, None), ("-1", None), ("+1", None), (" 1", None), ("1.0", None),
    ("²", None), ("٣", None), ("１", None),  # str.isdigit() passes these; they are no ids
])
def test_whole_number_takes_ascii_digits_only(raw, expected):
    assert whole_number(raw) == expected


def test_whole_number_has_a_length_limit():
    assert whole_number("1000000", 6) is None and whole_number("999999", 6) == 999999
