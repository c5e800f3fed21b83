"""Evaluators' notes from the guides, and quotes attributed only by organisation and group."""

from __future__ import annotations

from datetime import date

import pytest

from cohort import db, services
from tests.fixtures.surveys import PEOPLE


@pytest.fixture
def cohort_id(engine, make_cohort):
    return make_cohort(engine, people=PEOPLE).id


def test_observation_note_follows_the_guide(engine, cohort_id):
    with db.transaction(engine) as session:
        guides = {g.key: g for g in services.cohort_guides(session, cohort_id)}
        headings = [s.heading for s in guides["meeting-observation"].sections]
        note = services.save_note(
            session, cohort_id, "meeting-observation",
            {headings[1]: "Mange tog ordet i gruppearbejdet.", headings[0]: "Klar ramme.",
             headings[2]: "   "},
            meeting_key="workshop-1", held_on=date(2025, 4, 17), author="evaluator")
    assert note.kind == "observation"
    assert note.entries == [{"heading": headings[0], "text": "Klar ramme."},
                            {"heading": headings[1], "text": "Mange tog ordet i gruppearbejdet."}]
    with db.transaction(engine) as session:
        updated = services.save_note(session, cohort_id, "meeting-observation",
                                     {headings[0]: "Rettet."}, meeting_key="workshop-1",
                                     note_id=note.id)
        assert updated.id == note.id and updated.entries == [
            {"heading": headings[0], "text": "Rettet."}]
        assert [n.id for n in services.list_notes(session, cohort_id, "observation")] == [note.id]


def test_note_with_unknown_heading_or_meeting_is_refused(engine, cohort_id):
    with pytest.raises(services.NoteInvalid) as caught, db.transaction(engine) as session:
        services.save_note(session, cohort_id, "final-interview", {"Noget andet": "x"},
                           meeting_key="webinar-9")
    assert caught.value.problems == [
        "'Noget andet' is not a heading of guide 'final-interview'",
        f"cohort {cohort_id} has no meeting 'webinar-9'"]
    with pytest.raises(services.NotFound, match="guides: meeting-observation, "
                                                "practice-observation, final-interview"), \
            db.transaction(engine) as session:
        services.save_note(session, cohort_id, "interview", {})


def test_quotes_are_attributed_by_organisation_and_group_and_coded(engine, cohort_id):
    with db.transaction(engine) as session:
        note = services.save_note(session, cohort_id, "final-interview", {},
                                  organisation="Vejle Kommune", group_label="gruppe 3")
        quote = services.add_quote(
            session, cohort_id, "Vi har fået et fælles sprog for forandringerne.",
            organisation="Vejle Kommune", group_label="gruppe 3",
            themes=["Sprog for digital forandring", " sprog for digital forandring ",
                    "Ledelsesopbakning"], note_id=note.id)
    assert quote.attribution == "Vejle Kommune, gruppe 3"
    assert quote.themes == ["Sprog for digital forandring", "Ledelsesopbakning"]
    with db.transaction(engine) as session:
        services.tag_quote(session, cohort_id, quote.id, ["Teknostress", "Nyt tema"])
        by_theme = services.quotes_by_theme(session, cohort_id)
        themes = services.cohort_themes(session, cohort_id)
    assert [q.id for q in by_theme["Nyt tema"]] == [quote.id]
    assert themes[-1] == "Nyt tema" and "Teknostress" in themes


def test_quotes_never_name_a_participant(engine, cohort_id):
    name = PEOPLE[0].name
    with pytest.raises(services.NoteInvalid) as caught, db.transaction(engine) as session:
        services.add_quote(session, cohort_id, f"Som {name} sagde: det virker.",
                           organisation=f"Vejle Kommune ({name})", group_label="")
    assert caught.value.problems == [
        f"the quote names a participant ({name}); attribute quotes only by organisation and "
        "group",
        f"the organisation names a participant ({name}); attribute quotes only by "
        "organisation and group"]
    with pytest.raises(services.NoteInvalid, match="attributed to an organisation"), \
            db.transaction(engine) as session:
        services.add_quote(session, cohort_id, "Godt forløb", organisation=" ")
