"""Demo answers, notes and quotes for the demo cohort, so the evaluator pages are not empty.

Everything written here is marked as demo data (responses: source 'demo'; notes and quotes:
is_demo). Each answer is dated as if its survey had been answered in its first days. The final
survey's agree-shares are drawn to resemble the first cohort's headline results (96 %, 91 %,
90 %, 68 %, 82 %).
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
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
    Participant,
    Survey,
)
from ..services.evaluation_notes import add_quote, save_note
from ..services.surveys import programme_snapshot, survey_spec_of

DEMO = "demo"
# Share agreeing per final-survey question (the first cohort's reported results).
HEADLINE_AGREEMENT = {"new-tools": 0.96, "network": 0.91, "passed-on": 0.90,
                      "staff-engagement": 0.68, "judge-technology": 0.82, "language": 0.85}
DEMO_TEXTS = [
    "Jeg har fået et sprog for, hvad der sker, når vi indfører ny teknologi.",
    "Buddyordningen var det bedste – vi ringer stadig til hinanden.",
    "Mere tid til casearbejdet på workshops, tak.",
    "Teknologiradaren bruger jeg nu på personalemøder.",
    "Webinarerne var gode, men workshoppene gav mest.",
    "Jeg inddrager medarbejderne tidligere i afprøvningerne end før.",
    "Det var svært at finde tid mellem møderne.",
    "Gode oplæg og konkrete værktøjer, som kan bruges med det samme.",
]
DEMO_QUOTES = [
    ("Vi taler om teknologien på en anden måde nu – det handler om borgeren og os, ikke om "
     "systemet.", "Vejle Kommune", "buddygruppe 2", ["Sprog for digital forandring",
                                                      "Borgerperspektiv"]),
    ("Mine medarbejdere var skeptiske, men da de selv fik lov at prøve, vendte det.",
     "Odense Kommune", "buddygruppe 5", ["Medarbejdernes engagement og motivation",
                                         "Psykologisk tryghed og eksperimenter"]),
    ("Tiden er det store problem. Vi skal have ro til at øve os.", "Kolding Kommune",
     "buddygruppe 1", ["Tid og ressourcer"]),
    ("Netværket med de andre ledere er noget af det, jeg tager med mig.", "Aabenraa Kommune",
     "buddygruppe 7", ["Netværk og erfaringsudveksling"]),
]


def add_demo_evaluation(session: Session, cohort_id: int, seed: int = 2025) -> int:
    """Answer the demo cohort's first surveys with demo data; returns the responses added."""
    rng = random.Random(seed)
    surveys = {s.key: s for s in session.scalars(select(Survey).where(
        Survey.cohort_id == cohort_id))}
    people = list(session.scalars(select(Participant.id).where(
        Participant.cohort_id == cohort_id).order_by(Participant.id)))
    plan = [("self-assessment-pre", 29), ("meeting-evaluation@kickoff", 27),
            ("meeting-evaluation@workshop-1", 26), ("meeting-evaluation@webinar-1", 24),
            ("self-assessment-post", 26), ("final", 29)]
    pre_respondents: list[int] = []
    added = 0
    for key, wanted in plan:
        survey = surveys.get(key)
        if survey is None:
            continue
        spec = survey_spec_of(session, survey)
        pool = pre_respondents if key == "self-assessment-post" and pre_respondents else people
        respondents = rng.sample(pool, min(wanted, len(pool)))
        if key == "self-assessment-pre":
            pre_respondents = respondents
        answers = _answer_set(spec, len(respondents), rng, lift=1 if "post" in key else 0)
        _store(session, survey, spec, respondents, answers, rng)
        added += len(respondents)
    _add_notes_and_quotes(session, cohort_id)
    return added


def _answer_set(spec: SurveySpec, count: int, rng: random.Random, lift: int) -> list[dict]:
    """`count` plausible answer sets; likert items agree in the headline shares."""
    columns = {q.id: _column(q, count, rng, lift) for q in spec.questions}
    raw = [{qid: values[i] for qid, values in columns.items() if values[i] is not None}
           for i in range(count)]
    return [normalise_answers(spec, r) for r in raw]


def _column(question: Question, count: int, rng: random.Random, lift: int) -> list:
    if isinstance(question, Likert5Question):
        agreeing = round(HEADLINE_AGREEMENT.get(question.id, 0.8) * count)
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
        return [rng.choice(DEMO_TEXTS) if rng.random() < 0.4 else None for _ in range(count)]
    return [None] * count


def _store(session: Session, survey: Survey, spec: SurveySpec, respondents: list[int],
           answers: list[dict], rng: random.Random) -> None:
    zone = ZoneInfo(session.get(Cohort, survey.cohort_id).timezone)
    first_day = survey.opens_at.astimezone(zone)
    days = [first_day + timedelta(days=rng.randint(0, 4), hours=rng.randint(0, 8))
            for _ in respondents]
    session.execute(update(Invitation).where(
        Invitation.survey_id == survey.id, Invitation.participant_id.in_(respondents)
    ).values(completed=True))
    if spec.anonymous:
        session.execute(insert(AnonymousResponse), [
            dict(id=uuid.uuid4().hex, survey_id=survey.id, submitted_on=day.date(), answers=a,
                 breakdown_value="", source=DEMO) for a, day in zip(answers, days, strict=True)])
    else:
        session.execute(insert(IdentifiedResponse), [
            dict(survey_id=survey.id, participant_id=pid, submitted_at=day, answers=a,
                 source=DEMO) for pid, a, day in zip(respondents, answers, days, strict=True)])


def _add_notes_and_quotes(session: Session, cohort_id: int) -> None:
    programme = programme_snapshot(session.get(Cohort, cohort_id))
    guides = {g.key: g for g in programme.evaluation.guides}
    if "meeting-observation" in guides:
        headings = [s.heading for s in guides["meeting-observation"].sections]
        save_note(session, cohort_id, "meeting-observation", {
            headings[0]: "Formålet blev præsenteret tydeligt; program på væggen.",
            headings[1]: "Høj energi i casearbejdet; roligere under oplægget efter frokost.",
            headings[2]: "Flere koblede teknologiradaren direkte til deres egen case.",
        }, meeting_key="workshop-1", title="Workshop 1 (demo)", author=DEMO, is_demo=True)
    if "final-interview" in guides:
        headings = [s.heading for s in guides["final-interview"].sections]
        note = save_note(session, cohort_id, "final-interview", {
            headings[0]: "Beskriver et nyt sprog for forandringer og bedre dialog opad.",
        }, title="Interview (demo)", organisation="Vejle Kommune",
            group_label="buddygruppe 2", author=DEMO, is_demo=True)
        for text, organisation, group, themes in DEMO_QUOTES:
            add_quote(session, cohort_id, text, organisation=organisation, group_label=group,
                      themes=themes, note_id=note.id, is_demo=True)
