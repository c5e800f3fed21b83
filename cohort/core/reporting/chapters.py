"""Facts -> the report: `build_report` and the chapters it is made of.

Summary (the final survey's agree-share statements), about the programme, reaction (meeting
evaluations side by side), learning (pre/post), behaviour (follow-up), results and voices,
and method. Each chapter adds what it had to hide to `suppressed`, which the method lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from ..anonymity import OTHER, generalise
from ..programme import Likert5Question, SelfAssessmentQuestion, TextQuestion
from ..publication import decide
from .facts import ReportFacts, TemplateFacts
from .figures import (
    LEVELS,
    is_closed,
    level_blocks,
    level_of,
    question_figure,
    survey_block,
    survey_status,
    template_statuses,
)
from .report import (
    SUPPRESSED_AGGREGATE,
    SUPPRESSED_AGGREGATE_OPEN,
    SUPPRESSED_AREA,
    SUPPRESSED_ATTENDANCE,
    SUPPRESSED_BUDDY,
    SUPPRESSED_DISTRIBUTION,
    SUPPRESSED_OPEN,
    SUPPRESSED_ORGANISATIONS,
    SUPPRESSED_PARTICIPANTS,
    SUPPRESSED_QUESTION,
    SUPPRESSED_ROLES,
    SUPPRESSED_SURVEY,
    SUPPRESSED_TEXT,
    About,
    AttendanceFigures,
    AttendanceRow,
    Behaviour,
    BuddyRound,
    ChoiceRow,
    FollowUp,
    FollowUpRow,
    FreeText,
    GroupCount,
    Learning,
    MeetingRow,
    Method,
    QuoteRow,
    RateRow,
    Reaction,
    Report,
    Results,
    Share,
    SourceRow,
    Suppressed,
    SurveyBlock,
    Theme,
    agree_share,
    share,
)
from .survey_chapters import matrices, pre_post

DEFAULT_TEXTS_PER_QUESTION = 10
DEFAULT_QUOTES_PER_THEME = 3


def build_report(
    facts: ReportFacts, language: str, now: datetime,
    texts_per_question: int = DEFAULT_TEXTS_PER_QUESTION,
    quotes_per_theme: int = DEFAULT_QUOTES_PER_THEME,
    words: bool = True,
) -> Report:
    """The whole report from its facts, with figures formatted for `language`.

    Each part adds what it had to hide to `suppressed`, which the method chapter lists.
    With `words=False` (the report for the cohort's facilitators) the report has every figure
    but no coded quotes and no free-text answers: those are for the evaluators only.
    """
    suppressed: list[Suppressed] = []
    zone = ZoneInfo(facts.cohort.timezone)
    responses = _template_responses(facts, language, now)
    statuses = template_statuses(facts, now, zone)
    blocks = {level: _rated(level_blocks(facts, level, language), responses, statuses)
              for level in LEVELS}
    for template in facts.templates:
        suppressed += _suppressed_in(template, statuses[template.key][0] == "open")
    suppressed += _suppressed_meetings(facts, now)
    about = _about(facts, language, now, zone, suppressed)
    reaction = Reaction(matrices(facts, language, zone, suppressed, now), blocks["reaction"])
    free_text = _free_text(facts, texts_per_question, suppressed, statuses)
    results = Results(blocks["results"], _themes(facts, quotes_per_theme) if words else (),
                      free_text if words else ())
    return Report(
        language=language,
        cohort=facts.cohort,
        generated_at=now,
        generated_on=now.astimezone(zone).date(),
        min_group_size=facts.min_group_size,
        headline=_rated_one(_headline(facts, language), responses, statuses),
        preliminary=tuple(r for r in about.response_rates
                          if r.kind in ("final", "follow_up") and r.status != "closed"),
        about=about,
        reaction=reaction,
        learning=Learning(pre_post(facts, language, suppressed, responses, statuses),
                          blocks["learning"]),
        behaviour=Behaviour(blocks["behaviour"], _follow_ups(facts, language, responses),
                            _buddy_rounds(facts, language, zone, suppressed)),
        results=results,
        method=_method(facts, zone, language, now, texts_per_question, quotes_per_theme,
                       suppressed),
        words=words,
    )


def _headline(facts: ReportFacts, language: str) -> SurveyBlock | None:
    """The final survey's agree-share statements at every level, when it has figures."""
    finals = [t for t in facts.templates if t.kind == "final"]
    if not finals:
        return None
    headline = survey_block(finals[0], None, language)
    if headline.suppressed or not headline.responses or headline.empty:
        return None
    return headline


def _template_responses(facts: ReportFacts, language: str, now: datetime
                        ) -> dict[str, Share | None]:
    """Per survey template: answered of invited, over the copies that have opened (or were
    answered anyway), as in the method chapter; shown beside every survey's figures."""
    responses = {}
    for template in facts.templates:
        opened = [s for s in facts.surveys if s.template_key == template.key
                  and (s.opens_at <= now or s.answered)]
        responses[template.key] = share(sum(s.answered for s in opened),
                                        sum(s.invited for s in opened), language)
    return responses


def _rated(blocks: tuple[SurveyBlock, ...], responses: dict[str, Share | None],
           statuses: dict) -> tuple[SurveyBlock, ...]:
    return tuple(_rated_one(b, responses, statuses) for b in blocks)


def _rated_one(block: SurveyBlock | None, responses: dict[str, Share | None],
               statuses: dict) -> SurveyBlock | None:
    """A block with its response rate and status (`figures.copies_status`)."""
    if block is None:
        return None
    status, day = statuses.get(block.key, ("", None))
    return replace(block, response=responses.get(block.key), status=status, day=day)


def _suppressed_in(template: TemplateFacts, still_open: bool = False) -> list[Suppressed]:
    """Figures `survey_results` left out: for too few answers (the survey as a whole, or one
    optional question or area), or, over all copies of a repeated survey, because a hidden
    copy could be subtracted from them (the publication rule; one entry when every question
    is hidden so). Free text is listed with the free-text section. A survey still open
    (`still_open`: a copy is) is listed as such, not as one with too few answers."""
    summary = template.summary
    if summary.responses == 0:
        return []
    if summary.withheld:
        return [Suppressed(SUPPRESSED_OPEN, template.title, summary.responses)]
    if summary.suppressed:
        return [Suppressed(SUPPRESSED_SURVEY, template.title, summary.responses)]
    k = summary.min_group_size
    hidden_aggregate = SUPPRESSED_AGGREGATE_OPEN if still_open else SUPPRESSED_AGGREGATE
    found, aggregate = [], []
    for result in summary.questions:
        if isinstance(result.question, TextQuestion):
            continue
        if isinstance(result.question, SelfAssessmentQuestion):
            found += [Suppressed(SUPPRESSED_AREA if area.n < k else hidden_aggregate,
                                 f"{template.title}: {area.text}", area.n)
                      for area in result.areas if area.suppressed and area.n > 0]
        elif result.suppressed and 0 < result.n < k:
            found.append(Suppressed(SUPPRESSED_QUESTION, f"{template.title}: "
                                    f"{result.question.text}", result.n))
        elif result.suppressed and result.n >= k:
            aggregate.append(Suppressed(hidden_aggregate, f"{template.title}: "
                                        f"{result.question.text}", result.n))
    closed = [r for r in summary.questions if is_closed(r.question) and r.n > 0]
    if aggregate and len(aggregate) == len(closed):
        aggregate = [Suppressed(hidden_aggregate, template.title, summary.responses)]
    return found + aggregate


def _suppressed_meetings(facts: ReportFacts, now: datetime) -> list[Suppressed]:
    """A meeting's evaluation with too few answers (the pooled figures may still show), or
    still open (its figures wait until it closes, however many answered)."""
    titles = {m.key: m.title for m in facts.meetings}
    k = facts.min_group_size
    found = []
    for s in facts.surveys:
        if s.kind != "meeting" or not s.answered:
            continue
        subject = f"{s.title}: {titles.get(s.meeting_key, s.key)}"
        if survey_status(s.opens_at, s.closes_at, now) == "open":
            found.append(Suppressed(SUPPRESSED_OPEN, subject, s.answered))
        elif s.answered < k:
            found.append(Suppressed(SUPPRESSED_SURVEY, subject, s.answered))
    return found


# --- about ----------------------------------------------------------------------------------

def _about(facts: ReportFacts, language: str, now: datetime, zone: ZoneInfo,
           suppressed: list[Suppressed]) -> About:
    meetings = tuple(MeetingRow(
        m.key, m.title, m.kind, m.format, m.starts_at.astimezone(zone).date(),
        "cancelled" if m.cancelled else ("held" if m.starts_at <= now else "planned"), m.themes)
        for m in sorted(facts.meetings, key=lambda m: m.starts_at))
    statuses = Counter(m.status for m in meetings)
    active = [m for m in meetings if m.status != "cancelled"]
    k = facts.min_group_size
    return About(
        programme_title=facts.cohort.programme_title,
        description=facts.cohort.description,
        audience=facts.cohort.audience,
        cohort_title=facts.cohort.title,
        first_day=active[0].day if active else None,
        last_day=active[-1].day if active else None,
        meetings=meetings,
        held=statuses["held"], planned=statuses["planned"], cancelled=statuses["cancelled"],
        participants=len(facts.participants),
        organisations=_group_counts([p.organisation for p in facts.participants], k, language,
                                    SUPPRESSED_ORGANISATIONS, suppressed),
        roles=_group_counts([p.role for p in facts.participants], k, language,
                            SUPPRESSED_ROLES, suppressed),
        response_rates=_rates(facts, language, now, zone),
        attendance=_attendance(facts, language, zone, suppressed),
    )


def _group_counts(values: Sequence[str], k: int, language: str, kind: str,
                  suppressed: list[Suppressed]) -> tuple[GroupCount, ...] | None:
    """Participants per organisation (or role); those shared by fewer than k are counted
    together as "other", and that group is made at least k large (`anonymity.generalise`)."""
    cleaned = [(v or "").strip() for v in values]
    if not cleaned:
        return ()
    if len(cleaned) < k:
        suppressed.append(Suppressed(SUPPRESSED_PARTICIPANTS, "", len(cleaned)))
        return None
    mapping = generalise(cleaned, k)
    counts = Counter(mapping[v] for v in cleaned)
    folded = len({v for v in cleaned if mapping[v] == OTHER and v != OTHER})
    if folded:
        suppressed.append(Suppressed(kind, "", counts[OTHER], folded))
    total = len(cleaned)
    rows = [GroupCount(label, n, share(n, total, language))
            for label, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            if label != OTHER]
    if counts.get(OTHER):
        rows.append(GroupCount(OTHER, counts[OTHER], share(counts[OTHER], total, language),
                               folded))
    return tuple(rows)


def _rates(facts: ReportFacts, language: str, now: datetime, zone: ZoneInfo
           ) -> tuple[RateRow, ...]:
    """Per survey: answered of invited; no rate for a survey that has not opened (unless
    answers came in anyway, e.g. typed in from paper)."""
    titles = {m.key: m.title for m in facts.meetings}
    rows = []
    for s in sorted(facts.surveys, key=lambda s: (s.opens_at, s.key)):
        status = survey_status(s.opens_at, s.closes_at, now)
        rate = (None if status == "not_open" and not s.answered
                else share(s.answered, s.invited, language))
        rows.append(RateRow(s.key, s.template_key, s.title, s.kind, s.mode,
                            titles.get(s.meeting_key, "") if s.kind == "meeting" else "",
                            s.invited, s.answered, rate, status,
                            s.closes_at.astimezone(zone).date(),
                            s.opens_at.astimezone(zone).date()))
    return tuple(rows)


def _attendance(facts: ReportFacts, language: str, zone: ZoneInfo,
                suppressed: list[Suppressed]) -> AttendanceFigures | None:
    """Attendance rate per recorded meeting and how many meetings people attended, with the
    attendance summary's own small-group rule (no figure about fewer than k people). The
    overall rate covers only the meetings shown, and only from k people on."""
    summary = facts.attendance
    if summary is None or not summary.recorded_meetings:
        return None
    days = {m.key: m.starts_at.astimezone(zone).date() for m in facts.meetings}
    rows = []
    shown: list[str] = []
    present = marked = 0
    for figures in summary.meetings:
        if not figures.recorded:
            continue
        hidden = not summary.published(figures.key)
        if hidden:
            suppressed.append(Suppressed(SUPPRESSED_ATTENDANCE, figures.title, figures.marked))
        rows.append(AttendanceRow(figures.key, figures.title, days.get(figures.key),
                                  figures.present, figures.marked,
                                  None if hidden else share(figures.present, figures.marked,
                                                            language)))
        if not hidden:  # a hidden meeting must not be recoverable as overall minus the rest
            shown.append(figures.key)
            present += figures.present
            marked += figures.marked
    distribution = None
    if summary.distribution is not None:
        base = summary.distribution_base
        distribution = tuple(ChoiceRow(str(attended), count, share(count, base, language))
                             for attended, count in sorted(summary.distribution.items()))
    elif summary.distribution_base:
        suppressed.append(Suppressed(SUPPRESSED_DISTRIBUTION, "", summary.distribution_base))
    people = sum(1 for p in summary.people if any(p.marks.get(k) for k in shown))
    overall = share(present, marked, language) if people >= facts.min_group_size else None
    return AttendanceFigures(tuple(rows), overall, distribution, summary.distribution_base,
                             len(summary.recorded_meetings))


# --- behaviour: follow-up -------------------------------------------------------------------

def _follow_ups(facts: ReportFacts, language: str,
                responses: dict[str, Share | None] | None = None) -> tuple[FollowUp, ...]:
    templates = {t.key: t for t in facts.templates}
    result = []
    for template in facts.templates:
        if template.kind != "follow_up":
            continue
        compared = templates.get(template.summary.spec.compare_with or "")
        earlier = ({r.question.id: r for r in compared.summary.questions}
                   if compared is not None else {})
        rows = []
        for item in template.summary.questions:
            if not isinstance(item.question, Likert5Question):
                continue
            figure = question_figure(item, level_of(item.question, template.kind), language)
            before = earlier.get(item.question.id)
            final = (None if before is None or before.agree is None else
                     agree_share(before.agree.agree, before.agree.n, language))
            rows.append(FollowUpRow(figure, final))
        result.append(FollowUp(template.key, template.title,
                               compared.title if compared else None,
                               template.summary.responses, tuple(rows),
                               (responses or {}).get(template.key)))
    return tuple(result)


def _buddy_rounds(facts: ReportFacts, language: str, zone: ZoneInfo,
                  suppressed: list[Suppressed]) -> tuple[BuddyRound, ...]:
    """The share of pairs who met in each round of buddy check-ins. A round is a cell of the
    publication rule (rule 1: shown from k pairs with an answer); the rounds are disjoint and
    no figure over all rounds is printed, so nothing smaller can be worked out from them."""
    if not facts.buddy_rounds:
        return ()
    decision = decide({r.key: r.answered for r in facts.buddy_rounds}, facts.min_group_size)
    rounds = []
    for r in facts.buddy_rounds:
        shown = r.key in decision.copies
        if not shown and r.answered:
            suppressed.append(Suppressed(SUPPRESSED_BUDDY, r.title, r.answered))
        rounds.append(BuddyRound(
            r.key, r.title, r.released_at.astimezone(zone).date(), r.pairs, r.answered,
            agree_share(r.met, r.answered, language) if shown else None,
            share(r.answered, r.pairs, language), not shown))
    return tuple(rounds)


# --- results and voices ---------------------------------------------------------------------

def _themes(facts: ReportFacts, limit: int) -> tuple[Theme, ...]:
    """Themes in the codebook's order, each with its first few quotes (organisation and group
    only, as stored)."""
    order = list(facts.themes)
    for quote in facts.quotes:
        order += [t for t in quote.themes if t not in order]
    themes = []
    for name in order:
        quotes = [q for q in facts.quotes if name in q.themes]
        if quotes:
            themes.append(Theme(name, len(quotes), tuple(
                QuoteRow(q.text, q.attribution) for q in quotes[:limit])))
    return tuple(themes)


def _free_text(facts: ReportFacts, limit: int, suppressed: list[Suppressed],
               statuses: dict | None = None) -> tuple[FreeText, ...]:
    """Free-text answers of every anonymous survey template, only from the minimum group size
    on (`survey_results` leaves them out below it), a random selection of at most `limit`.
    Identified surveys' written answers stay on the evaluators' pages: the method chapter
    promises that identified answers are reported only as figures for the group."""
    found = []
    for template in facts.templates:
        if template.summary.suppressed or template.mode == "identified":
            continue  # a suppressed survey is listed once, as the whole survey
        for result in template.summary.questions:
            if not isinstance(result.question, TextQuestion) or result.n == 0:
                continue
            if result.suppressed:
                still_open = (statuses or {}).get(template.key, ("", None))[0] == "open"
                kind = (SUPPRESSED_TEXT if result.n < template.summary.min_group_size
                        else SUPPRESSED_AGGREGATE_OPEN if still_open else SUPPRESSED_AGGREGATE)
                suppressed.append(Suppressed(kind, f"{template.title}: "
                                             f"{result.question.text}", result.n))
                continue
            found.append(FreeText(template.title, result.question.text, result.n,
                                  tuple(result.texts[:limit])))
    return tuple(found)


# --- method ---------------------------------------------------------------------------------

def _method(facts: ReportFacts, zone: ZoneInfo, language: str, now: datetime,
            texts_per_question: int, quotes_per_theme: int, suppressed: list[Suppressed]
            ) -> Method:
    """The data behind the report: every survey template with its response rate over the
    copies that have opened (or were answered anyway, e.g. on paper), and what was hidden."""
    sources = []
    for template in facts.templates:
        copies = [s for s in facts.surveys if s.template_key == template.key]
        if not copies:
            continue
        opened = [s for s in copies if s.opens_at <= now or s.answered]
        invited = sum(s.invited for s in opened)
        answered = sum(s.answered for s in opened)
        sources.append(SourceRow(
            template.title, template.kind, template.mode, len(copies), len(opened), invited,
            answered, share(answered, invited, language),
            min(s.opens_at for s in copies).astimezone(zone).date(),
            max(s.closes_at for s in copies).astimezone(zone).date()))
    recorded = len(facts.attendance.recorded_meetings) if facts.attendance else 0
    return Method(tuple(sources), facts.observations, facts.interviews, len(facts.quotes),
                  recorded, facts.min_group_size, texts_per_question, quotes_per_theme,
                  tuple(_unique(suppressed)))


def _unique(items: Iterable[Suppressed]) -> list[Suppressed]:
    seen: set[Suppressed] = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result
