"""Reading templates: YAML text, one file or a whole folder -> validated `Programme`s.

Every step's problems are collected and raised together as one `ProgrammeError` (YAML syntax,
field validation, then the cross-field checks), and a folder's broken files are listed with
their errors rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ..yamlsource import LocatedError, YamlSourceError, load_yaml
from .checks import check_consistency
from .errors import ProgrammeError, locate_errors
from .schema import Programme


def load_programme_file(path: Path | str, display_name: str | None = None) -> Programme:
    path = Path(path)
    name = display_name or str(path)
    return parse_programme(_read_text(path, name), name)


def _read_text(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProgrammeError([LocatedError(name, None, (), f"not UTF-8 text: {exc}")]) from None


def parse_programme(text: str, filename: str) -> Programme:
    """YAML text -> Programme, or ProgrammeError listing every located problem found."""
    try:
        data, source_map = load_yaml(text, filename)
    except YamlSourceError as exc:
        raise ProgrammeError(exc.errors) from None
    if not isinstance(data, dict):
        raise ProgrammeError([LocatedError(filename, 1, (), "a programme is a YAML mapping")])
    try:
        programme = Programme.model_validate(data)
    except ValidationError as exc:
        raise ProgrammeError(locate_errors(exc, data, source_map, filename)) from None
    problems = list(check_consistency(programme))
    if problems:
        raise ProgrammeError(
            [LocatedError(filename, source_map.line_of(p), p, m) for p, m in problems]
        )
    return programme


@dataclass(frozen=True)
class Library:
    """The templates of a folder: usable ones by id (with their source text), broken by file."""

    programmes: dict[str, Programme]
    sources: dict[str, str]
    broken: dict[str, ProgrammeError]


def load_library(directory: Path | str) -> Library:
    """Every *.yaml in a folder; a broken file is listed with its errors, never hidden."""
    directory = Path(directory)
    library = Library({}, {}, {})
    for path in sorted(directory.glob("*.y*ml")):
        display = f"{directory.name}/{path.name}"
        try:
            # Read once: the source kept beside the programme is the text that was parsed,
            # even if the file is being rewritten meanwhile.
            text = _read_text(path, display)
            programme = parse_programme(text, display)
        except ProgrammeError as exc:
            library.broken[display] = exc
            continue
        if programme.id in library.programmes:
            library.broken[display] = ProgrammeError(
                [LocatedError(display, 1, ("id",), f"id '{programme.id}' is used by another file")]
            )
            continue
        library.programmes[programme.id] = programme
        library.sources[programme.id] = text
    return library
