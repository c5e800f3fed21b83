"""Evaluators' notes from the guides, and quotes attributed only by organisation and group,
no narrower than the minimum group size (5) of the cohort's participants fit.

PEOPLE: Vejle Kommune 6, Kolding Kommune 4, Odense Kommune 2."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from cohort import db, services
from cohort.models import Group, GroupMember, Participant, Quote
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


def groups(engine, cohort_id: int, members: dict[tuple[int, int], list[int]]) -> None:
    """Stored buddy groups: (rotation, number) -> indexes into PEOPLE."""
    with db.transaction(engine) as session:
        ids = {p.email: p.id for p in session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id))}
        for (rotation, number), people in members.items():
            group = Group(cohort_id=cohort_id, grouping_key="buddies", rotation=rotation,
                          number=number)
            session.add(group)
            session.flush()
            session.add_all(GroupMember(group_id=group.id, participant_id=ids[PEOPLE[i].email])
                            for i in people)


def test_quotes_are_attributed_by_organisation_and_group_and_coded(engine, cohort_id):
    groups(engine, cohort_id, {(1, 3): [0, 1, 2, 3, 4, 6]})  # five of Vejle, one of Kolding
    with db.transaction(engine) as session:
        note = services.save_note(session, cohort_id, "final-interview", {},
                                  organisation="Vejle Kommune", group_label="gruppe 3")
        quote = services.add_quote(
            session, cohort_id, "Vi har fået et fælles sprog for forandringerne.",
            organisation="Vejle Kommune", group_label="Buddyordning 3",
            themes=["Sprog for digital forandring", " sprog for digital forandring ",
                    "Ledelsesopbakning"], note_id=note.id)
    assert quote.attribution == "Vejle Kommune, Buddyordning 3"
    assert quote.themes == ["Sprog for digital forandring", "Ledelsesopbakning"]
    with db.transaction(engine) as session:
        services.tag_quote(session, cohort_id, quote.id, ["Teknostress", "Nyt tema"])
        by_theme = services.quotes_by_theme(session, cohort_id)
        themes = services.cohort_themes(session, cohort_id)
    assert [q.id for q in by_theme["Nyt tema"]] == [quote.id]
    assert themes[-1] == "Nyt tema" and "Teknostress" in themes


def test_an_attribution_fewer_than_five_fit_is_refused(engine, cohort_id):
    """Kolding has four participants; "Vejle Kommune, Buddyordning 1" fits one (the pair's
    other member is from Odense): both would point at too few people for the insiders."""
    groups(engine, cohort_id, {(1, 1): [0, 10], (1, 2): [1, 2, 3, 4, 5, 6]})
    for organisation, group, fit in (("Kolding Kommune", "", 4),
                                     ("Vejle Kommune", "Buddyordning 1", 1),
                                     ("Vejle Kommune", "Buddyordning 9", 0),
                                     ("Narnia Kommune", "", 0)):
        with pytest.raises(services.NoteInvalid) as caught, \
                db.transaction(engine) as session:
            services.add_quote(session, cohort_id, "Godt forløb", organisation=organisation,
                               group_label=group)
        assert caught.value.problems == [
            f"'{', '.join(p for p in (organisation, group) if p)}' fits {fit} of the cohort's "
            "participants, fewer than the minimum group size (5): attribute the quote more "
            "broadly (only the organisation, or no attribution)"]
    with db.transaction(engine) as session:
        stored = services.add_quote(session, cohort_id, "Godt forløb",
                                    organisation="Vejle Kommune")
        # Correcting it is held to the same rule.
        with pytest.raises(services.NoteInvalid, match="fits 1 of the cohort's"):
            services.update_quote(session, cohort_id, stored.id, "Godt forløb",
                                  organisation="Vejle Kommune", group_label="Buddyordning 1")
        # A group without an organisation fits its six members.
        services.update_quote(session, cohort_id, stored.id, "Godt forløb",
                              group_label="Buddyordning 2")
        assert services.get_quote(session, cohort_id, stored.id).attribution == "Buddyordning 2"


def test_a_quote_without_attribution_is_a_participant(engine, cohort_id):
    with db.transaction(engine) as session:
        quote = services.add_quote(session, cohort_id, "Godt forløb", organisation=" ")
        assert (quote.organisation, quote.group_label, quote.attribution) == ("", "", "")
        assert services.quote_attributions(session, cohort_id).choices == [
            ("", ""), ("Vejle Kommune", "")]


def test_erased_participants_are_not_counted(engine, cohort_id):
    """Only the cohort's current participants fit an attribution: with one of Vejle's six
    erased, Vejle is five, and with a second gone, four: no longer offered, and a quote
    stored as Vejle is published without it."""
    with db.transaction(engine) as session:
        quote = services.add_quote(session, cohort_id, "Godt forløb",
                                   organisation="Vejle Kommune")
        session.execute(update(Participant).where(Participant.email.in_(
            [PEOPLE[0].email, PEOPLE[1].email]), Participant.cohort_id == cohort_id)
            .values(erased_at=quote.created_at))
        rule = services.quote_attributions(session, cohort_id)
        assert rule.choices == [("", "")]
        assert services.published_attributions(session, cohort_id, [quote]) == {
            quote.id: ("", "")}
        # The report's own minimum group size decides: with 4 Vejle is still published.
        assert services.published_attributions(session, cohort_id, [quote], 4) == {
            quote.id: ("Vejle Kommune", "")}


def test_a_stored_quote_too_narrow_now_is_published_coarser(engine, cohort_id):
    """Quotes stored before the rule (or before people left) keep their words; only the
    attribution published is broader: the group goes first, then the organisation."""
    groups(engine, cohort_id, {(1, 1): [0, 10], (1, 2): [1, 2, 3, 4, 5, 6]})
    with db.transaction(engine) as session:
        stored = [Quote(cohort_id=cohort_id, text=f"Citat {i}", organisation=o, group_label=g)
                  for i, (o, g) in enumerate([("Vejle Kommune", "Buddyordning 1"),
                                              ("Kolding Kommune", "Buddyordning 2"),
                                              ("Vejle Kommune", "Buddyordning 2")])]
        session.add_all(stored)
        session.flush()
        published = services.published_attributions(session, cohort_id, stored)
    assert [published[q.id] for q in stored] == [
        ("Vejle Kommune", ""), ("", ""), ("Vejle Kommune", "Buddyordning 2")]


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
