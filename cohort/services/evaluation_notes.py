"""Evaluators' notes (per meeting from the observation guide, per interview from the interview
guide) and coded quotes, attributed only as organisation and group, never by name, and only
as narrowly as at least the minimum group size of the cohort's participants fit
(`core.attribution`): a quote may also have no attribution at all ("a participant")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlmodel import Session

from ..core import attribution
from ..core.programme import Guide
from ..core.surveys import clean_text
from ..models import (
    EvaluatorNote,
    Group,
    GroupMember,
    Meeting,
    Participant,
    Quote,
    User,
    utcnow,
)
from . import activity
from ._lookup import NotFound, get_cohort
from .surveys import min_group_size_of, programme_snapshot


class Problem(str):
    """One reason a note or quote cannot be saved: the English text (the command line's, and
    what `str` compares), with a code and its values so the web words it in the page's
    language (web/evaluation_forms.py `problem_text`)."""

    code: str
    params: dict

    def __new__(cls, code: str, text: str, **params) -> Problem:
        problem = super().__new__(cls, text)
        problem.code, problem.params = code, params
        return problem


class NoteInvalid(ValueError):
    """A note or quote that cannot be saved; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(problems))
        self.problems = problems


def cohort_guides(session: Session, cohort_id: int) -> list[Guide]:
    return list(programme_snapshot(get_cohort(session, cohort_id)).evaluation.guides)


def cohort_themes(session: Session, cohort_id: int) -> list[str]:
    """The programme's codebook, then any theme evaluators have added since, in use order."""
    themes = list(programme_snapshot(get_cohort(session, cohort_id)).evaluation.themes)
    for quote in list_quotes(session, cohort_id):
        themes += [t for t in quote.themes if t not in themes]
    return themes


def save_note(
    session: Session, cohort_id: int, guide_key: str, entries: Mapping[str, str], *,
    meeting_key: str | None = None, title: str = "", held_on: date | None = None,
    organisation: str = "", group_label: str = "", author: str = "",
    note_id: int | None = None, now: datetime | None = None, is_demo: bool = False,
    actor: User | None = None,
) -> EvaluatorNote:
    """Create (or with `note_id` update, logged as `actor`'s edit) a note; `entries` maps
    guide headings to text."""
    now = now or utcnow()
    guide = _guide(session, cohort_id, guide_key)
    headings = [s.heading for s in guide.sections]
    problems = [Problem("not_a_heading", f"'{h}' is not a heading of guide '{guide.key}'",
                        heading=h, guide=guide.key) for h in entries if h not in headings]
    if meeting_key is not None and session.scalar(select(Meeting.id).where(
            Meeting.cohort_id == cohort_id, Meeting.key == meeting_key)) is None:
        problems.append(Problem("no_meeting", f"cohort {cohort_id} has no meeting "
                                f"'{meeting_key}'", meeting=meeting_key))
    problems += _names_in(session, cohort_id, {"organisation": organisation,
                                               "group": group_label, "title": title})
    if problems:
        raise NoteInvalid(problems)
    note = session.get(EvaluatorNote, note_id) if note_id is not None else EvaluatorNote(
        cohort_id=cohort_id, kind=guide.kind, guide_key=guide.key, created_at=now)
    if note is None or note.cohort_id != cohort_id:
        raise NotFound(f"cohort {cohort_id} has no note {note_id}")
    note.meeting_key, note.title, note.held_on = meeting_key, clean_text(title), held_on
    note.organisation, note.group_label = clean_text(organisation), clean_text(group_label)
    note.entries = [{"heading": h, "text": clean_text(entries[h])} for h in headings
                    if clean_text(entries.get(h, ""))]
    note.author, note.is_demo, note.updated_at = author, is_demo, now
    session.add(note)
    session.flush()
    if note_id is not None:
        activity.log_activity(session, cohort_id, actor, activity.NOTE_EDITED,
                              {"id": note.id}, now)
    return note


def delete_note(session: Session, cohort_id: int, note_id: int, actor: User | None = None,
                now: datetime | None = None) -> None:
    """Delete a note; its quotes stay (coded for the report), no longer tied to a note."""
    note = get_note(session, cohort_id, note_id)
    session.execute(update(Quote).where(Quote.note_id == note.id).values(note_id=None))
    session.delete(note)
    session.flush()
    activity.log_activity(session, cohort_id, actor, activity.NOTE_DELETED, {"id": note_id},
                          now)


def get_note(session: Session, cohort_id: int, note_id: int) -> EvaluatorNote:
    note = session.get(EvaluatorNote, note_id)
    if note is None or note.cohort_id != cohort_id:
        raise NotFound(f"cohort {cohort_id} has no note {note_id}")
    return note


def get_quote(session: Session, cohort_id: int, quote_id: int) -> Quote:
    quote = session.get(Quote, quote_id)
    if quote is None or quote.cohort_id != cohort_id:
        raise NotFound(f"cohort {cohort_id} has no quote {quote_id}")
    return quote


def add_quote(
    session: Session, cohort_id: int, text: str, *, organisation: str = "", group_label: str = "",
    themes: Iterable[str] = (), note_id: int | None = None, now: datetime | None = None,
    is_demo: bool = False,
) -> Quote:
    """A quote for the report, attributed as 'organisation, group', 'organisation' or not at
    all, only as narrowly as the minimum group size allows, and tagged with themes."""
    get_cohort(session, cohort_id)
    problems = _quote_problems(session, cohort_id, text, organisation, group_label)
    if note_id is not None:
        note = session.get(EvaluatorNote, note_id)
        if note is None or note.cohort_id != cohort_id:
            problems.append(Problem("no_note", f"cohort {cohort_id} has no note {note_id}",
                                    note=note_id))
    if problems:
        raise NoteInvalid(problems)
    quote = Quote(cohort_id=cohort_id, note_id=note_id, text=clean_text(text),
                  organisation=clean_text(organisation), group_label=clean_text(group_label),
                  themes=normalise_themes(themes), is_demo=is_demo, created_at=now or utcnow())
    session.add(quote)
    session.flush()
    return quote


def _quote_problems(session: Session, cohort_id: int, text: str, organisation: str,
                    group_label: str) -> list[Problem]:
    problems = []
    if not clean_text(text):
        problems.append(Problem("quote_empty", "the quote is empty"))
    problems += _names_in(session, cohort_id, {"quote": text})
    named = _names_in(session, cohort_id, {"organisation": organisation, "group": group_label})
    chosen = clean_text(organisation), clean_text(group_label)
    if not named and any(chosen):
        k = min_group_size_of(session, cohort_id)
        fit = attribution.fitting(attribution_people(session, cohort_id), *chosen)
        if fit < k:
            problems.append(Problem(
                "too_narrow",
                f"'{attribution.text_of(*chosen)}' fits {fit} of the cohort's participants, "
                f"fewer than the minimum group size ({k}): attribute the quote more broadly "
                "(only the organisation, or no attribution)",
                attribution=attribution.text_of(*chosen), fit=fit, k=k))
    return problems + named


def update_quote(
    session: Session, cohort_id: int, quote_id: int, text: str, *, organisation: str = "",
    group_label: str = "", themes: Iterable[str] = (), actor: User | None = None,
    now: datetime | None = None,
) -> Quote:
    """Correct a quote's words, attribution or themes (checked as when it was added)."""
    quote = get_quote(session, cohort_id, quote_id)
    problems = _quote_problems(session, cohort_id, text, organisation, group_label)
    if problems:
        raise NoteInvalid(problems)
    quote.text, quote.organisation = clean_text(text), clean_text(organisation)
    quote.group_label, quote.themes = clean_text(group_label), normalise_themes(themes)
    session.add(quote)
    session.flush()
    activity.log_activity(session, cohort_id, actor, activity.QUOTE_EDITED, {"id": quote.id},
                          now)
    return quote


def delete_quote(session: Session, cohort_id: int, quote_id: int, actor: User | None = None,
                 now: datetime | None = None) -> None:
    session.delete(get_quote(session, cohort_id, quote_id))
    session.flush()
    activity.log_activity(session, cohort_id, actor, activity.QUOTE_DELETED, {"id": quote_id},
                          now)


def attribution_choices(session: Session, cohort_id: int) -> tuple[list[str], list[str]]:
    """What a note can be attributed to, from the cohort's own data: its participants'
    organisations, and its groups as "<grouping title> <number>". Notes are not published;
    a quote's choices are `quote_attributions`, only those enough participants fit."""
    cohort = get_cohort(session, cohort_id)
    organisations = list(session.scalars(
        select(Participant.organisation).where(Participant.cohort_id == cohort_id,
                                               Participant.organisation != "")
        .distinct().order_by(Participant.organisation)))
    titles = {g.key: g.title or g.key for g in programme_snapshot(cohort).groupings}
    groups: list[str] = []
    for key, number in session.execute(
            select(Group.grouping_key, Group.number).where(Group.cohort_id == cohort_id)
            .distinct().order_by(Group.grouping_key, Group.number)):
        label = group_label_of(titles.get(key, key), number)
        if label not in groups:
            groups.append(label)
    return organisations, groups


def group_label_of(grouping_title: str, number: int) -> str:
    """How a quote names its group: the grouping's title and the group's number."""
    return f"{grouping_title} {number}"


def attribution_people(session: Session, cohort_id: int) -> list[attribution.Person]:
    """The cohort's current participants (not erased) with their organisations and groups,
    the groups labelled as quotes name them."""
    titles = {g.key: g.title or g.key
              for g in programme_snapshot(get_cohort(session, cohort_id)).groupings}
    groups: dict[int, set[tuple[str, int]]] = {}
    for pid, key, number, rotation in session.execute(
            select(GroupMember.participant_id, Group.grouping_key, Group.number, Group.rotation)
            .join(Group, Group.id == GroupMember.group_id).where(Group.cohort_id == cohort_id)):
        groups.setdefault(pid, set()).add((group_label_of(titles.get(key, key), number),
                                           rotation))
    return [attribution.Person(organisation, frozenset(groups.get(pid, ())))
            for pid, organisation in session.execute(
                select(Participant.id, Participant.organisation).where(
                    Participant.cohort_id == cohort_id, Participant.erased_at.is_(None)))]


@dataclass(frozen=True)
class QuoteAttributions:
    """What a quote may be attributed to now: the minimum group size `k`, the attributions
    at least `k` current participants fit (`choices`, the generic one first) and how any
    stored one is published (`publishable`)."""

    k: int
    people: tuple[attribution.Person, ...]

    @property
    def choices(self) -> list[tuple[str, str]]:
        return attribution.choices(self.people, self.k)

    def publishable(self, organisation: str, group_label: str) -> tuple[str, str]:
        return attribution.publishable(self.people, organisation, group_label, self.k)


def quote_attributions(session: Session, cohort_id: int,
                       min_group_size: int | None = None) -> QuoteAttributions:
    """The cohort's attribution rule with its minimum group size (the programme's unless
    given)."""
    return QuoteAttributions(min_group_size_of(session, cohort_id, min_group_size),
                             tuple(attribution_people(session, cohort_id)))


def published_attributions(session: Session, cohort_id: int, quotes: Iterable[Quote],
                           min_group_size: int | None = None) -> dict[int, tuple[str, str]]:
    """Each quote's (organisation, group) as it may be published now with the minimum group
    size (the programme's unless given): as stored, or coarsened (`core.attribution`)."""
    rule = quote_attributions(session, cohort_id, min_group_size)
    return {q.id: rule.publishable(q.organisation, q.group_label) for q in quotes}


def tag_quote(session: Session, cohort_id: int, quote_id: int, themes: Iterable[str]) -> Quote:
    quote = get_quote(session, cohort_id, quote_id)
    quote.themes = normalise_themes(themes)
    session.add(quote)
    session.flush()
    return quote


def normalise_themes(themes: Iterable[str]) -> list[str]:
    """Trimmed, without duplicates (case-insensitive), in the order given."""
    result: list[str] = []
    for theme in themes:
        theme = clean_text(theme)
        if theme and theme.casefold() not in {t.casefold() for t in result}:
            result.append(theme)
    return result


def list_notes(session: Session, cohort_id: int, kind: str | None = None) -> list[EvaluatorNote]:
    query = select(EvaluatorNote).where(EvaluatorNote.cohort_id == cohort_id)
    if kind is not None:
        query = query.where(EvaluatorNote.kind == kind)
    return list(session.scalars(query.order_by(EvaluatorNote.held_on, EvaluatorNote.id)))


def list_quotes(session: Session, cohort_id: int, theme: str | None = None) -> list[Quote]:
    quotes = session.scalars(select(Quote).where(Quote.cohort_id == cohort_id)
                             .order_by(Quote.id)).all()
    if theme is None:
        return list(quotes)
    return [q for q in quotes if theme.casefold() in {t.casefold() for t in q.themes}]


def quotes_by_theme(session: Session, cohort_id: int) -> dict[str, list[Quote]]:
    grouped: dict[str, list[Quote]] = {}
    for quote in list_quotes(session, cohort_id):
        for theme in quote.themes or [""]:
            grouped.setdefault(theme, []).append(quote)
    return grouped


def _guide(session: Session, cohort_id: int, guide_key: str) -> Guide:
    guides = cohort_guides(session, cohort_id)
    for guide in guides:
        if guide.key == guide_key:
            return guide
    known = ", ".join(g.key for g in guides) or "none"
    raise NotFound(f"cohort {cohort_id} has no guide '{guide_key}' (guides: {known})")


def _names_in(session: Session, cohort_id: int,
              fields: Mapping[str, str]) -> list[Problem]:
    """Refuse text that names a participant: quotes are attributed by organisation and group."""
    names: Sequence[str] = session.scalars(
        select(Participant.name).where(Participant.cohort_id == cohort_id)).all()
    problems = []
    for label, value in fields.items():
        text = (value or "").casefold()
        for name in names:
            if name.strip() and re.search(rf"\b{re.escape(name.strip().casefold())}\b", text):
                problems.append(Problem(
                    "names_participant", f"the {label} names a participant ({name}); "
                    "attribute quotes only by organisation and group", field=label, name=name))
                break
    return problems
