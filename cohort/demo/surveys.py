"""Demo answers, notes and quotes for the demo cohort, so the evaluator pages are not empty.

Everything written here is marked as demo data (responses: source 'demo'; notes and quotes:
is_demo). Only surveys that have opened by `now` are answered, each answer dated in its
survey's first days and never after `now` (a survey open now has only the answers of its days
so far). No free-text answer is given twice in one survey. The final survey's agree-shares are
drawn to resemble the first cohort's headline results (96 %, 91 %, 90 %, 68 %, 82 %); the
follow-up three months later agrees a little less (`FOLLOW_UP_AGREEMENT`).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlmodel import Session

from ..core.programme import (
    Likert5Question,
    MultipleChoiceQuestion,
    Question,
    RatingQuestion,
    SelfAssessmentQuestion,
    SingleChoiceQuestion,
    TextQuestion,
)
from ..core.surveys import SurveySpec, normalise_answers
from ..models import (
    AnonymousResponse,
    Cohort,
    IdentifiedResponse,
    Invitation,
    Meeting,
    Participant,
    Survey,
)
from ..services.evaluation_notes import add_quote, quote_attributions, save_note
from ..services.surveys import named_answers, programme_snapshot, survey_spec_of

DEMO = "demo"
# Share agreeing per final-survey question (the first cohort's reported results).
HEADLINE_AGREEMENT = {"new-tools": 0.96, "network": 0.91, "passed-on": 0.90,
                      "staff-engagement": 0.68, "judge-technology": 0.82, "language": 0.85}
# Three months on (the follow-up survey), somewhat fewer agree: some tools were dropped when
# daily work took over, and the network thins out once the meetings stop.
FOLLOW_UP_AGREEMENT = {"new-tools": 0.84, "network": 0.64, "passed-on": 0.8,
                       "staff-engagement": 0.6, "staff-tried": 0.72}
DEMO_TEXTS = [
    "Jeg har fået et sprog for, hvad der sker, når vi indfører ny teknologi.",
    "Buddyordningen var det bedste – vi ringer stadig til hinanden.",
    "Mere tid til casearbejdet på workshops, tak.",
    "Teknologiradaren bruger jeg nu på personalemøder.",
    "Webinarerne var gode, men workshoppene gav mest.",
    "Jeg inddrager medarbejderne tidligere i afprøvningerne end før.",
    "Det var svært at finde tid mellem møderne.",
    "Gode oplæg og konkrete værktøjer, som kan bruges med det samme.",
    "Casen fra plejecentret i Odense satte tingene i perspektiv.",
    "Jeg ville gerne have haft materialet et par dage før workshoppen.",
    "Det hjalp at høre, at de andre kommuner kæmper med det samme.",
    "Min buddy har givet mig mod på at prøve skærmbesøg i hjemmeplejen.",
    "Lidt for meget teori på første webinar, men resten ramte plet.",
    "Vi har lavet en fast plads til teknologi på teammøderne.",
    "Refleksionsspørgsmålene mellem møderne tvang mig til at tage stilling.",
    "Jeg savnede et eksempel fra sygeplejen.",
    "Godt at møde ledere fra andre fagområder.",
    "Oplægget om psykologisk tryghed var øjenåbnende.",
    "Vi er gået fra at købe systemer til at afprøve dem sammen med borgerne.",
    "Kortere webinarer ville gøre det lettere at deltage.",
    "Nu spørger jeg medarbejderne, før jeg beslutter.",
    "Opgaverne var realistiske at nå ved siden af driften.",
    "Jeg har taget teknologiradaren med til direktionen.",
    "Det bedste var tiden til at tale med de andre ledere.",
]
DEMO_QUOTES = [
    ("Vi taler om teknologien på en anden måde nu – det handler om borgeren og os, ikke om "
     "systemet.", "Vejle Kommune", "Buddyordning 2", ["Sprog for digital forandring",
                                                      "Borgerperspektiv"]),
    ("Mine medarbejdere var skeptiske, men da de selv fik lov at prøve, vendte det.",
     "Odense Kommune", "Buddyordning 5", ["Medarbejdernes engagement og motivation",
                                         "Psykologisk tryghed og eksperimenter"]),
    ("Tiden er det store problem. Vi skal have ro til at øve os.", "Kolding Kommune",
     "Buddyordning 1", ["Tid og ressourcer"]),
    ("Netværket med de andre ledere er noget af det, jeg tager med mig.", "Aabenraa Kommune",
     "Buddyordning 7", ["Netværk og erfaringsudveksling"]),
]


# How many of the 32 answer each kind of survey (the meeting evaluations vary a little).
WANTED = {"self-assessment-pre": 29, "self-assessment-post": 26, "final": 29, "follow-up": 22}
MEETING_EVALUATION = (24, 28)


def add_demo_evaluation(session: Session, cohort_id: int, now: datetime,
                        seed: int = 2025) -> int:
    """Answer the demo cohort's surveys that have opened by `now` with demo data; returns the
    responses added."""
    rng = random.Random(seed + cohort_id)
    surveys = session.scalars(select(Survey).where(
        Survey.cohort_id == cohort_id, Survey.opens_at <= now)
        .order_by(Survey.opens_at, Survey.key)).all()
    people = list(session.scalars(select(Participant.id).where(
        Participant.cohort_id == cohort_id).order_by(Participant.id)))
    pre_respondents: list[int] = []
    added = 0
    for survey in surveys:
        spec = survey_spec_of(session, survey)
        wanted = WANTED.get(survey.key) or rng.randint(*MEETING_EVALUATION)
        if survey.closes_at > now:  # open now: the answers of its days so far
            share = (now - survey.opens_at) / (survey.closes_at - survey.opens_at)
            wanted = round(wanted * min(1.0, share))
        pool = (pre_respondents if survey.key == "self-assessment-post" and pre_respondents
                else people)
        respondents = rng.sample(pool, min(wanted, len(pool)))
        if not respondents:
            continue
        if survey.key == "self-assessment-pre":
            pre_respondents = respondents
        texts = DEMO_TEXTS[:]  # each text at most once per survey
        rng.shuffle(texts)
        answers = _answer_set(spec, len(respondents), rng, texts,
                              lift=1 if "post" in survey.key else 0,
                              agreement=(FOLLOW_UP_AGREEMENT if spec.kind == "follow_up"
                                         else HEADLINE_AGREEMENT))
        _store(session, survey, spec, respondents, answers, rng, now)
        added += len(respondents)
    _add_notes_and_quotes(session, cohort_id, now)
    return added


def _answer_set(spec: SurveySpec, count: int, rng: random.Random, texts: list[str],
                lift: int, agreement: dict[str, float]) -> list[dict]:
    """`count` plausible answer sets; likert items agree in the headline shares; free text
    taken from `texts` (and removed from it, so no text is given twice)."""
    columns = {q.id: _column(q, count, rng, texts, lift, agreement) for q in spec.questions}
    raw = [{qid: values[i] for qid, values in columns.items() if values[i] is not None}
           for i in range(count)]
    return [normalise_answers(spec, r) for r in raw]


def _column(question: Question, count: int, rng: random.Random, texts: list[str],
            lift: int, agreement: dict[str, float]) -> list:
    if isinstance(question, Likert5Question):
        agreeing = round(agreement.get(question.id, 0.8) * count)
        values = ([rng.choice([4, 4, 5]) for _ in range(agreeing)]
                  + [rng.choice([2, 3, 3]) for _ in range(count - agreeing)])
        rng.shuffle(values)
        return values
    if isinstance(question, RatingQuestion):
        return [rng.choice([6, 7, 8, 8, 9, 9, 10]) for _ in range(count)]
    if isinstance(question, SingleChoiceQuestion):
        return [rng.randint(1, len(question.options)) for _ in range(count)]
    if isinstance(question, MultipleChoiceQuestion):
        limit = question.max_choices or len(question.options)
        return [rng.sample(range(1, len(question.options) + 1), rng.randint(1, limit))
                for _ in range(count)]
    if isinstance(question, SelfAssessmentQuestion):
        top = len(question.scale or range(5))
        return [{a.id: min(top, rng.choice([2, 2, 3, 3, 3, 4]) + lift * rng.choice([0, 1, 1]))
                 for a in question.areas} for _ in range(count)]
    if isinstance(question, TextQuestion):
        return [texts.pop() if texts and rng.random() < 0.35 else None for _ in range(count)]
    return [None] * count


def _store(session: Session, survey: Survey, spec: SurveySpec, respondents: list[int],
           answers: list[dict], rng: random.Random, now: datetime) -> None:
    """Each answer between its survey's opening and the earlier of its first days' end, its
    closing and `now`."""
    zone = ZoneInfo(session.get(Cohort, survey.cohort_id).timezone)
    last = min(survey.opens_at + timedelta(days=4, hours=8), survey.closes_at, now)
    span = max(0, int((last - survey.opens_at).total_seconds()))
    days = [(survey.opens_at + timedelta(seconds=rng.randint(0, span))).astimezone(zone)
            for _ in respondents]
    session.execute(update(Invitation).where(
        Invitation.survey_id == survey.id, Invitation.participant_id.in_(respondents)
    ).values(completed=True))
    if spec.anonymous:
        session.execute(insert(AnonymousResponse), [
            dict(id=uuid.uuid4().hex, survey_id=survey.id, submitted_on=day.date(), answers=a,
                 breakdown_value="", source=DEMO) for a, day in zip(answers, days, strict=True)])
    else:
        session.execute(insert(IdentifiedResponse), named_answers(session, [
            dict(survey_id=survey.id, participant_id=pid, submitted_at=day, answers=a,
                 source=DEMO) for pid, a, day in zip(respondents, answers, days, strict=True)]))


def _add_notes_and_quotes(session: Session, cohort_id: int, now: datetime) -> None:
    """An observation of workshop 1 once it is over; the final interview and its quotes once
    the last meeting is over (so only in the finished cohort)."""
    programme = programme_snapshot(session.get(Cohort, cohort_id))
    guides = {g.key: g for g in programme.evaluation.guides}
    ended = set(session.scalars(select(Meeting.key).where(
        Meeting.cohort_id == cohort_id, Meeting.ends_at <= now)))
    everything_over = not session.scalar(select(Meeting.id).where(
        Meeting.cohort_id == cohort_id, Meeting.status != "cancelled", Meeting.ends_at > now))
    if "meeting-observation" in guides and "workshop-1" in ended:
        headings = [s.heading for s in guides["meeting-observation"].sections]
        save_note(session, cohort_id, "meeting-observation", {
            headings[0]: "Formålet blev præsenteret tydeligt; program på væggen.",
            headings[1]: "Høj energi i casearbejdet; roligere under oplægget efter frokost.",
            headings[2]: "Flere koblede teknologiradaren direkte til deres egen case.",
        }, meeting_key="workshop-1", title="Workshop 1 (demo)", author=DEMO, now=now,
            is_demo=True)
    if "final-interview" in guides and everything_over:
        headings = [s.heading for s in guides["final-interview"].sections]
        note = save_note(session, cohort_id, "final-interview", {
            headings[0]: "Beskriver et nyt sprog for forandringer og bedre dialog opad.",
        }, title="Interview (demo)", organisation="Vejle Kommune",
            group_label="Buddyordning 2", author=DEMO, now=now, is_demo=True)
        # As an evaluator would: each quote attributed only as narrowly as enough of the
        # cohort's participants fit (in the demo an organisation has 4 of the 32 and a buddy
        # pair 2, fewer than the minimum group size, so the quotes read "a participant").
        rule = quote_attributions(session, cohort_id)
        for text, organisation, group, themes in DEMO_QUOTES:
            organisation, group = rule.publishable(organisation, group)
            add_quote(session, cohort_id, text, organisation=organisation, group_label=group,
                      themes=themes, note_id=note.id, now=now, is_demo=True)
