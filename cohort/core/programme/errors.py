"""Pydantic's validation errors as located errors: `file:line: field.path: message`.

The people who write templates are course designers, not programmers, so each error names
the file, the line and the field in the template's own terms (no pydantic type names or union
tags), says what was expected, and suggests the field meant when a name is misspelt.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from ..yamlsource import LocatedError, SourceMap
from .schema import QUESTION_TYPES, Programme


class ProgrammeError(ValueError):
    """A template that cannot be used; `errors` are each located at file, line and field."""

    def __init__(self, errors: list[LocatedError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def locate_errors(exc: ValidationError, data: dict, smap: SourceMap, filename: str) -> list:
    """Each of pydantic's errors as a `LocatedError`: line from `smap`, a readable message."""
    errors = []
    for error in exc.errors():
        path = _field_path(error["loc"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path = (*path, "type")
        errors.append(LocatedError(filename, smap.line_of(path), path, _message(error, data)))
    return errors


def _field_path(loc: tuple) -> tuple:
    """Drop the parts pydantic adds inside unions: type names and discriminator tags."""
    path: list = []
    for part in loc:
        if _is_union_tag(part):
            continue
        if part in QUESTION_TYPES and len(path) >= 2 and path[-2] == "questions":
            continue
        path.append(part)
    return tuple(path)


def _is_union_tag(part: object) -> bool:
    """Pydantic adds type names such as 'tuple[int,int]' to locations inside unions."""
    return isinstance(part, str) and ("[" in part or part in ("function-before",))


def _message(error: dict, data: dict) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "union_tag_invalid":
        return f"'{error['ctx']['tag']}' is not one of {', '.join(QUESTION_TYPES)}"
    if kind == "union_tag_not_found":
        return f"required field is missing: the question type, one of {', '.join(QUESTION_TYPES)}"
    if kind == "literal_error":
        expected = error["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
        return f"'{given}' is not one of {expected}"
    if kind == "missing":
        return "required field is missing"
    if kind == "too_short":
        return (f"needs at least {error['ctx']['min_length']} item(s), "
                f"has {error['ctx']['actual_length']}")
    if kind == "extra_forbidden":
        field_name = error["loc"][-1]
        known = _known_fields(error["loc"][:-1], data)
        close = difflib.get_close_matches(str(field_name), known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown field '{field_name}'{hint}"
    if kind == "string_pattern_mismatch":
        return f"'{given}' is not a valid key: use lower-case letters, digits and hyphens"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return error["msg"].replace("Value error, ", "")


def _known_fields(parent_loc: tuple, data: dict) -> list[str]:
    """The field names allowed where an unknown one was found (walks models and data)."""
    candidates: list[type[BaseModel]] = [Programme]
    node: Any = data
    for part in _field_path(parent_loc):
        node = _child(node, part)
        if not isinstance(part, int):
            annotation = candidates[0].model_fields[part].annotation
            candidates = [a for a in _flatten_types(annotation)
                          if isinstance(a, type) and issubclass(a, BaseModel)] or candidates
        if len(candidates) > 1 and isinstance(node, dict):  # a question: choose by its type
            candidates = [c for c in candidates
                          if node.get("type") in _literal_values(c, "type")] or candidates[:1]
    return list(candidates[0].model_fields)


def _child(node: Any, part: Any) -> Any:
    try:
        return node[part]
    except (KeyError, IndexError, TypeError):
        return None


def _flatten_types(annotation: Any) -> list:
    """list[A | B] -> [A, B]; Annotated[...] unwrapped."""
    args = getattr(annotation, "__args__", None)
    if getattr(annotation, "__metadata__", None) is not None:
        return _flatten_types(annotation.__origin__)
    if not args:
        return [annotation]
    return [t for arg in args for t in _flatten_types(arg)]


def _literal_values(model: type[BaseModel], field_name: str) -> tuple:
    field = model.model_fields.get(field_name)
    return getattr(field.annotation, "__args__", ()) if field else ()

