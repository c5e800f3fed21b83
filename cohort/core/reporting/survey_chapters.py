"""The two chapters made of the surveys' figures side by side: reaction (the meeting
evaluations, a column per meeting) and learning (the self-assessment before and after, with
the change the publication rules allow). Split from `chapters`, which calls them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..survey_results import QuestionResult, SurveySummary, format_decimal, shown_change
from ..surveys import SCALE_LABELS
from .facts import ReportFacts
from .figures import is_closed, level_of, question_figure, survey_status
from .report import (
    SUPPRESSED_PAIRED,
    AreaFigure,
    MatrixRow,
    MeetingColumn,
    MeetingMatrix,
    PrePostFigure,
    Share,
    Suppressed,
    paired_figures,
    share,
    signed_decimal,
    unpaired_figures,
)

TOP_LEVELS = 2  # "share high": the top two steps of a self-assessment scale


# --- reaction: meeting evaluations ----------------------------------------------------------

def matrices(facts: ReportFacts, language: str, zone: ZoneInfo,
              suppressed: list[Suppressed], now: datetime) -> tuple[MeetingMatrix, ...]:
    """Per meeting-evaluation template: a column per answered meeting and one for all
    meetings together, each as the publication rule decided (`core.publication`): a meeting
    shows from the minimum group size, and the "all" column hides while a hidden meeting
    could be worked out by subtracting the shown ones from it (listed by `_suppressed_in`).
    The evaluator's web pages decide the same, so no page and report can be subtracted
    either."""
    meetings = {m.key: m for m in facts.meetings}
    matrices = []
    for template in facts.templates:
        if template.kind != "meeting":
            continue
        copies = sorted((s for s in facts.surveys if s.template_key == template.key),
                        key=lambda s: (meetings[s.meeting_key].starts_at
                                       if s.meeting_key in meetings else s.opens_at, s.key))
        copies = [s for s in copies if s.answered > 0]
        titles = [meetings[s.meeting_key].title if s.meeting_key in meetings else s.title
                  for s in copies]
        columns = tuple(MeetingColumn(
            s.meeting_key, title,
            meetings[s.meeting_key].starts_at.astimezone(zone).date()
            if s.meeting_key in meetings else None,
            s.invited, s.answered, share(s.answered, s.invited, language),
            s.summary.suppressed, survey_status(s.opens_at, s.closes_at, now),
            s.closes_at.astimezone(zone).date())
            for s, title in zip(copies, titles, strict=True))
        rows = []
        for index, result in enumerate(template.summary.questions):
            if not is_closed(result.question):
                continue
            level = level_of(result.question, template.kind)
            cells = tuple(question_figure(s.summary.questions[index], level, language)
                          for s in copies)
            rows.append(MatrixRow(question_figure(result, level, language), cells))
        matrices.append(MeetingMatrix(template.key, template.title, columns, tuple(rows),
                                      template.summary.responses))
    return tuple(matrices)


# --- learning: pre/post ---------------------------------------------------------------------

def pre_post(facts: ReportFacts, language: str, suppressed: list[Suppressed],
              responses: dict[str, Share | None] | None = None,
              statuses: dict | None = None) -> tuple[PrePostFigure, ...]:
    templates = {t.key: t for t in facts.templates}
    figures = []
    for item in facts.pre_post:
        pre, post = templates.get(item.pre_key), templates.get(item.post_key)
        if pre is None or post is None:
            continue
        pre_result = _result(pre.summary, item.question_id)
        post_result = _result(post.summary, item.question_id)
        question = post_result.question
        scale = tuple(question.scale or SCALE_LABELS.get(post.summary.spec.language,
                                                         SCALE_LABELS["en"]))
        pre_areas = {a.area_id: a for a in pre_result.areas}
        post_areas = {a.area_id: a for a in post_result.areas}
        areas = []
        for change in item.areas:
            if (item.paired and change.paired_change is None
                    and change.paired_n >= facts.min_group_size):
                suppressed.append(Suppressed(SUPPRESSED_PAIRED, f"{post.title}: {change.text}",
                                             change.paired_n))
            shown = shown_change(change, item.paired)
            text = signed_decimal(shown.value, language) if shown else None
            areas.append(AreaFigure(
                id=change.area_id, text=change.text, pre_n=change.pre_n, post_n=change.post_n,
                paired_n=change.paired_n if item.paired else 0,
                pre_mean=_mean(change.pre_mean, language),
                post_mean=_mean(change.post_mean, language),
                pre_mean_value=change.pre_mean, post_mean_value=change.post_mean,
                change=text, paired_change=text if item.paired else None,
                pre_high=_high(pre_areas.get(change.area_id), len(scale), language),
                post_high=_high(post_areas.get(change.area_id), len(scale), language),
                off_shown_means=bool(shown and shown.off_shown_means),
                # an interval only beside a change that is shown
                **(paired_figures(change.paired_stats if shown else None, language)
                   if item.paired
                   else unpaired_figures(change.unpaired_stats if shown else None, language)),
            ))
        figures.append(PrePostFigure(item.question_id, question.text, pre.title, post.title,
                                     pre.summary.responses, post.summary.responses,
                                     item.paired, scale, tuple(areas),
                                     (responses or {}).get(item.pre_key),
                                     (responses or {}).get(item.post_key),
                                     *_sides(statuses or {}, item.pre_key, item.post_key)))
    return tuple(figures)


def _sides(statuses: dict, pre_key: str, post_key: str) -> tuple:
    """PrePostFigure's pre_status, post_status, pre_day, post_day."""
    (pre, pre_day), (post, post_day) = (statuses.get(pre_key, ("", None)),
                                        statuses.get(post_key, ("", None)))
    return pre, post, pre_day, post_day


def _result(summary: SurveySummary, question_id: str) -> QuestionResult:
    return next(r for r in summary.questions if r.question.id == question_id)


def _mean(value: float | None, language: str) -> str | None:
    return None if value is None else format_decimal(value, language)


def _high(area, steps: int, language: str) -> Share | None:
    """The share answering one of the top two steps of the scale (a distribution shift that
    needs no pairing, so it works for anonymous surveys too)."""
    if area is None or area.suppressed or not area.distribution:
        return None
    top = sum(c.count for c in area.distribution if c.value > steps - TOP_LEVELS)
    return share(top, area.n, language)
