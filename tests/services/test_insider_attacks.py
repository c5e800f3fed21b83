"""Issue #18's attacks on published figures, run by a brute-force attacker (SQLite and PostgreSQL).

The attacker is a curious facilitator or evaluator who keeps every figure they are shown:
each survey's page, the page over all copies of a repeated survey, the breakdown, the
report's data (`report_facts`) and the responses export, looked at again after every single
answer and after every close. Each published figure of one question is a *cell*: how many
answered and how many gave each answer. The attacker adds and subtracts cells (every ±1
combination of a few of them) and looks for a result that is a real group of 1 to k-1 answers
(a count between 1 and k-1, no negative count). Each copy's answers use values no other copy
uses, so a difference of unrelated cells always has a negative count: whatever the attacker
finds is a real group of answers.

Each test also shows the attacker is able: given the cells the attack in the issue used (or
the cells the rule without time would publish), it finds the lone answer.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.core.survey_results import summarise_by_group, summarise_copies
from cohort.models import Survey
from cohort.services.reporting import report_facts
from cohort.services.survey_figures import response_answers
from tests.fixtures.surveys import PRE_ANSWERS, invitation_id

K = 5  # digital-lederskab's evaluation.min_group_size
MEETING = "meeting-evaluation"
Vector = tuple[int, ...]  # (n, how many answered 1, 2, 3, 4, 5)


# --- the attacker ---------------------------------------------------------------------------

def vector(n: int, counts: dict[int, int]) -> Vector:
    return (n, *(counts.get(v, 0) for v in range(1, 6)))


def recovered(cells: set[Vector], k: int = K, width: int = 3) -> list[Vector]:
    """Every ±1 combination of up to `width` distinct cells (of all of them when there are
    few) that is a group of 1 to k-1 answers."""
    cells = sorted(cells)
    found = []
    sizes = range(1, len(cells) + 1) if len(cells) <= 9 else range(1, width + 1)
    for size in sizes:
        for chosen in itertools.combinations(cells, size):
            for signs in itertools.product((1, -1), repeat=size):
                total = [sum(s * c[i] for s, c in zip(signs, chosen, strict=True))
                         for i in range(6)]
                n, counts = total[0], total[1:]
                if 0 < n < k and all(c >= 0 for c in counts) and sum(counts) == n:
                    found.append(tuple(total))
    return found


def question_cells(summary, question_id: str) -> set[Vector]:
    """The cells a summary publishes for one question (or self-assessment area)."""
    cells = set()
    for result in summary.questions:
        if result.id == question_id and not result.suppressed and result.distribution:
            cells.add(vector(result.n, {c.value: c.count for c in result.distribution}))
        if result.id == "competences":
            cells |= area_cells(result, question_id)
    return cells


def area_cells(result, area_id: str) -> set[Vector]:
    return {vector(a.n, {c.value: c.count for c in a.distribution}) for a in result.areas
            if a.area_id == area_id and not a.suppressed}


def export_cells(table, survey_keys: set[str], column: str) -> set[Vector]:
    """The responses export's rows as cells: per survey, and per survey and named group."""
    names = table.columns
    groups: dict[tuple, list[int]] = {}
    for row in table.rows:
        record = dict(zip(names, row, strict=True))
        if record["survey"] not in survey_keys or record.get(column) is None:
            continue
        groups.setdefault((record["survey"],), []).append(record[column])
        for attribute in ("organisation", "role"):
            if record.get(attribute):
                groups.setdefault((record["survey"], attribute, record[attribute]),
                                  []).append(record[column])
    return {vector(len(values), Counter(values)) for values in groups.values()}


# --- the cohort -----------------------------------------------------------------------------

def people(organisations: list[str], roles: list[str]) -> list[ParticipantRow]:
    return [ParticipantRow(f"Leder {i:02d}", f"p{i:02d}@example.org", org, role, "da")
            for i, (org, role) in enumerate(zip(organisations, roles, strict=True))]


def surveys_of(engine, cohort_id: int, template_key: str) -> list[Survey]:
    with db.transaction(engine) as session:
        found = list(session.scalars(select(Survey).where(
            Survey.cohort_id == cohort_id, Survey.template_key == template_key)
            .order_by(Survey.opens_at, Survey.key)))
        session.expunge_all()
    return found


def pre_answers(rating: int) -> dict:
    """A self-assessment with `rating` for judging technology (the area attacked)."""
    return {**PRE_ANSWERS, "competences": {**PRE_ANSWERS["competences"],
                                           "judge-technology": rating}}


def tick(engine, now) -> None:
    """What the scheduler does every minute: store the pools that may be stored."""
    with db.transaction(engine) as session:
        services.move_pooled_answers(session, now)


def published_meeting_cells(engine, cohort_id: int, now, question: str) -> set[Vector]:
    """Everything a staff member sees at `now` about one meeting-evaluation question."""
    cells: set[Vector] = set()
    with db.transaction(engine) as session:
        copies = [s for s in services.list_surveys(session, cohort_id)
                  if s.template_key == MEETING]
        for survey in copies:
            cells |= question_cells(services.survey_results(session, survey.id, now=now),
                                    question)
        cells |= question_cells(services.template_results(session, cohort_id, MEETING,
                                                          now=now), question)
        facts = report_facts(session, cohort_id, now=now)
        for survey in facts.surveys:
            if survey.summary is not None:
                cells |= question_cells(survey.summary, question)
        for template in facts.templates:
            if template.key == MEETING:
                cells |= question_cells(template.summary, question)
        table, _ = services.responses_table(session, cohort_id, now=now)
        cells |= export_cells(table, {s.key for s in copies}, question)
    return cells


# --- attacks 1 and 5: subtraction across pages and across time ------------------------------

# The value each meeting's evaluators give ("relevant", 1-5), and how many answer.
MEETING_ANSWERS = [(4, 6), (1, 1), (5, 4), (2, 2)]


def test_attacks_1_and_5_nothing_small_across_copies_the_aggregate_the_report_or_time(
        engine, make_cohort):
    """Six answer the kick-off's evaluation, one the next meeting's, four the one after and
    two the next. The attacker looks after every answer and every close."""
    cohort_id = make_cohort(engine, people=people(["Vejle Kommune"] * 12, ["Leder"] * 12)).id
    copies = surveys_of(engine, cohort_id, MEETING)
    last_close = max(s.closes_at for s in copies) + timedelta(hours=1)
    seen: set[Vector] = set()
    without_time: set[Vector] = set()  # what the rule without rule 5 would have shown
    for survey, (value, count) in zip(copies, MEETING_ANSWERS, strict=False):
        during = survey.opens_at + timedelta(hours=1)
        for number in range(count):
            services.submit_response(
                engine, invitation_id(engine, cohort_id, survey.key, f"p{number:02d}@example.org"),
                {"relevant": value, "form": 3, "ideas": 3, "overall": 5}, during)
            seen |= published_meeting_cells(engine, cohort_id, during, "relevant")
        after = survey.closes_at + timedelta(hours=1)
        tick(engine, after)
        seen |= published_meeting_cells(engine, cohort_id, after, "relevant")
        with db.transaction(engine) as session:
            answers = {s.key: response_answers(session, s) for s in
                       services.list_surveys(session, cohort_id) if s.template_key == MEETING}
            spec = services.survey_spec_of(session, survey)
        without_time |= question_cells(summarise_copies(spec, answers, K), "relevant")
    tick(engine, last_close)
    seen |= published_meeting_cells(engine, cohort_id, last_close, "relevant")

    assert recovered(seen) == []
    # What is shown at the end: the kick-off (6) and, all closed, every meeting (13).
    assert vector(6, {4: 6}) in seen and vector(13, {4: 6, 1: 1, 5: 4, 2: 2}) in seen
    # The attacker is able: with the two pages (all meetings 7, kick-off 6) it finds
    # workshop 1's lone answer; and the aggregate shown as soon as the hidden copies held 5
    # (before the last copy closed) gives the two answers added after it.
    assert recovered({vector(7, {4: 6, 1: 1}), vector(6, {4: 6})}) == [vector(1, {1: 1})]
    assert vector(2, {2: 2}) in recovered(without_time | {vector(6, {4: 6})})


def test_attack_5_two_looks_at_an_open_anonymous_survey_show_the_same(engine, make_cohort):
    """While a survey is open nothing about its answers is shown, so a look before and a
    look after one more answer are the same; its figures appear once, when it has closed."""
    cohort_id = make_cohort(engine, people=people(["Vejle Kommune"] * 12, ["Leder"] * 12)).id
    survey = surveys_of(engine, cohort_id, MEETING)[0]
    during = survey.opens_at + timedelta(hours=1)
    looks = []
    for number in range(8):
        services.submit_response(
            engine, invitation_id(engine, cohort_id, survey.key, f"p{number:02d}@example.org"),
            {"relevant": 1 + number % 5, "form": 3, "ideas": 3, "overall": 5}, during)
        looks.append(published_meeting_cells(engine, cohort_id, during, "relevant"))
    assert all(look == set() for look in looks)
    after = survey.closes_at + timedelta(hours=1)
    tick(engine, after)
    assert published_meeting_cells(engine, cohort_id, after, "relevant") == {
        vector(8, {1: 2, 2: 2, 3: 2, 4: 1, 5: 1})}


def test_attack_5_an_identified_survey_lists_non_responders_but_shows_no_live_figures(
        engine, make_cohort):
    """The identified pre self-assessment: its overview names who has not answered (for
    reminders), so its figures must not change with each answer; they appear at the close."""
    cohort_id = make_cohort(engine, people=people(["Vejle Kommune"] * 12, ["Leder"] * 12)).id
    (survey,) = surveys_of(engine, cohort_id, "self-assessment-pre")
    during = survey.opens_at + timedelta(hours=1)
    looks = []
    for number in range(7):
        services.submit_response(
            engine, invitation_id(engine, cohort_id, survey.key, f"p{number:02d}@example.org"),
            pre_answers(1 + number % 5), during)
        with db.transaction(engine) as session:
            rate = next(r for r in services.response_rates(session, cohort_id)
                        if r.survey_id == survey.id)
            results = services.survey_results(session, survey.id, now=during)
            breakdown = services.survey_breakdown(session, survey.id, "organisation",
                                                  now=during)
            facts = report_facts(session, cohort_id, now=during)
        assert len(rate.not_answered) == 12 - number - 1  # who has not answered: named
        assert results.withheld and results.suppressed
        pre = next(t.summary for t in facts.templates if t.key == "self-assessment-pre")
        looks.append(question_cells(results, "judge-technology")
                     | question_cells(pre, "judge-technology")
                     | {c for g in breakdown.groups for q in g.questions
                        for c in area_cells(q, "judge-technology")})
    assert all(look == set() for look in looks)
    after = survey.closes_at + timedelta(hours=1)
    with db.transaction(engine) as session:
        results = services.survey_results(session, survey.id, now=after)
    assert question_cells(results, "judge-technology") == {
        vector(7, {1: 2, 2: 2, 3: 1, 4: 1, 5: 1})}


# --- attack 6: breakdowns subtract across dimensions ----------------------------------------

def test_attack_6_by_role_minus_by_organisation_recovers_nothing(engine, make_cohort):
    """Lier has six participants: five leaders and one specialist; Vejle five specialists.
    By organisation (Lier 6, Vejle 5) and by role (leaders 5, specialists 6) each show only
    groups of at least five, yet Lier minus the leaders is the specialist (6·4.3 − 5·5.0 ≈ 1:
    she answered 1). Only one attribute per survey is published, so the attacker, with every
    figure shown for the closed survey, finds nothing."""
    organisations = ["Lier Kommune"] * 6 + ["Vejle Kommune"] * 5
    roles = ["Leder"] * 5 + ["Specialist"] * 6
    cohort_id = make_cohort(engine, people=people(organisations, roles)).id
    (survey,) = surveys_of(engine, cohort_id, "self-assessment-pre")
    during = survey.opens_at + timedelta(hours=1)
    ratings = [5] * 5 + [1] + [3] * 5  # the leaders 5, the Lier specialist 1, Vejle's 3
    for number, rating in enumerate(ratings):
        services.submit_response(
            engine, invitation_id(engine, cohort_id, survey.key, f"p{number:02d}@example.org"),
            pre_answers(rating), during)
    after = survey.closes_at + timedelta(hours=1)
    seen: set[Vector] = set()
    with db.transaction(engine) as session:
        seen |= question_cells(services.survey_results(session, survey.id, now=after),
                               "judge-technology")
        shown = services.survey_figures.breakdown_dimensions(
            services.survey_spec_of(session, survey))
        assert shown == ("organisation",)
        by_organisation = services.survey_breakdown(session, survey.id, "organisation",
                                                    now=after)
        with pytest.raises(ValueError, match="not broken down by role"):
            services.survey_breakdown(session, survey.id, "role", now=after)
        for template in report_facts(session, cohort_id, now=after).templates:
            if template.key == "self-assessment-pre":
                seen |= question_cells(template.summary, "judge-technology")
        spec = services.survey_spec_of(session, survey)
        answers = response_answers(session, survey)
    seen |= {c for g in by_organisation.groups for q in g.questions
             for c in area_cells(q, "judge-technology")}
    assert vector(6, {5: 5, 1: 1}) in seen  # Lier is shown, and so is Vejle
    assert recovered(seen) == []
    # The attack in the issue: with the role breakdown published as well, it works.
    by_role = summarise_by_group(spec, {"Leder": answers[:5], "Specialist": answers[5:]},
                                 "role", K)
    role_cells = {c for g in by_role.groups for q in g.questions
                  for c in area_cells(q, "judge-technology")}
    assert vector(1, {1: 1}) in recovered(seen | role_cells)
