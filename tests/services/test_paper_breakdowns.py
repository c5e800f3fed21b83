"""Paper answers with a breakdown: an anonymous survey that defines one (organisation or
role) takes that column in the paper-answers file, checked against the cohort's values and
stored generalised exactly as a web answer's, so paper-heavy cohorts get the same breakdowns."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.response_import import ResponseImportError, parse_responses_csv
from cohort.core.surveys import survey_spec
from cohort.models import AnonymousResponse
from tests.fixtures.report import PEOPLE
from tests.fixtures.surveys import DURING_FINAL


@pytest.fixture
def cohort_id(engine, make_cohort):
    """40 leaders: Vejle 12, Kolding 10, Odense 8, Fredericia 4, Middelfart 3, Svendborg 3
    (k = 5: the last three are stored as 'other', as web answers are)."""
    return make_cohort(engine, people=PEOPLE).id


def _stored(engine) -> list[str]:
    with db.transaction(engine) as session:
        return sorted(session.scalars(select(AnonymousResponse.breakdown_value)))


def test_the_breakdown_column_is_stored_as_for_web_answers(engine, cohort_id):
    csv = ("new-tools;organisation;network\n"
           "5;vejle  kommune;4\n"       # case and spacing do not matter
           "4;Odense Kommune;2\n"
           "2;Svendborg Kommune;3\n"    # 3 people: stored as 'other'
           "3;;4\n")                    # not given: 'other'
    with db.transaction(engine) as session:
        assert services.import_responses(session, cohort_id, "final", csv,
                                         now=DURING_FINAL) == 4
    assert _stored(engine) == ["", "", "Odense Kommune", "Vejle Kommune"]


def test_a_value_the_cohort_does_not_have_is_a_row_and_column_error(engine, cohort_id):
    csv = ("new-tools;Organisation\n"
           "5;Aarhus Kommune\n"
           "4;Kolding Kommune\n"
           "7;Vejle\n")
    with pytest.raises(ResponseImportError) as caught, db.transaction(engine) as session:
        services.import_responses(session, cohort_id, "final", csv, now=DURING_FINAL)
    listed = ("Fredericia Kommune, Kolding Kommune, Middelfart Kommune, Odense Kommune, "
              "Svendborg Kommune, Vejle Kommune")
    assert [str(e) for e in caught.value.errors] == [
        f"row 2, column organisation: 'Aarhus Kommune' is not an organisation of this cohort; "
        f"use one of: {listed}",
        "row 4, column new-tools: '7' is not one of the choices (1-5 or a label)",
        f"row 4, column organisation: 'Vejle' is not an organisation of this cohort; "
        f"use one of: {listed}"]
    assert _stored(engine) == []


def test_only_the_surveys_own_breakdown_is_accepted(library):
    spec = survey_spec(library.programmes["digital-lederskab"], "final")  # by organisation
    with pytest.raises(ResponseImportError) as caught:
        parse_responses_csv(spec, "new-tools;role\n5;Centerleder\n", date(2025, 10, 6),
                            ["Centerleder"])
    assert str(caught.value.errors[0]).startswith("row 1, column role: no question 'role'")
    roles = survey_spec(library.programmes["digital-helsekompetanse"], "sluttevaluering")
    (parsed,) = parse_responses_csv(roles, "tatt-i-bruk;rolle\n5;leder\n", date(2025, 10, 6),
                                    ["Leder", "Ressursperson"])
    assert parsed.breakdown == "Leder"
    # An identified survey's breakdown comes from the participant: the column is refused.
    pre = survey_spec(library.programmes["digital-lederskab"], "self-assessment-pre")
    with pytest.raises(ResponseImportError):
        parse_responses_csv(pre, "email;organisation\nleder00@example.org;Vejle Kommune\n",
                            date(2025, 4, 2), ["Vejle Kommune"])
