"""The YAML reader: located errors for hostile or broken files, bounded work, nothing kept."""

from __future__ import annotations

import gc
import time
import tracemalloc
from pathlib import Path

import pytest

from cohort.core.programme import parse_programme
from cohort.core.yamlsource import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_VALUES,
    YamlSourceError,
    load_yaml,
)

PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"


def errors_of(text: str) -> list[str]:
    with pytest.raises(YamlSourceError) as caught:
        load_yaml(text, "x.yaml")
    return [str(error) for error in caught.value.errors]


def test_an_alias_reuses_a_value():
    data, _ = load_yaml("base: &b\n  start: '13:00'\nmeeting: *b\n", "x.yaml")
    assert data == {"base": {"start": "13:00"}, "meeting": {"start": "13:00"}}


def test_a_billion_laughs_is_refused_at_once():
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    started = time.perf_counter()
    errors = errors_of("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 5  # refused, not expanded (9**10 values)
    (error,) = errors
    assert error.startswith("x.yaml:1: a5[0]")  # where the count ran out
    assert error.endswith(f"more than {MAX_VALUES} values once aliases (*) are expanded")


def test_a_recursive_alias_is_refused():
    assert errors_of("a: &a [*a]\n") == [
        "x.yaml:1: a[0]: an alias (*) refers to a value that contains it"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 500, 5000])
def test_deep_nesting_is_a_located_error(depth):
    errors = errors_of("a: " + "[" * depth + "]" * depth + "\n")
    assert len(errors) == 1 and errors[0].startswith("x.yaml")


def test_a_huge_file_is_refused_before_parsing():
    (error,) = errors_of("a: '" + "x" * MAX_BYTES + "'\n")
    assert error == f"x.yaml: the file is larger than {MAX_BYTES // 1024} KiB"


@pytest.mark.parametrize("text, expected", [
    ("a: !!python/object:os.system x\n", "x.yaml:1: a: cannot read the value"),
    ("? [1, 2]\n: x\n", "x.yaml:1: a key must be plain text"),
    ("a: 1\na: 2\n", "x.yaml:2: a: duplicate key 'a'"),
    ("a: [unclosed\n", "x.yaml:2: YAML syntax error"),
])
def test_broken_files_get_located_errors(text, expected):
    (error,) = errors_of(text)
    assert error.startswith(expected), error


def test_times_and_norwegian_stay_text():
    data, _ = load_yaml("start: 13:00\nlanguage: no\nflag: true\n", "x.yaml")
    assert data == {"start": "13:00", "language": "no", "flag": True}


def test_parsing_keeps_nothing_between_parses():
    """Memory stays flat over 50 parses of a shipped programme (a shared YAML constructor
    kept every node it ever built: about 25 KiB a parse, 1.2 MiB here)."""
    source = (PROGRAMMES / "digital-lederskab.yaml").read_text()
    for _ in range(5):
        parse_programme(source, "warm-up")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(50):
        parse_programme(source, "digital-lederskab.yaml")
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown < 256 * 1024, f"{grown / 1024:.0f} KiB kept after 50 parses"
