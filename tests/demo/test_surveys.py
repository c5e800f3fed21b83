"""The demo cohort comes with answered surveys, notes and quotes, all marked as demo data."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from cohort import db, services
from cohort.demo import load_demo
from cohort.models import AnonymousResponse, EvaluatorNote, IdentifiedResponse, Quote
from tests.fixtures.paths import PROGRAMMES


def test_demo_cohort_has_demo_answers_for_the_evaluator(engine):
    cohort_id = load_demo(engine, PROGRAMMES, today=date(2025, 3, 20)).finished
    with db.transaction(engine) as session:
        sources = set(session.scalars(select(AnonymousResponse.source))) | set(
            session.scalars(select(IdentifiedResponse.source)))
        assert sources == {"demo"}
        assert all(session.scalars(select(Quote.is_demo)))
        assert all(session.scalars(select(EvaluatorNote.is_demo)))
        final = services.get_survey(session, cohort_id, "final")
        summary = services.survey_results(session, final.id)
        rates = {r.survey_key: r for r in services.response_rates(session, cohort_id)}
        (change,) = services.self_assessment_change(session, cohort_id, "self-assessment-post")
    assert not summary.suppressed and len(summary.agree_statements()) == 6
    assert summary.questions[0].agree.percent >= 90
    assert rates["final"].answered == 29 and rates["self-assessment-pre"].not_answered
    # 26 of the 29 who answered before answered after: the 3 unpaired answers are too few
    # to show the paired change (the publication rule, rule 4); the means show.
    assert change.paired and all(a.paired_n == 26 and a.paired_change is None
                                 and a.post_mean > a.pre_mean for a in change.areas)


def test_demo_quotes_show_in_the_report(engine):
    """Each demo quote is attributed no narrower than the minimum group size allows, so the
    loader does not trip over the rule and the report shows all four (as "a participant":
    an organisation has 4 of the 32 participants, a buddy pair 2)."""
    cohort_id = load_demo(engine, PROGRAMMES, today=date(2025, 3, 20)).finished
    with db.transaction(engine) as session:
        report = services.cohort_report(session, cohort_id,
                                        now=datetime(2025, 3, 20, 12, tzinfo=UTC))
        stored = services.list_quotes(session, cohort_id)
    shown = [q for theme in report.results.themes for q in theme.quotes]
    assert len(stored) == 4 and {q.text for q in shown} == {q.text for q in stored}
    assert {q.attribution for q in shown} == {""}
