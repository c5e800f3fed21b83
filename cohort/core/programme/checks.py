"""Cross-field checks: the rules about a whole template that no single field can see.

Keys unique within their section, meetings in date order, anchors naming real meetings (and
relative ones only on repeated items), no task due before its release, unique question and
area ids, `compare_with` naming another survey, unique guide keys. Each problem is a field
path and a message; `loading` locates them in the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date

from ..timeexpr import POSITION_REFS, RELATIVE_REFS, RESERVED_REFS, Anchor
from .schema import Programme


def check_consistency(programme: Programme) -> Iterable[tuple[tuple, str]]:
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
    yield from _check_due_after_release(programme, meeting_keys)
    yield from _check_surveys(programme)
    yield from _check_guides(programme)


def _check_surveys(programme: Programme) -> Iterable[tuple[tuple, str]]:
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


def _check_guides(programme: Programme) -> Iterable[tuple[tuple, str]]:
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


def _check_due_after_release(programme: Programme, meeting_keys: set[str]):
    """Plan once from a reference date and compare: offsets make order date-independent."""
    from ..planning import plan_tasks  # planning imports this package

    for index, task in enumerate(programme.tasks):
        if task.due is None:
            continue
        refs = {task.release.ref, task.due.ref} - set(RESERVED_REFS)
        if not refs <= meeting_keys:
            continue
        for planned in plan_tasks(programme, date(2025, 1, 6), programme.timezone, {}, task):
            if planned.due_at is not None and planned.due_at < planned.release_at:
                yield ("tasks", index, "due"), (
                    f"due '{task.due}' comes before release '{task.release}'"
                    + (f" (for meeting '{planned.meeting_key}')" if task.repeat != "once" else "")
                )
                break

