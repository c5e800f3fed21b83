"""The report's data from a cohort with known answers, on SQLite and PostgreSQL: exact
percentages (half up), small groups suppressed, and the same figures as the other views."""

from __future__ import annotations

import math

import pytest
import scipy.stats
from sqlalchemy import select

from cohort import db, services
from cohort.core.reporting import (
    SUPPRESSED_AGGREGATE,
    SUPPRESSED_AREA,
    SUPPRESSED_ATTENDANCE,
    SUPPRESSED_DISTRIBUTION,
    SUPPRESSED_ORGANISATIONS,
    SUPPRESSED_PAIRED,
    SUPPRESSED_QUESTION,
    SUPPRESSED_ROLES,
    SUPPRESSED_SURVEY,
    SUPPRESSED_TEXT,
    NotComparable,
    signed_decimal,
)
from cohort.models import Group, GroupMember, IdentifiedResponse, Participant, Quote, Survey
from cohort.services.reporting import cohort_report, comparison_report, report_facts
from tests.fixtures.report import (
    LEADERSHIP_TEXTS,
    PEOPLE,
    REPORT_NOW,
    STATEMENTS,
    fill_generated,
)


@pytest.fixture
def report(engine, known_cohort):
    with db.transaction(engine) as session:
        return cohort_report(session, known_cohort, now=REPORT_NOW)


def test_headline_statements_are_exact_with_n_of_n_and_half_up_rounding(report):
    headline = {s.id: s for s in report.headline.statements}
    assert report.headline.responses == 40
    for question_id, statement in STATEMENTS.items():
        assert headline[question_id].statement == statement
    assert headline["new-tools"].agree.percent == 63  # 25/40 = 62.5, half up
    assert headline["network"].agree.text == "13 %"  # 1/8 = 12.5, half up
    assert headline["passed-on"].suppressed and headline["passed-on"].statement is None
    assert headline["passed-on"].n == 4


def test_statements_are_sorted_into_their_kirkpatrick_levels(report):
    def ids(blocks):
        return [q.id for b in blocks for q in (*b.statements, *b.questions)]

    assert ids(report.behaviour.blocks) == ["new-tools", "network", "passed-on"]
    assert ids(report.results.blocks) == ["staff-engagement"]
    # The follow-up's statements, behaviour and results alike (what changed for the leaders'
    # staff three months on), are in its own table in the Behaviour chapter.
    (follow_up,) = report.behaviour.follow_up
    assert [r.question.id for r in follow_up.rows] == [
        "new-tools", "network", "passed-on", "staff-engagement", "staff-tried"]
    assert "judge-technology" in ids(report.learning.blocks)
    assert ids(report.reaction.blocks) == ["most-useful", "recommend"]
    recommend = report.reaction.blocks[0].questions[1]
    assert recommend.mean == "8,5" and recommend.n == 40


def test_meeting_evaluations_hide_a_small_meeting_and_the_figures_over_all(report):
    matrix = report.reaction.matrices[0]
    assert [c.key for c in matrix.columns] == ["kickoff", "workshop-1", "webinar-1"]
    assert [c.answered for c in matrix.columns] == [10, 3, 8]
    relevant = matrix.rows[0]
    assert relevant.question.id == "relevant"
    assert relevant.cells[0].agree.text == "90 %"
    # Workshop 1 has 3 answers and is the only meeting hidden: the "all meetings" figure
    # minus the two shown meetings would be its three answers, so "all" is hidden instead.
    assert [c.suppressed for c in relevant.cells] == [False, True, False]
    assert relevant.cells[2].agree.part == 6 and relevant.cells[2].agree.whole == 8
    assert relevant.question.suppressed and relevant.question.agree is None
    assert relevant.question.n == 21 and matrix.responses == 21
    assert matrix.rows[-1].cells[0].mean == "7,0"


def test_the_report_and_the_evaluator_pages_cannot_be_subtracted(engine, known_cohort, report):
    """Attack 1 across outputs: the report's "all meetings" column minus the meetings shown
    on the evaluator's pages must not leave a group of 1..k-1 answers."""
    k = report.min_group_size
    with db.transaction(engine) as session:
        copies = [s for s in services.list_surveys(session, known_cohort)
                  if s.template_key == "meeting-evaluation"]
        pages = [services.survey_results(session, s.id) for s in copies]
        every = services.template_results(session, known_cohort, "meeting-evaluation")
    (matrix,) = report.reaction.matrices
    in_report = {row.question.id: row for row in matrix.rows}
    for total in every.questions:  # the "all meetings" page, free text included
        on_pages = sum(r.n for page in pages for r in page.questions
                       if r.id == total.id and not r.suppressed)
        row = in_report.get(total.id)
        if row is not None:
            assert row.question.suppressed == total.suppressed
            assert sum(c.n for c in row.cells if not c.suppressed) == on_pages
        if not total.suppressed:
            assert total.n - on_pages == 0 or total.n - on_pages >= k, total.id
    assert any(total.suppressed for total in every.questions)  # workshop 1 is hidden


def test_pre_post_is_paired_per_participant(report):
    (figure,) = report.learning.pre_post
    assert figure.paired and figure.pre_responses == 20 and figure.post_responses == 20
    areas = {a.id: a for a in figure.areas}
    judge, ethics = areas["judge-technology"], areas["ethics"]
    # 18 answered both; 2 only before and 2 only after. Those 4 unpaired answers are fewer
    # than 5, and 20 · mean before − (20 · mean after − 18 · paired change) would leave just
    # them, so the paired change is hidden (the publication rule, rule 4); the means show.
    assert (judge.pre_mean, judge.post_mean, judge.paired_change, judge.paired_n) == (
        "2,0", "3,0", None, 18)
    assert (ethics.post_mean, ethics.paired_change) == ("4,0", None)
    hidden = {s.subject: s.n for s in report.method.suppressed if s.kind == SUPPRESSED_PAIRED}
    assert len(hidden) == len(figure.areas) and set(hidden.values()) == {18}
    assert judge.pre_high.text == "0 %" and ethics.post_high.text == "100 %"


def test_participants_by_organisation_and_role_respect_the_minimum_group(report):
    organisations = [(g.label, g.count, g.share.text, g.folded)
                     for g in report.about.organisations]
    assert organisations == [("Vejle Kommune", 12, "30 %", 0),
                             ("Kolding Kommune", 10, "25 %", 0),
                             ("Odense Kommune", 8, "20 %", 0),
                             ("", 10, "25 %", 3)]
    # Centerleder (3) is too few; the sygeplejen leaders (17) are folded in with them so
    # that the 3 cannot be worked out by subtraction.
    assert [(g.label, g.count, g.folded) for g in report.about.roles] == [
        ("Leder, hjemmeplejen", 20, 0), ("", 20, 2)]


def test_attendance_hides_small_meetings_and_the_distribution(report):
    attendance = report.about.attendance
    rows = {r.key: r for r in attendance.meetings}
    assert rows["kickoff"].share.text == "75 %"
    assert rows["workshop-1"].share is None and rows["workshop-1"].marked == 4
    assert attendance.distribution is None and attendance.distribution_base == 4
    # Over the shown meetings only: with workshop 1 in it, overall minus the kick-off would
    # give away workshop 1's hidden figure.
    assert attendance.overall.part == 30 and attendance.overall.whole == 40


def test_free_text_and_quotes(report):
    (shown,) = report.results.free_text
    assert shown.n == 6 and sorted(shown.texts) == sorted(LEADERSHIP_TEXTS)
    themes = {t.name: t for t in report.results.themes}
    assert themes["Tid og ressourcer"].count == 3
    assert [q.attribution for q in themes["Tid og ressourcer"].quotes] == [
        "Vejle Kommune", "Kolding Kommune", ""]
    assert list(themes)[:2] == ["Borgerperspektiv", "Tid og ressourcer"]  # codebook order


def test_quotes_stored_too_narrow_are_published_coarser(engine, known_cohort):
    """A quote stored before the attribution rule (or before people left or groups changed)
    keeps its words, but the report publishes its attribution no narrower than at least the
    report's minimum group size fit: Fredericia has 4 participants, a buddy pair 2 of Vejle."""
    with db.transaction(engine) as session:
        ids = list(session.scalars(select(Participant.id).where(
            Participant.cohort_id == known_cohort, Participant.organisation == "Vejle Kommune"
        ).order_by(Participant.id)))
        pair = Group(cohort_id=known_cohort, grouping_key="buddies", number=2)
        session.add(pair)
        session.flush()
        session.add_all([GroupMember(group_id=pair.id, participant_id=pid) for pid in ids[:2]])
        session.add_all([
            Quote(cohort_id=known_cohort, text="Citat A", organisation="Vejle Kommune",
                  group_label="Buddyordning 2", themes=["Mod"]),
            Quote(cohort_id=known_cohort, text="Citat B", organisation="Fredericia Kommune",
                  group_label="", themes=["Mod"])])
    with db.transaction(engine) as session:
        shown = {t.name: t for t in cohort_report(session, known_cohort, now=REPORT_NOW)
                 .results.themes}["Mod"].quotes
        stricter = {t.name: t for t in cohort_report(
            session, known_cohort, now=REPORT_NOW, min_group_size=13).results.themes}
        table = services.quotes_table(session, known_cohort)
    assert [(q.text, q.attribution) for q in shown] == [("Citat A", "Vejle Kommune"),
                                                        ("Citat B", "")]
    # With the report's own minimum group size (13): Vejle's 12 are too few as well.
    assert {q.attribution for t in stricter.values() for q in t.quotes} == {""}
    # The quotes export publishes the same as the report.
    rows = {row[0]: row[1:4] for row in table.rows}
    assert rows["Citat A"] == ["Vejle Kommune", "Vejle Kommune", ""]
    assert rows["Citat B"] == ["", "", ""]


def test_method_lists_every_suppression_with_its_reason(report):
    found = {(s.kind, s.subject): s for s in report.method.suppressed}
    assert found[(SUPPRESSED_QUESTION, "Afsluttende evaluering af forløbet: Forløbet har "
                  "fået mig til at formidle viden, erfaringer og værktøjer i min egen "
                  "organisation")].n == 4
    assert found[(SUPPRESSED_SURVEY, "Evaluering af mødet: Workshop 1")].n == 3
    assert found[(SUPPRESSED_AGGREGATE, "Evaluering af mødet")].n == 21
    assert found[(SUPPRESSED_TEXT, "Afsluttende evaluering af forløbet: Hvad bør ændres, "
                  "før forløbet udbydes igen?")].n == 3
    assert found[(SUPPRESSED_ORGANISATIONS, "")].groups == 3
    assert found[(SUPPRESSED_ROLES, "")].n == 20
    assert found[(SUPPRESSED_ATTENDANCE, "Workshop 1")].n == 4
    assert found[(SUPPRESSED_DISTRIBUTION, "")].n == 4
    assert not any(s.kind == SUPPRESSED_AREA for s in report.method.suppressed)
    sources = {s.title: s for s in report.method.sources}
    meeting = sources["Evaluering af mødet"]
    assert (meeting.copies, meeting.opened, meeting.answered) == (6, 6, 21)
    assert meeting.share.text == "9 %"  # 21 of 240 = 8.75


def test_report_figures_match_the_other_views(engine, known_cohort, report):
    """The web view and the PDF render this report; these are the exports' and the
    evaluators' figures for the same surveys."""
    with db.transaction(engine) as session:
        final = services.get_survey(session, known_cohort, "final")
        summary = services.survey_results(session, final.id)
        rates = services.response_rates_table(session, known_cohort)
    by_id = {q.id: q for q in summary.questions}
    for statement in report.headline.statements:
        if statement.agree is not None:
            assert statement.agree.percent == by_id[statement.id].agree.percent
            assert statement.statement == by_id[statement.id].agree.statement
    exported = {row[0]: row[9] for row in rates.rows}
    for rate in report.about.response_rates:
        if rate.status == "not_open":  # the follow-up, three months after the last meeting
            assert rate.share is None and rate.answered == 0
            continue
        assert rate.share.percent == exported[rate.key]


def test_english_report_formats_figures_in_english(engine, known_cohort):
    with db.transaction(engine) as session:
        report = cohort_report(session, known_cohort, "en", now=REPORT_NOW)
    new_tools = report.headline.statements[0]
    assert new_tools.agree.text == "63%"
    assert new_tools.statement == STATEMENTS["new-tools"]  # the programme's own language
    assert report.reaction.blocks[0].questions[1].mean == "8.5"


def test_unknown_language_and_cohort_are_refused(engine, known_cohort):
    with db.transaction(engine) as session, pytest.raises(ValueError, match="'sv' is not"):
        cohort_report(session, known_cohort, "sv")
    with db.transaction(engine) as session, pytest.raises(services.NotFound):
        cohort_report(session, 999)


def test_comparison_needs_the_same_programme(engine, known_cohort, make_cohort):
    other = make_cohort(engine, people=PEOPLE, programme="digital-helsekompetanse",
                        title="Kull 1").id
    same = make_cohort(engine, people=PEOPLE, title="Hold 2").id
    with db.transaction(engine) as session:
        with pytest.raises(NotComparable, match="only cohorts of the same programme"):
            comparison_report(session, known_cohort, other)
        with pytest.raises(NotComparable, match="itself"):
            comparison_report(session, known_cohort, known_cohort)
        comparison = comparison_report(session, known_cohort, same, now=REPORT_NOW)
    final = next(s for s in comparison.sections if s.key == "final")
    new_tools = next(r for r in final.rows if r.label.startswith("Jeg har anvendt"))
    assert (new_tools.first.text, new_tools.first.detail) == ("63 %", "25/40")
    assert new_tools.second.text is None  # the new cohort has no answers yet
    about = next(s for s in comparison.sections if s.key == "about")
    assert [r.first.text for r in about.rows if r.kind == "participants"] == ["40"]


# --- uncertainty ----------------------------------------------------------------------------

def _wilson_percent(part: int, whole: int) -> tuple[int, int]:
    interval = scipy.stats.binomtest(part, whole).proportion_ci(0.95, method="wilson")
    return math.floor(interval.low * 100 + 0.5), math.floor(interval.high * 100 + 0.5)


def test_known_cohort_intervals_beside_unchanged_statements(report):
    headline = {s.id: s for s in report.headline.statements}
    assert headline["new-tools"].statement == STATEMENTS["new-tools"]
    assert headline["new-tools"].agree.interval == "47\u201376 %"
    assert headline["network"].statement_with_interval.startswith("1 af 8 (13 %; 2\u201347 %) ")
    for s in headline.values():
        if s.agree:
            assert (s.agree.low, s.agree.high) == _wilson_percent(s.agree.part, s.agree.whole)
    assert report.headline.response.text == "100 %"  # 40 of 40
    relevant = report.reaction.matrices[0].rows[0]
    assert relevant.cells[0].agree.interval == "60\u201398 %"  # 9 of 10
    # all meetings together: hidden by the publication rule (a hidden meeting could be
    # worked out by subtraction), so no share and no interval
    assert relevant.question.agree is None


def test_known_cohort_paired_change_is_hidden_with_its_interval(report):
    """The 18 pairs' change is hidden by the publication rule (4 answers are unpaired, fewer
    than k, so the change per person could single them out), and its interval with it."""
    (figure,) = report.learning.pre_post
    assert (figure.pre_response.text, figure.post_response.text) == ("50 %", "50 %")
    judge = next(a for a in figure.areas if a.id == "judge-technology")
    assert judge.paired_change is None
    assert (judge.interval_kind, judge.interval) == ("", None)
    assert judge.effect_size is None and judge.improved is None


def test_pre_post_intervals_match_scipy_on_generated_answers(engine, make_cohort):
    """A Norwegian programme with identified self-assessments and random answers: each area's
    interval and effect size against scipy's ttest_rel over the pairs read back."""
    cohort_id = make_cohort(engine, people=PEOPLE, programme="digital-helsekompetanse",
                            title="Kull 1").id
    fill_generated(engine, cohort_id)
    with db.transaction(engine) as session:
        report = cohort_report(session, cohort_id, now=REPORT_NOW)
        (item,) = report_facts(session, cohort_id).pre_post
        answers = {key: dict(session.execute(
            select(IdentifiedResponse.participant_id, IdentifiedResponse.answers)
            .join(Survey, Survey.id == IdentifiedResponse.survey_id)
            .where(Survey.cohort_id == cohort_id, Survey.template_key == key)).all())
            for key in (item.pre_key, item.post_key)}
    (figure,) = report.learning.pre_post
    assert figure.paired and figure.areas
    pre, post = answers[item.pre_key], answers[item.post_key]
    checked = 0
    for area in figure.areas:
        pairs = [(pre[p][item.question_id][area.id], post[p][item.question_id][area.id])
                 for p in post if p in pre and area.id in pre[p].get(item.question_id, {})
                 and area.id in post[p].get(item.question_id, {})]
        assert area.paired_n == len(pairs)
        if area.interval is None:
            continue
        before, after = [b for b, _ in pairs], [a for _, a in pairs]
        result = scipy.stats.ttest_rel(after, before)
        interval = result.confidence_interval(0.95)
        assert area.low_value == pytest.approx(interval.low)
        assert area.high_value == pytest.approx(interval.high)
        assert area.effect_size_value == pytest.approx(result.statistic / math.sqrt(len(pairs)))
        assert area.improved.part == sum(1 for b, a in pairs if a > b)
        assert area.interval == (f"{signed_decimal(float(interval.low), 'nb')} til "
                                 f"{signed_decimal(float(interval.high), 'nb')}")
        checked += 1
    assert checked == len(figure.areas)
