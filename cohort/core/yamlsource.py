"""Read YAML while remembering where every value stood, so errors can name file and line.

PyYAML's own loader silently keeps the last of two equal keys; a facilitator's copy-paste
slip must not vanish like that, so the node tree is walked by hand here.

A programme file is a few kilobytes of plain structure, so the reader is bounded: files over
MAX_BYTES, nesting deeper than MAX_DEPTH, more than MAX_VALUES values once aliases are expanded
(`&a`/`*a` reuse is fine, but ten lines of aliases can expand to billions of values) and an
alias inside its own anchor are refused with a located error instead of exhausting memory or
the stack. Each parse has a constructor of its own, so nothing
is kept between parses (a shared one remembers every node it ever built).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]

MAX_BYTES = 512 * 1024
MAX_DEPTH = 40
MAX_VALUES = 100_000
# libyaml's parser when PyYAML was built with it (about 10x faster); the same node tree.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise YamlSourceError([LocatedError(
            filename, None, (), f"the file is larger than {MAX_BYTES // 1024} KiB")])
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise _syntax_error(text, filename, exc) from None
    except RecursionError:  # the pure-Python composer, on very deep nesting
        raise YamlSourceError([LocatedError(
            filename, None, (), f"nested more than {MAX_DEPTH} levels deep")]) from None
    source_map = SourceMap()
    errors: list[LocatedError] = []
    if root is None:
        return None, source_map
    source_map.lines[()] = root.start_mark.line + 1
    reader = _Reader(filename, source_map, errors)
    data = reader.to_python(root, ())
    if errors:
        raise YamlSourceError(errors)
    return data, source_map


def _syntax_error(text: str, filename: str, exc: yaml.YAMLError) -> YamlSourceError:
    """The located syntax error, worded as PyYAML's own parser words it ("expected ',' or
    ']', but got ':'" says more than libyaml's "did not find expected ',' or ']'")."""
    if _LOADER is not yaml.SafeLoader:
        try:
            yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as worded:
            exc = worded
        except RecursionError:
            pass
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    hint = ("; text containing : ? [ ] { } , or # may need \"quotes\""
            if isinstance(exc, yaml.MarkedYAMLError) else "")
    message = f"YAML syntax error: {problem}{hint}"
    return YamlSourceError([LocatedError(filename, line, (), message)])


class _Reader:
    """One parse's walk over the node tree: its own constructor, the nodes on the way down
    (an alias to one of them would never end) and how many values it has made."""

    def __init__(self, filename: str, smap: SourceMap, errors: list[LocatedError]) -> None:
        self.filename, self.smap, self.errors = filename, smap, errors
        self.constructor = yaml.constructor.SafeConstructor()
        self.open: set[int] = set()
        self.values = 0

    def error(self, node: yaml.Node, path: Path, message: str) -> None:
        self.errors.append(LocatedError(self.filename, node.start_mark.line + 1, path, message))

    def to_python(self, node: yaml.Node, path: Path) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            if self.values == MAX_VALUES + 1:
                self.error(node, path, f"more than {MAX_VALUES} values once aliases (*) are "
                                       "expanded")
            return None
        if len(path) > MAX_DEPTH:
            self.error(node, path, f"nested more than {MAX_DEPTH} levels deep")
            return None
        if id(node) in self.open:  # an alias (*a) inside the value its anchor (&a) names
            self.error(node, path, "an alias (*) refers to a value that contains it")
            return None
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                items = []
                for index, item in enumerate(node.value):
                    self.smap.lines[(*path, index)] = item.start_mark.line + 1
                    items.append(self.to_python(item, (*path, index)))
                return items
            finally:
                self.open.discard(id(node))
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, path, "a key must be plain text")
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in result:
                self.errors.append(
                    LocatedError(self.filename, line, (*path, key), f"duplicate key '{key}'"))
                continue
            self.smap.lines[(*path, key)] = line
            result[key] = self.to_python(value_node, (*path, key))
        return result

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        try:
            return _scalar(node, self.constructor)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.error(node, path, f"cannot read the value {node.value!r}: {problem}")
            return None


_SEXAGESIMAL = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")


def _scalar(node: yaml.Node, constructor: yaml.constructor.SafeConstructor) -> Any:
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
    return constructor.construct_object(node, deep=True)
