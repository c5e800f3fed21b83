"""Links people give us: where to go after signing in, and links shown to participants."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .text import CONTROL_CHARACTERS

MAX_PATH = 2000
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
