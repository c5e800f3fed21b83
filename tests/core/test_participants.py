"""Participant CSV: Excel's Danish and English dialects, and every bad row reported."""

from __future__ import annotations

import pytest

from cohort.core.participants import ParticipantImportError, parse_participants_csv

GOOD_SEMICOLON = (
    "\ufeffNavn;E-mail;Organisation;Rolle;Sprog\r\n"
    "Anne Ærø;Anne@Vejle.dk;Vejle Kommune;Leder, hjemmeplejen;da\r\n"
    "Ola Nordmann;ola@lier.kommune.no;Lier kommune;Enhetsleder;nb\r\n"
).encode("utf-8")
GOOD_COMMA = b"name,email,organisation,role,language\nJane Doe,jane@example.org,NHS,Lead,en\n"


def test_semicolon_file_with_bom_and_danish_headers():
    rows = parse_participants_csv(GOOD_SEMICOLON)
    assert [r.name for r in rows] == ["Anne Ærø", "Ola Nordmann"]
    assert rows[0].email == "anne@vejle.dk"  # normalised
    assert rows[0].role == "Leder, hjemmeplejen"
    assert [r.language for r in rows] == ["da", "nb"]


def test_comma_file_without_bom():
    (row,) = parse_participants_csv(GOOD_COMMA)
    assert (row.organisation, row.language) == ("NHS", "en")


def test_missing_language_takes_the_cohorts():
    (row,) = parse_participants_csv(b"name;email\nA;a@b.dk\n", default_language="nb")
    assert row.language == "nb"


def test_every_bad_row_is_reported_with_row_and_column():
    data = (
        b"name;email;organisation;role;language\n"
        b"Anne;anne@vejle.dk;Vejle;;da\n"
        b";missing-name@vejle.dk;Vejle;;da\n"
        b"Bo;not-an-email;Vejle;;da\n"
        b"Carl;anne@vejle.dk;Vejle;;da\n"
        b"Dorte;dorte@vejle.dk;Vejle;;sv\n"
        b"Erik;;Vejle;;da\n"
    )
    with pytest.raises(ParticipantImportError) as caught:
        parse_participants_csv(data)
    assert [str(e) for e in caught.value.errors] == [
        "row 3, column name: name is missing",
        "row 4, column email: 'not-an-email' is not a valid email address",
        "row 5, column email: 'anne@vejle.dk' is a duplicate (also in row 2)",
        "row 6, column language: 'sv' is not one of da, nb, en",
        "row 7, column email: email is missing",
    ]


def test_duplicate_of_an_existing_participant():
    with pytest.raises(ParticipantImportError) as caught:
        parse_participants_csv(GOOD_COMMA, existing_emails=["JANE@example.org"])
    assert "already" in str(caught.value.errors[0])


def test_missing_required_column():
    with pytest.raises(ParticipantImportError) as caught:
        parse_participants_csv(b"name;organisation\nA;B\n")
    assert str(caught.value.errors[0]).startswith("row 1, column email: no 'email' column")


def test_not_utf8_is_a_clear_error():
    with pytest.raises(ParticipantImportError) as caught:
        parse_participants_csv("name;email\nSøren;s@x.dk\n".encode("latin-1"))
    assert "CSV UTF-8" in str(caught.value)


def test_blank_lines_are_ignored():
    rows = parse_participants_csv(b"name,email\n\nA,a@x.dk\n,\n")
    assert len(rows) == 1


def test_line_breaks_control_characters_and_overlong_text_are_refused_by_row_and_column():
    data = ('name;email;organisation;role\n'
            '"Eve\r\nBcc: x@evil.example";eve@x.example;Vejle;Leder\n'
            'Bo;bo@x.example;"Kolding\x00";Leder\n'
            f'Cai;cai@x.example;Odense;{"r" * 201}\n'
            'Dan;"dan\x00@x.example";Odense;Leder\n'
            'Zoë\tTab;zoe@x.example;Odense;Leder\n').encode()
    with pytest.raises(ParticipantImportError) as caught:
        parse_participants_csv(data)
    assert [(e.row, e.column, e.code) for e in caught.value.errors] == [
        (3, "name", "control_character"), (4, "organisation", "nul"),
        (5, "role", "too_long"), (6, "email", "nul")]
    assert caught.value.errors[2].params == (("max", 200),)
