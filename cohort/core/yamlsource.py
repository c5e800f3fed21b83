"""Read YAML while remembering where every value stood, so errors can name file and line.

PyYAML's own loader silently keeps the last of two equal keys; a facilitator's copy-paste
slip must not vanish like that, so the node tree is walked by hand here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass
class LocatedError:
    """One problem in a source file, pointing at a line and a field path."""

    file: str
    line: int | None
    path: Path
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field_ = format_path(self.path)
        return f"{where}: {field_}: {self.message}" if field_ else f"{where}: {self.message}"


@dataclass
class SourceMap:
    """Line numbers (1-based) of every mapping key and sequence item, by field path."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of the deepest part of `path` that exists in the source."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class YamlSourceError(ValueError):
    def __init__(self, errors: list[LocatedError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def load_yaml(text: str, filename: str) -> tuple[Any, SourceMap]:
    """Parse YAML text into plain data plus a map of where each field stood."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        hint = ("; text containing : ? [ ] { } , or # may need \"quotes\""
                if isinstance(exc, yaml.MarkedYAMLError) else "")
        message = f"YAML syntax error: {problem}{hint}"
        raise YamlSourceError([LocatedError(filename, line, (), message)]) from None
    source_map = SourceMap()
    errors: list[LocatedError] = []
    if root is None:
        return None, source_map
    source_map.lines[()] = root.start_mark.line + 1
    data = _to_python(root, (), source_map, errors, filename)
    if errors:
        raise YamlSourceError(errors)
    return data, source_map


def _to_python(node: yaml.Node, path: Path, smap: SourceMap, errors: list, filename: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in result:
                errors.append(
                    LocatedError(filename, line, (*path, key), f"duplicate key '{key}'")
                )
                continue
            smap.lines[(*path, key)] = line
            result[key] = _to_python(value_node, (*path, key), smap, errors, filename)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            smap.lines[(*path, index)] = item.start_mark.line + 1
            items.append(_to_python(item, (*path, index), smap, errors, filename))
        return items
    return _scalar(node)


_SEXAGESIMAL = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _scalar(node: yaml.Node) -> Any:
    """Resolve a scalar as YAML 1.2 would where YAML 1.1 surprises people.

    `13:00` stays the text "13:00" (YAML 1.1 reads it as the number 780) and only
    true/false are booleans (YAML 1.1 turns `no`, Norway's code, into False).
    """
    if node.tag == "tag:yaml.org,2002:str" or (node.style in ('"', "'")):
        return node.value
    if node.tag == "tag:yaml.org,2002:int" and _SEXAGESIMAL.match(node.value):
        return node.value
    if node.tag == "tag:yaml.org,2002:bool" and node.value.lower() not in ("true", "false"):
        return node.value
    return _CONSTRUCTOR.construct_object(node, deep=True)
