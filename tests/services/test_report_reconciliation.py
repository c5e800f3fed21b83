"""Reconciliation: every figure the report prints can be recomputed from the exports.

A property test draws random answer sets for the reference programme's final survey
(anonymous) and its self-assessment before and after (identified), with the edge cases drawn
often and pinned as examples: everyone agrees, no one agrees, ties at .5 (1 of 8 = 12,5 %),
questions and surveys below the minimum group size, unpaired answers that hide the paired
change. It builds the report from the database (`services.cohort_report`), exports the
responses as CSV (`services.survey_exports.responses_table` -> `core.spreadsheets.to_csv`, the
file the evaluator downloads), parses the CSV back and recomputes each figure on its own:
shares with integer half-up rounding, Wilson and t intervals with scipy, the suppression
rules as written in the method chapter. The report data must equal the recomputation.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import tempfile
from pathlib import Path

import scipy.stats
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from cohort import db
from cohort.core.spreadsheets import to_csv
from cohort.models import AnonymousResponse, IdentifiedResponse, Invitation, Participant, Survey
from cohort.services.reporting import cohort_report
from cohort.services.survey_exports import responses_table
from cohort.services.surveys import named_answers
from tests.fixtures.properties import property_settings
from tests.fixtures.report import AREAS, PEOPLE, REPORT_NOW

K = 5
LIKERT = ("new-tools", "network", "passed-on", "staff-engagement", "judge-technology",
          "language")
AREA_SAMPLE = AREAS[:3]  # three areas keep each example quick; the rest stay unanswered


def _half_up_percent(part: int, whole: int) -> int:
    """100 * part / whole rounded half up, in integers (no floating point at the .5)."""
    return (200 * part + whole) // (2 * whole)


def _half_up_tenths(value: float) -> int:
    return math.floor(value * 10 + 0.5 + 1e-9)


def _signed(value: float) -> str:
    tenths = _half_up_tenths(abs(value)) * (1 if value >= 0 else -1)
    text = f"{abs(tenths) // 10},{abs(tenths) % 10}"
    return f"+{text}" if tenths > 0 else (f"\u2212{text}" if tenths < 0 else text)


def _wilson_percent(part: int, whole: int) -> tuple[int, int]:
    ci = scipy.stats.binomtest(part, whole).proportion_ci(0.95, method="wilson")
    return math.floor(ci.low * 100 + 0.5), math.floor(ci.high * 100 + 0.5)


likert_answer = st.sampled_from([None, 1, 2, 3, 4, 5])
# A column of answers: random, or one of the edge cases (all agree, none agree, 1 of 8).
likert_column = st.one_of(
    st.lists(likert_answer, min_size=40, max_size=40),
    st.integers(0, 40).map(lambda n: [5] * n + [None] * (40 - n)),
    st.integers(0, 40).map(lambda n: [2] * n + [None] * (40 - n)),
    st.just([4] + [1] * 7 + [None] * 32),
)
final_answers = st.tuples(st.integers(0, 40), st.lists(likert_column, min_size=6, max_size=6))
self_assessment = st.tuples(
    st.integers(0, 40), st.integers(0, 40), st.integers(0, 40),
    st.lists(st.lists(st.integers(1, 5), min_size=40, max_size=40), min_size=3, max_size=3),
    st.lists(st.lists(st.integers(1, 5), min_size=40, max_size=40), min_size=3, max_size=3))

ALL_AGREE = (40, [[5] * 40] * 6)
NONE_AGREE = (40, [[1] * 40] * 6)
TIE = (8, [[4] + [1] * 7 + [None] * 32] * 6)
FEW = (4, [[5] * 40] * 6)
PAIRED = (0, 20, 20, [[2] * 40] * 3, [[3, 4, 2, 5] * 10] * 3)
UNPAIRED_FEW = (3, 20, 20, [[1, 2] * 20] * 3, [[4, 5, 3] * 13 + [4]] * 3)


def _cohort(folder: Path, make_cohort):
    from cohort.app import create_app
    from tests.fixtures.paths import PROGRAMMES

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
                      "SECRET_KEY": "test", "PROGRAMMES_DIR": str(PROGRAMMES)})
    engine = app.extensions["cohort.engine"]
    db.create_schema(engine)
    return engine, make_cohort(engine, people=PEOPLE, title="Hold 1").id


def _store(engine, cohort_id: int, final, pre_post) -> None:
    count, columns = final
    start, pre_n, post_n, pre_values, post_values = pre_post
    with db.transaction(engine) as session:
        people = list(session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id).order_by(Participant.email)))
        surveys = {s.key: s for s in session.scalars(select(Survey).where(
            Survey.cohort_id == cohort_id))}
        final_survey = surveys["final"]
        answers = [{q: column[i] for q, column in zip(LIKERT, columns, strict=True)
                    if column[i] is not None} for i in range(count)]
        _mark(session, final_survey, people[:count])
        if answers:
            session.execute(insert(AnonymousResponse), [
                dict(id=f"{i:032x}", survey_id=final_survey.id,
                     submitted_on=final_survey.opens_at.date(), answers=a,
                     breakdown_value="", source="paper") for i, a in enumerate(answers)])
        # Before: people[0:pre_n]; after: people[start:start + post_n] (overlap = pairs).
        for key, who, values in (("self-assessment-pre", people[:pre_n], pre_values),
                                 ("self-assessment-post", people[start:start + post_n],
                                  post_values)):
            survey = surveys[key]
            _mark(session, survey, who)
            if who:
                session.execute(insert(IdentifiedResponse), named_answers(session, [
                    dict(survey_id=survey.id, participant_id=pid, submitted_at=survey.opens_at,
                         source="paper", answers={"competences": {
                             area: values[j][i] for j, area in enumerate(AREA_SAMPLE)}})
                    for i, pid in enumerate(who)]))


def _mark(session, survey: Survey, people: list[int]) -> None:
    session.execute(update(Invitation).where(Invitation.survey_id == survey.id)
                    .values(completed=False))
    session.execute(update(Invitation).where(Invitation.survey_id == survey.id,
                                             Invitation.participant_id.in_(people))
                    .values(completed=True))


def _clear(engine, cohort_id: int) -> None:
    with db.transaction(engine) as session:
        ids = list(session.scalars(select(Survey.id).where(Survey.cohort_id == cohort_id)))
        session.execute(delete(AnonymousResponse).where(AnonymousResponse.survey_id.in_(ids)))
        session.execute(delete(IdentifiedResponse).where(IdentifiedResponse.survey_id.in_(ids)))


def _exported(engine, cohort_id: int) -> list[dict[str, str]]:
    """The responses export as the evaluator downloads it (CSV), parsed back."""
    with db.transaction(engine) as session:
        table, _warnings = responses_table(session, cohort_id, min_group_size=K)
    text = to_csv(table).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def _check_final(report, rows: list[dict[str, str]]) -> None:
    final = [r for r in rows if r["survey"] == "final"]
    if len(final) < K:  # the whole survey is hidden (and left out of the export)
        assert report.headline is None
        return
    assert report.headline is not None and report.headline.responses == len(final)
    statements = {s.id: s for s in report.headline.statements}
    for question in LIKERT:
        values = [int(float(r[question])) for r in final if r[question] != ""]
        figure = statements[question]
        assert figure.n == len(values)
        if len(values) < K:
            assert figure.suppressed and figure.agree is None
            continue
        agree = sum(1 for v in values if v >= 4)
        assert not figure.suppressed
        assert (figure.agree.part, figure.agree.whole) == (agree, len(values))
        assert figure.agree.percent == _half_up_percent(agree, len(values))
        assert (figure.agree.low, figure.agree.high) == _wilson_percent(agree, len(values))
        assert figure.statement.startswith(
            f"{agree} af {len(values)} ({_half_up_percent(agree, len(values))} %) ")


def _check_pre_post(report, rows: list[dict[str, str]]) -> None:
    (figure,) = report.learning.pre_post
    assert figure.paired
    areas = {a.id: a for a in figure.areas}
    for area in AREA_SAMPLE:
        column = f"competences.{area}"
        before = {r["email"]: int(float(r[column])) for r in rows
                  if r["survey"] == "self-assessment-pre" and r[column] != ""}
        after = {r["email"]: int(float(r[column])) for r in rows
                 if r["survey"] == "self-assessment-post" and r[column] != ""}
        shown = areas[area]
        assert (shown.pre_n, shown.post_n) == (len(before), len(after))
        assert (shown.pre_mean is None) == (len(before) < K)
        assert (shown.post_mean is None) == (len(after) < K)
        pairs = sorted(before.keys() & after.keys())
        unpaired = len(before) + len(after) - 2 * len(pairs)
        visible = (len(before) >= K and len(after) >= K and len(pairs) >= K
                   and (unpaired == 0 or unpaired >= K))
        assert (shown.paired_change is not None) == visible, (area, len(pairs), unpaired)
        if not visible:
            assert shown.interval is None and shown.effect_size is None
            continue
        differences = [after[e] - before[e] for e in pairs]
        mean = statistics.fmean(differences)
        assert shown.paired_n == len(pairs)
        assert shown.paired_change == _signed(mean)
        assert shown.improved.part == sum(1 for d in differences if d > 0)
        sd = statistics.stdev(differences)
        if sd == 0:
            assert math.isclose(shown.low_value, mean) and math.isclose(shown.high_value, mean)
            assert shown.effect_size_value is None
            continue
        low, high = scipy.stats.t.interval(0.95, len(pairs) - 1, loc=mean,
                                           scale=sd / math.sqrt(len(pairs)))
        assert math.isclose(shown.low_value, low, abs_tol=1e-6)
        assert math.isclose(shown.high_value, high, abs_tol=1e-6)
        assert math.isclose(shown.effect_size_value, mean / sd, rel_tol=1e-9)
        assert shown.few_pairs == (len(pairs) < 10)


def test_the_report_reconciles_with_its_csv_export(make_cohort):
    with tempfile.TemporaryDirectory() as folder:
        engine, cohort_id = _cohort(Path(folder), make_cohort)
        try:
            _reconciles(engine, cohort_id)
        finally:
            engine.dispose()


def _reconciles(engine, cohort_id: int) -> None:
    @property_settings(25)
    @given(final_answers, self_assessment)
    @example(ALL_AGREE, PAIRED)
    @example(NONE_AGREE, UNPAIRED_FEW)
    @example(TIE, PAIRED)
    @example(FEW, UNPAIRED_FEW)
    def check(final, pre_post):
        _clear(engine, cohort_id)
        _store(engine, cohort_id, final, pre_post)
        with db.transaction(engine) as session:
            report = cohort_report(session, cohort_id, "da", now=REPORT_NOW, min_group_size=K)
        rows = _exported(engine, cohort_id)
        _check_final(report, rows)
        _check_pre_post(report, rows)

    check()

