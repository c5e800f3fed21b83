"""Reading PDFs back with Debian's poppler-utils (pdftotext, pdffonts, pdfinfo, pdftohtml)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True,
                          timeout=60).stdout.decode("utf-8")


def pages_text(pdf: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with form feeds)."""
    return run("pdftotext", "-layout", pdf, "-").split("\f")[:-1]


def flat(text: str) -> str:
    """Whitespace collapsed, so sentences wrapped over lines can be found whole."""
    return " ".join(text.split())


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", pdf), re.M).group(1))


@dataclass(frozen=True)
class Font:
    name: str
    embedded: bool


def fonts(pdf: Path) -> list[Font]:
    lines = run("pdffonts", pdf).splitlines()[2:]
    found = []
    for line in lines:
        parts = line.split()
        # name type... encoding emb sub uni object-id generation
        found.append(Font(parts[0], parts[-5] == "yes"))
    return found


def outline(pdf: Path) -> list[tuple[str, int, int]]:
    """Bookmarks as (title, page, depth), from pdftohtml's XML."""
    xml = run("pdftohtml", "-xml", "-i", "-stdout", "-q", pdf)
    result, depth = [], 0
    for token in re.finditer(r'<outline>|</outline>|<item page="(\d+)">(.*?)</item>', xml):
        if token.group(0) == "<outline>":
            depth += 1
        elif token.group(0) == "</outline>":
            depth -= 1
        else:
            title = (token.group(2).replace("&amp;", "&").replace("&lt;", "<")
                     .replace("&gt;", ">").replace("&quot;", '"'))
            result.append((title, int(token.group(1)), depth))
    return result


def toc_entries(page: str) -> list[tuple[str, int]]:
    """'Metode ........ 15' lines of a table-of-contents page."""
    return [(m.group(1).strip(), int(m.group(2)))
            for m in re.finditer(r"^\s*(\S.*?)\s*\.{3,}\s*(\d+)\s*$", page, re.M)]
