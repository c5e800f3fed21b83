"""Links people give us: where to go after signing in, and links shown to participants."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

from .text import CONTROL_CHARACTERS

MAX_PATH = 2000
MAX_LINK = 500
NOT_A_WEB_LINK = "not_a_web_link"
TOO_LONG = "too_long"
_SPACE_OR_CONTROL = re.compile(f"[\\s{CONTROL_CHARACTERS}]")
_CONTROLS = re.compile(f"[{CONTROL_CHARACTERS}]")


def same_site_path(target: str | None) -> str | None:
    """`target` if it is a path on this site (for `?next=`), else None.

    Browsers drop tabs and line breaks anywhere in a URL and spaces and control characters at
    its ends, so `/\\t/evil.example` is `//evil.example` to them (another site): those are
    removed first and the rest is checked as the browser will read it. Backslashes count as
    slashes to browsers (`/\\evil.example`) and are refused, as is anything with a scheme or a
    host.
    """
    if not target:
        return None
    path = _CONTROLS.sub("", target).strip(" ")
    if not path.startswith("/") or path.startswith("//") or "\\" in path \
            or len(path) > MAX_PATH:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    return path


def web_link_problem(value: str, max_length: int = MAX_LINK) -> str | None:
    """What is wrong with a link shown to participants (a meeting's online link), or None.

    Only http(s) links with a host and without spaces or control characters: a line break
    breaks every calendar file the link is written into, and `javascript:` or `data:` links
    would run in the participant's browser.
    """
    if len(value) > max_length:
        return TOO_LONG
    if _SPACE_OR_CONTROL.search(value):
        return NOT_A_WEB_LINK
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [IPv6 address
        return NOT_A_WEB_LINK
    if parts.scheme.lower() not in ("http", "https") or not host:
        return NOT_A_WEB_LINK
    return None


def _web_link(value: str) -> str:
    problem = web_link_problem(value)
    if problem == TOO_LONG:
        raise ValueError(f"a link has at most {MAX_LINK} characters")
    if problem:
        raise ValueError("a link starts with https:// (or http://) and has no spaces or "
                         "line breaks")
    return value


# For programme files (pydantic): `online_url: WebLink | None`.
WebLink = Annotated[str, AfterValidator(_web_link)]
