"""Cross-field checks: the rules about a whole template that no single field can see.

Keys unique within their section, meetings in date order, anchors naming real meetings (and
relative ones only on repeated items), no task due before its release, unique question and
area ids, `compare_with` naming another survey, unique guide keys. Each problem is a field
path and a message; `loading` locates them in the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from ..timeexpr import POSITION_REFS, RELATIVE_REFS, RESERVED_REFS, Anchor
from .schema import Programme

Problem = tuple[tuple, str]  # a field path, and what is wrong there
Check = Callable[[Programme], Iterable[Problem]]

# Checks that need a dated trial plan (no task due before its release). Dating a programme
# builds on this package, so this package cannot import it; the check is handed over with
# `add_plan_check` instead, once, by `cohort.core` (see its __init__).
_plan_checks: list[Check] = []


def add_plan_check(check: Check) -> None:
    """Run `check` as one of the cross-field checks, after the anchors it relies on."""
    if check not in _plan_checks:
        _plan_checks.append(check)


def check_consistency(programme: Programme) -> Iterable[Problem]:
    """Cross-field rules the per-field models cannot see: keys, anchors, order of dates."""
    meeting_keys: set[str] = set()
    previous_offset = -1
    for index, meeting in enumerate(programme.meetings):
        path = ("meetings", index)
        if meeting.key in RESERVED_REFS:
            yield (*path, "key"), f"'{meeting.key}' is a reserved word in anchors; choose another"
        if meeting.key in meeting_keys:
            yield (*path, "key"), f"duplicate meeting key '{meeting.key}'"
        meeting_keys.add(meeting.key)
        if meeting.offset < previous_offset:
            yield (*path, "offset"), "meetings must be listed in date order"
        previous_offset = meeting.offset
    for section in ("tasks", "prompts", "groupings", "surveys"):
        seen: set[str] = set()
        for index, item in enumerate(getattr(programme, section)):
            if item.key in seen:
                yield (section, index, "key"), f"duplicate key '{item.key}' in {section}"
            seen.add(item.key)
    for section, fields in (("tasks", ("release", "due")), ("prompts", ("send",)),
                            ("surveys", ("open",))):
        for index, item in enumerate(getattr(programme, section)):
            for field_name in fields:
                anchor = getattr(item, field_name)
                if anchor is not None:
                    problem = _anchor_problem(anchor, item.repeat, meeting_keys)
                    if problem:
                        yield (section, index, field_name), problem
    for check in _plan_checks:  # after the anchors they rely on, in the file's order
        yield from check(programme)
    yield from _check_surveys(programme)
    yield from _check_guides(programme)


def _check_surveys(programme: Programme) -> Iterable[Problem]:
    """Question and area ids are column names in exports: unique within their survey."""
    survey_keys = [s.key for s in programme.surveys]
    for index, survey in enumerate(programme.surveys):
        path = ("surveys", index)
        seen: set[str] = set()
        for q_index, question in enumerate(survey.questions):
            if question.id in seen:
                yield (*path, "questions", q_index, "id"), (
                    f"duplicate question id '{question.id}' in survey '{survey.key}'")
            seen.add(question.id)
            areas: set[str] = set()
            for a_index, area in enumerate(getattr(question, "areas", ())):
                if area.id in areas:
                    yield (*path, "questions", q_index, "areas", a_index, "id"), (
                        f"duplicate area id '{area.id}' in question '{question.id}'")
                areas.add(area.id)
            max_choices = getattr(question, "max_choices", None)
            if max_choices is not None and max_choices > len(question.options):
                yield (*path, "questions", q_index, "max_choices"), (
                    f"max_choices {max_choices} is more than the {len(question.options)} options")
        if survey.compare_with is not None:
            if survey.compare_with == survey.key:
                yield (*path, "compare_with"), "a survey cannot be compared with itself"
            elif survey.compare_with not in survey_keys:
                close = difflib.get_close_matches(survey.compare_with, survey_keys, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                yield (*path, "compare_with"), (
                    f"no survey '{survey.compare_with}'{hint}; surveys: {', '.join(survey_keys)}")


def _check_guides(programme: Programme) -> Iterable[Problem]:
    seen: set[str] = set()
    for index, guide in enumerate(programme.evaluation.guides):
        if guide.key in seen:
            yield ("evaluation", "guides", index, "key"), f"duplicate guide key '{guide.key}'"
        seen.add(guide.key)


def _anchor_problem(anchor: Anchor, repeat: str, meeting_keys: set[str]) -> str | None:
    if anchor.ref in RELATIVE_REFS:
        if repeat != "each-meeting":
            return f"'{anchor.ref}' only works with repeat: each-meeting; name a meeting key"
        return None
    if anchor.ref in POSITION_REFS or anchor.ref in meeting_keys:
        return None
    close = difflib.get_close_matches(anchor.ref, sorted(meeting_keys), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    known = ", ".join(sorted(meeting_keys))
    return f"anchor '{anchor}' names unknown meeting '{anchor.ref}'{hint}; meetings: {known}"
