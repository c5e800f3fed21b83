"""A cohort with known evaluation data, for the report's tests (core, services, PDF, CLI).

40 leaders of "Kompetencer til Digitalt Lederskab" (start 8 April 2025). The answers are
chosen so that every rule of the report shows:

- final survey (anonymous, 40 answers): new-tools 25 of 40 agree (62.5 -> 63 %, half up),
  network answered by 8 with 1 agreeing (12.5 -> 13 %), passed-on answered by only 4
  (suppressed), staff-engagement 27 of 40 (67.5 -> 68 %), judge-technology 33 of 40
  (82.5 -> 83 %), language 34 of 40 (85 %); recommend 8 and 9 for 20 each (mean 8,5);
  free text: 6 answers to leadership-change (shown), 3 to change-next-time (suppressed);
- meeting evaluations: 10 answers after the kick-off (9 of 10 find it relevant), 3 after
  workshop 1 (suppressed) and 8 after webinar 1 (6 agree; hidden too, or workshop 1 could be
  worked out from the "all meetings" figure: 18 of 21 = 86 %);
- self-assessment (identified): 20 before, all areas 2; 20 after (18 of them also before),
  all areas 3 except ethics 4 -> paired change +1,0 and +2,0 over 18 pairs;
- organisations: Vejle 12, Kolding 10, Odense 8 and three with 3-4 each (counted together
  as 3 other organisations, 10 people); roles 20 / 17 / 3, where the 3 are too few and the 17
  are folded in with them so "other" is not small (2 other roles, 20 people);
- attendance: kick-off 30 of 40 present (75 %), workshop 1 recorded for only 4 (suppressed),
  so no distribution (4 people with every meeting recorded);
- quotes: three in "Tid og ressourcer", one in "Borgerperspektiv".
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from cohort import db, services
from cohort.core.attendance import ABSENT, PRESENT, Mark
from cohort.core.participants import ParticipantRow
from cohort.core.programme import (
    Likert5Question,
    MultipleChoiceQuestion,
    RatingQuestion,
    SelfAssessmentQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    load_library,
)
from cohort.models import (
    AnonymousResponse,
    IdentifiedResponse,
    Invitation,
    Participant,
    Survey,
)
from cohort.services.surveys import programme_snapshot

PROGRAMMES = Path(__file__).resolve().parent.parent / "programmes"
START = date(2025, 4, 8)
CREATED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
AFTER_MEETINGS = datetime(2025, 4, 18, 12, 0, tzinfo=UTC)  # kick-off and workshop 1 held
REPORT_NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)  # every survey has closed
ORGANISATIONS = (["Vejle Kommune"] * 12 + ["Kolding Kommune"] * 10 + ["Odense Kommune"] * 8
                 + ["Fredericia Kommune"] * 4 + ["Middelfart Kommune"] * 3
                 + ["Svendborg Kommune"] * 3)
ROLES = ["Leder, hjemmeplejen"] * 20 + ["Leder, sygeplejen"] * 17 + ["Centerleder"] * 3
# Names with æ, ø and å; they never appear in the report (quotes name no one).
PEOPLE = [ParticipantRow(f"Søren Ærø Ågård {i:02d}", f"leder{i:02d}@example.org", org,
                         role, "da")
          for i, (org, role) in enumerate(zip(ORGANISATIONS, ROLES, strict=True))]

AREAS = ("judge-technology", "strategy", "change", "staff-competences", "citizen",
         "implementation", "ethics", "collaboration", "awareness")
LEADERSHIP_TEXTS = [f"Jeg inddrager nu medarbejderne tidligere i afprøvningen ({i})."
                    for i in range(6)]
CHANGE_TEXTS = ["Mere tid til casearbejde.", "Færre webinarer.", "Længere workshops."]
QUOTES = [
    ("Tiden er det store problem, vi skal have ro til at øve os.", "Vejle Kommune",
     "buddygruppe 2", ["Tid og ressourcer"]),
    ("Vi mangler timer i kalenderen til afprøvning.", "Kolding Kommune", "buddygruppe 1",
     ["Tid og ressourcer"]),
    ("Uden tid bliver det ved snakken.", "Odense Kommune", "projektteam 3",
     ["Tid og ressourcer"]),
    ("Vi taler om borgeren før teknologien nu.", "Vejle Kommune", "buddygruppe 2",
     ["Borgerperspektiv"]),
]

# The statements the report must print, exactly (the programme's report phrases).
STATEMENTS = {
    "new-tools": "25 af 40 (63 %) anvendte nye værktøjer og metoder i deres daglige arbejde",
    "network": "1 af 8 (13 %) opbyggede værdifulde netværk",
    "staff-engagement": "27 af 40 (68 %) oplevede, at forløbet har påvirket medarbejdernes "
                        "engagement i implementering og arbejde med digitale teknologier",
    "judge-technology": "33 af 40 (83 %) fik øgede kompetencer til at vurdere en teknologis "
                        "potentialer og begrænsninger ift. organisationens behov",
    "language": "34 af 40 (85 %) fik et mere nuanceret sprog for implementering af digitale "
                "teknologier",
}


def final_answers() -> list[dict]:
    """The 40 anonymous answers to the final survey."""
    answers = []
    for i in range(40):
        row = {
            "new-tools": 4 if i < 20 else 5 if i < 25 else 2 if i < 35 else 3,
            "staff-engagement": 4 if i < 27 else 3,
            "judge-technology": 5 if i < 33 else 1,
            "language": 4 if i < 34 else 2,
            "most-useful": [1, 3],
            "recommend": 8 if i < 20 else 9,
        }
        if i < 8:
            row["network"] = 5 if i == 0 else 2
        if i < 4:
            row["passed-on"] = 4
        if i < 6:
            row["leadership-change"] = LEADERSHIP_TEXTS[i]
        if i < 3:
            row["change-next-time"] = CHANGE_TEXTS[i]
        answers.append(row)
    return answers


def meeting_answers(count: int, agreeing: int) -> list[dict]:
    return [{"relevant": 4 if i < agreeing else 2, "form": 4, "ideas": 5, "overall": 7}
            for i in range(count)]


def self_assessment(value: int, ethics: int | None = None) -> dict:
    return {"competences": {a: (ethics if a == "ethics" and ethics else value) for a in AREAS}}


def create_known_cohort(engine, programme_id: str = "digital-lederskab",
                        title: str = "Hold 1") -> int:
    library = load_library(PROGRAMMES)
    new = services.NewCohort(library.programmes[programme_id], library.sources[programme_id],
                             START, title=title)
    with db.transaction(engine) as session:
        cohort_id = services.create_cohort(session, new, PEOPLE, now=CREATED).id
    return cohort_id


def fill_known_cohort(engine, cohort_id: int) -> None:
    """Answers, attendance and quotes as described in the module docstring."""
    with db.transaction(engine) as session:
        people = list(session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id).order_by(Participant.email)))
        surveys = {s.key: s for s in session.scalars(select(Survey).where(
            Survey.cohort_id == cohort_id))}
        _anonymous(session, surveys["final"], people, final_answers())
        _anonymous(session, surveys["meeting-evaluation@kickoff"], people[:10],
                   meeting_answers(10, 9))
        _anonymous(session, surveys["meeting-evaluation@workshop-1"], people[:3],
                   meeting_answers(3, 3))
        _anonymous(session, surveys["meeting-evaluation@webinar-1"], people[:8],
                   meeting_answers(8, 6))
        _identified(session, surveys["self-assessment-pre"], people[:20],
                    [self_assessment(2) for _ in range(20)])
        _identified(session, surveys["self-assessment-post"], people[2:22],
                    [self_assessment(3, ethics=4) for _ in range(20)])
        services.set_marks(session, cohort_id, "kickoff",
                           {pid: Mark(PRESENT if i < 30 else ABSENT)
                            for i, pid in enumerate(people)}, "test", AFTER_MEETINGS)
        services.set_marks(session, cohort_id, "workshop-1",
                           {pid: Mark(PRESENT if i < 3 else ABSENT)
                            for i, pid in enumerate(people[:4])}, "test", AFTER_MEETINGS)
        for text, organisation, group, themes in QUOTES:
            services.add_quote(session, cohort_id, text, organisation=organisation,
                               group_label=group, themes=themes, now=AFTER_MEETINGS)


def fill_generated(engine, cohort_id: int, seed: int = 1) -> None:
    """Random but valid answers to every survey of any programme (about 80 % answer)."""
    rng = random.Random(seed)
    with db.transaction(engine) as session:
        programme = programme_snapshot(services.get_cohort(session, cohort_id))
        people = list(session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)))
        for survey in session.scalars(select(Survey).where(Survey.cohort_id == cohort_id)):
            template = programme.survey(survey.template_key)
            answering = rng.sample(people, round(len(people) * 0.8))
            answers = [{q.id: v for q in template.questions
                        if (v := _random_answer(q, rng)) is not None} for _ in answering]
            if survey.mode == "anonymous":
                _anonymous(session, survey, answering, answers)
            else:
                _identified(session, survey, answering, answers)


def _random_answer(question, rng: random.Random):
    if isinstance(question, Likert5Question):
        return rng.randint(1, 5)
    if isinstance(question, RatingQuestion):
        return rng.randint(0, 10)
    if isinstance(question, SingleChoiceQuestion):
        return rng.randint(1, len(question.options))
    if isinstance(question, MultipleChoiceQuestion):
        limit = question.max_choices or len(question.options)
        return sorted(rng.sample(range(1, len(question.options) + 1), rng.randint(1, limit)))
    if isinstance(question, SelfAssessmentQuestion):
        return {a.id: rng.randint(1, len(question.scale or range(5))) for a in question.areas}
    if isinstance(question, TextQuestion):
        return "Et svar med æ, ø og å." if rng.random() < 0.5 else None
    return None


def _complete(session, survey: Survey, people: list[int]) -> None:
    session.execute(update(Invitation).where(
        Invitation.survey_id == survey.id, Invitation.participant_id.in_(people)
    ).values(completed=True))


def _anonymous(session, survey: Survey, people: list[int], answers: list[dict]) -> None:
    _complete(session, survey, people)
    session.execute(insert(AnonymousResponse), [
        dict(id=uuid.uuid4().hex, survey_id=survey.id, submitted_on=survey.opens_at.date(),
             answers=a, breakdown_value="", source="paper") for a in answers])


def _identified(session, survey: Survey, people: list[int], answers: list[dict]) -> None:
    _complete(session, survey, people)
    session.execute(insert(IdentifiedResponse), [
        dict(survey_id=survey.id, participant_id=pid, submitted_at=survey.opens_at,
             answers=a, source="paper") for pid, a in zip(people, answers, strict=True)])


@pytest.fixture
def known_cohort(engine) -> int:
    """The known cohort on the test's database (SQLite and PostgreSQL)."""
    cohort_id = create_known_cohort(engine)
    fill_known_cohort(engine, cohort_id)
    return cohort_id
