"""Two reports of the same programme side by side, figure against figure.

Rows are matched by what they measure (survey template and question id, self-assessment area
id), not by position, so a question one cohort's programme copy lacks shows as a dash rather
than shifting the rows. Only the figures each report already shows are set side by side: a
figure suppressed in one cohort stays suppressed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .reporting import (
    NotComparable,
    QuestionFigure,
    Report,
    Share,
    share,
)


@dataclass(frozen=True)
class CompareCell:
    text: str | None  # None: no figure (not asked, no answers, or suppressed)
    detail: str = ""  # "28/31", "n = 29", or the change "+0,6"
    value: float | None = None  # for charts: a percent or a mean
    interval: str = ""  # the figure's 95 % interval as the report shows it ("47–76 %")


@dataclass(frozen=True)
class CompareRow:
    label: str  # the question or area; in the about section the survey (for response rates)
    first: CompareCell
    second: CompareCell
    kind: str = ""  # about section: participants | meetings_held | attendance | response


@dataclass(frozen=True)
class CompareSection:
    key: str  # about | reaction | learning | final | follow_up | buddy
    title: str  # the survey or question it comes from ('' for the about section)
    rows: tuple[CompareRow, ...]


@dataclass(frozen=True)
class Comparison:
    language: str
    first: Report
    second: Report
    sections: tuple[CompareSection, ...]


EMPTY = CompareCell(None)


def compare_reports(first: Report, second: Report) -> Comparison:
    if first.cohort.programme_id != second.cohort.programme_id:
        raise NotComparable(f"'{first.cohort.title}' and '{second.cohort.title}' run different "
                            "programmes")
    language = first.language
    sections = [
        CompareSection("about", "", _about_rows(first, second, language)),
        *_reaction(first, second),
        *_learning(first, second),
        *_statements(first, second),
        *_follow_up(first, second),
        *_buddy(first, second),
    ]
    return Comparison(language, first, second, tuple(s for s in sections if s.rows))


def share_cell(value: Share | None) -> CompareCell:
    if value is None:
        return EMPTY
    return CompareCell(value.text, f"{value.part}/{value.whole}", value.percent,
                       value.interval or "")


def question_cell(figure: QuestionFigure | None) -> CompareCell:
    if figure is None or figure.suppressed:
        return EMPTY
    if figure.agree is not None:
        return share_cell(figure.agree)
    if figure.mean is not None:
        return CompareCell(figure.mean, f"n = {figure.n}", figure.mean_value)
    return EMPTY


def _rows(first: dict, second: dict, label: Callable, cell: Callable) -> tuple[CompareRow, ...]:
    keys = list(first) + [k for k in second if k not in first]
    return tuple(CompareRow(label(first.get(key) or second.get(key)),
                            cell(first.get(key)), cell(second.get(key))) for key in keys)


def _about_rows(first: Report, second: Report, language: str) -> tuple[CompareRow, ...]:
    def count(value: int) -> CompareCell:
        return CompareCell(str(value), value=value)

    rows = [
        CompareRow("", count(first.about.participants), count(second.about.participants),
                   "participants"),
        CompareRow("", count(first.about.held), count(second.about.held), "meetings_held"),
        CompareRow("", share_cell(_attendance(first)), share_cell(_attendance(second)),
                   "attendance"),
    ]
    a, b = _rates_by_template(first, language), _rates_by_template(second, language)
    rows += [CompareRow(title, share_cell(a.get(key, (title, None))[1]),
                        share_cell(b.get(key, (title, None))[1]), "response")
             for key, (title, _) in {**b, **a}.items()]
    return tuple(rows)


def _attendance(report: Report) -> Share | None:
    return report.about.attendance.overall if report.about.attendance else None


def _rates_by_template(report: Report, language: str) -> dict[str, tuple[str, Share | None]]:
    """Response rate per survey template, over all its copies (all meeting evaluations)."""
    totals: dict[str, list] = {}
    for rate in report.about.response_rates:
        if rate.share is None:  # not opened yet
            continue
        entry = totals.setdefault(rate.template_key, [rate.title, 0, 0])
        entry[1] += rate.answered
        entry[2] += rate.invited
    return {key: (title, share(answered, invited, language))
            for key, (title, answered, invited) in totals.items()}


def _reaction(first: Report, second: Report) -> Iterable[CompareSection]:
    a = {m.template_key: m for m in first.reaction.matrices}
    b = {m.template_key: m for m in second.reaction.matrices}
    for key in list(a) + [k for k in b if k not in a]:
        rows_a = {r.question.id: r.question for r in a[key].rows} if key in a else {}
        rows_b = {r.question.id: r.question for r in b[key].rows} if key in b else {}
        title = (a.get(key) or b.get(key)).title
        yield CompareSection("reaction", title, _rows(rows_a, rows_b, lambda q: q.text,
                                                      question_cell))


def _learning(first: Report, second: Report) -> Iterable[CompareSection]:
    def cell(area) -> CompareCell:
        if area is None or area.pre_mean is None or area.post_mean is None:
            return EMPTY
        change = area.change or ""  # the change the report shows (`shown_change`)
        return CompareCell(f"{area.pre_mean} \u2192 {area.post_mean}", change,
                           (area.post_mean_value or 0) - (area.pre_mean_value or 0),
                           area.interval if change and area.interval else "")

    a = {p.question_id: p for p in first.learning.pre_post}
    b = {p.question_id: p for p in second.learning.pre_post}
    for key in list(a) + [k for k in b if k not in a]:
        areas_a = {x.id: x for x in a[key].areas} if key in a else {}
        areas_b = {x.id: x for x in b[key].areas} if key in b else {}
        yield CompareSection("learning", (a.get(key) or b.get(key)).text,
                             _rows(areas_a, areas_b, lambda x: x.text, cell))


def _statements(first: Report, second: Report) -> Iterable[CompareSection]:
    """The final survey's agree-shares (the report's headline statements)."""
    a = _final_statements(first)
    b = _final_statements(second)
    if a or b:
        title = _final_title(first) or _final_title(second)
        yield CompareSection("final", title, _rows(a, b, lambda q: q.text, question_cell))


def _final_statements(report: Report) -> dict[str, QuestionFigure]:
    blocks = [*report.reaction.blocks, *report.learning.blocks, *report.behaviour.blocks,
              *report.results.blocks]
    return {q.id: q for b in blocks if b.kind == "final" for q in b.statements}


def _final_title(report: Report) -> str:
    blocks = [*report.reaction.blocks, *report.learning.blocks, *report.behaviour.blocks,
              *report.results.blocks]
    return next((b.title for b in blocks if b.kind == "final"), "")


def _follow_up(first: Report, second: Report) -> Iterable[CompareSection]:
    a = {f.key: f for f in first.behaviour.follow_up}
    b = {f.key: f for f in second.behaviour.follow_up}
    for key in list(a) + [k for k in b if k not in a]:
        rows_a = {r.question.id: r.question for r in a[key].rows} if key in a else {}
        rows_b = {r.question.id: r.question for r in b[key].rows} if key in b else {}
        yield CompareSection("follow_up", (a.get(key) or b.get(key)).title,
                             _rows(rows_a, rows_b, lambda q: q.text, question_cell))


def _buddy(first: Report, second: Report) -> Iterable[CompareSection]:
    """The share of buddy pairs who met, round by round (matched by the round's key)."""
    a = {r.key: r for r in first.behaviour.buddy_rounds}
    b = {r.key: r for r in second.behaviour.buddy_rounds}
    if a or b:
        yield CompareSection("buddy", "", _rows(a, b, lambda r: r.title,
                                                lambda r: share_cell(r.met if r else None)))
