"""The evaluation report for cohorts of 30, 300 and 3,000 participants vs. WeasyPrint alone.

For each size a cohort of the reference programme gets full evaluation data by bulk inserts:
every survey (six meeting evaluations, the self-assessment before and after, the final
survey) answered by about 85 % of the participants, attendance at every meeting, notes and
quotes. Then, in the same process and run:

- total: `render_report_pdf` as the CLI and the background job call it (load the data,
  build the report, draw the charts, fill the template, lay out and write the PDF);
- floor: WeasyPrint rendering the same final HTML alone (with the same fetcher and options);
- data and template: loading, building, charts and HTML, timed inside the same total run.

Each figure is the best of `--repeat` runs after one warm-up render. The data-and-template
share of the total should stay under half.

    .venv/bin/python -m benchmarks.report [--sizes 30,300,3000] [--repeat 3] [--url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlmodel import SQLModel

from cohort import db, services
from cohort.core.programme import (
    Likert5Question,
    MultipleChoiceQuestion,
    RatingQuestion,
    SelfAssessmentQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    load_library,
)
from cohort.demo import demo_participants
from cohort.models import (
    AnonymousResponse,
    Attendance,
    IdentifiedResponse,
    Invitation,
    Meeting,
    Participant,
    Survey,
)
from cohort.services.surveys import named_answers

PROGRAMMES = Path(__file__).resolve().parent.parent / "programmes"
PROGRAMME = "digital-lederskab"
START = date(2026, 4, 7)
CREATED = datetime(2026, 3, 1, tzinfo=UTC)
REPORT_AT = datetime(2027, 1, 15, 12, tzinfo=UTC)
ANSWERING = 0.85
TEXTS = ["Jeg har fået et sprog for digitale forandringer.", "Mere tid til casearbejdet.",
         "Buddyordningen var det bedste.", "Teknologiradaren bruger jeg på personalemøder."]

TARGET_SHARE = 0.5  # data and template under half of the total; WeasyPrint is the rest
RECORDED_SHARE = {3000: 0.27}  # measured on 2026-12-06: a change must not push it back up


def answer(question, rng: random.Random):
    if isinstance(question, Likert5Question):
        return rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 3, 8, 6])[0]
    if isinstance(question, RatingQuestion):
        return rng.randint(5, 10)
    if isinstance(question, SingleChoiceQuestion):
        return rng.randint(1, len(question.options))
    if isinstance(question, MultipleChoiceQuestion):
        limit = question.max_choices or len(question.options)
        return sorted(rng.sample(range(1, len(question.options) + 1), rng.randint(1, limit)))
    if isinstance(question, SelfAssessmentQuestion):
        return {a.id: rng.randint(1, 5) for a in question.areas}
    if isinstance(question, TextQuestion):
        return rng.choice(TEXTS) if rng.random() < 0.3 else None
    return None


def answers_for(template, rng: random.Random) -> dict:
    found = {q.id: answer(q, rng) for q in template.questions}
    return {key: value for key, value in found.items() if value is not None}


def make_cohort(engine, size: int, seed: int = 7) -> int:
    """A cohort of `size` with every survey answered and attendance recorded (bulk inserts)."""
    rng = random.Random(seed)
    library = load_library(PROGRAMMES)
    programme = library.programmes[PROGRAMME]
    people = [p.__class__(p.name, f"{i}.{p.email}", p.organisation, p.role, p.language)
              for i, p in enumerate(demo_participants(size, seed=seed))]
    with db.transaction(engine) as session:
        cohort_id = services.create_cohort(session, services.NewCohort(
            programme, library.sources[PROGRAMME], START, title=f"Benchmark {size}"),
            people, now=CREATED).id
        ids = list(session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id)))
        for survey in session.scalars(select(Survey).where(Survey.cohort_id == cohort_id)):
            template = programme.survey(survey.template_key)
            answering = rng.sample(ids, round(len(ids) * ANSWERING))
            session.execute(update(Invitation).where(
                Invitation.survey_id == survey.id, Invitation.participant_id.in_(answering)
            ).values(completed=True))
            if survey.mode == "anonymous":
                session.execute(insert(AnonymousResponse), [
                    dict(id=uuid.uuid4().hex, survey_id=survey.id,
                         submitted_on=survey.opens_at.date(),
                         answers=answers_for(template, rng), breakdown_value="",
                         source="demo") for _ in answering])
            else:
                session.execute(insert(IdentifiedResponse), named_answers(session, [
                    dict(survey_id=survey.id, participant_id=pid, submitted_at=survey.opens_at,
                         answers=answers_for(template, rng), source="demo")
                    for pid in answering]))
        for meeting in session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id)):
            session.execute(insert(Attendance), [
                dict(cohort_id=cohort_id, meeting_id=meeting.id, participant_id=pid,
                     state="present" if rng.random() < 0.85 else "absent",
                     source="facilitator", recorded_at=meeting.ends_at + timedelta(hours=1))
                for pid in ids])
        themes = programme.evaluation.themes
        for number in range(24):
            # No attribution: the cohort has no stored groups to attribute them to.
            services.add_quote(session, cohort_id, f"{rng.choice(TEXTS)} (citat {number})",
                               themes=[themes[number % len(themes)]], now=CREATED)
    return cohort_id


def responses(engine, cohort_id: int) -> int:
    with db.transaction(engine) as session:
        surveys = select(Survey.id).where(Survey.cohort_id == cohort_id)
        anonymous = session.scalar(select(func.count()).select_from(AnonymousResponse)
                                   .where(AnonymousResponse.survey_id.in_(surveys)))
        identified = session.scalar(select(func.count()).select_from(IdentifiedResponse)
                                    .where(IdentifiedResponse.survey_id.in_(surveys)))
    return anonymous + identified


def time_report(engine, cohort_id: int) -> tuple[float, float, str, int]:
    """One full render, as `render_report_pdf` does it, with the data-and-template part
    timed on its own; returns (total, data and template, final HTML, pages)."""
    from cohort.rendering.report import html_to_pdf, load_report, report_charts, report_html

    started = time.perf_counter()
    report = load_report(engine, cohort_id, now=REPORT_AT)
    html = report_html(report, drawn=report_charts(report))
    prepared = time.perf_counter()
    rendered = html_to_pdf(html)
    finished = time.perf_counter()
    return finished - started, prepared - started, html, rendered.pages


def time_floor(html: str) -> float:
    from cohort.rendering.report import html_to_pdf

    started = time.perf_counter()
    html_to_pdf(html)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,300,3000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("COHORT_INSTANCE_PATH", folder)
        from cohort.app import create_app

        url = args.url or f"sqlite:///{Path(folder) / 'report.sqlite3'}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark",
                          "PROGRAMMES_DIR": str(PROGRAMMES)})
        engine = app.extensions["cohort.engine"]
        SQLModel.metadata.drop_all(engine)
        db.create_schema(engine)
        with app.app_context():
            cohorts = {}
            for size in sizes:
                started = time.perf_counter()
                cohorts[size] = make_cohort(engine, size)
                print(f"data for {size} participants: {responses(engine, cohorts[size])} "
                      f"responses, made in {time.perf_counter() - started:.1f} s")
            time_report(engine, cohorts[sizes[0]])  # warm-up: fonts, templates, imports
            print(f"{'participants':>12} {'pages':>5} {'data+template':>13} "
                  f"{'WeasyPrint alone':>16} {'total':>7} {'data+template share':>20}")
            for size in sizes:
                runs = [time_report(engine, cohorts[size]) for _ in range(args.repeat)]
                total = min(r[0] for r in runs)
                prepared = min(r[1] for r in runs)
                floor = min(time_floor(runs[0][2]) for _ in range(args.repeat))
                share = prepared / total
                recorded = RECORDED_SHARE.get(size)
                print(f"{size:>12} {runs[0][3]:>5} {prepared:>12.2f}s {floor:>15.2f}s "
                      f"{total:>6.2f}s {share:>19.0%}  "
                      + (f"(recorded {recorded:.0%}; " if recorded else "(")
                      + f"target under {TARGET_SHARE:.0%}: "
                      + ("meets)" if share < TARGET_SHARE else "MISSES)"))
        engine.dispose()


if __name__ == "__main__":
    main()
