"""Participant lists: Excel workbooks, CSV in Excel's Danish and English dialects, and every
bad row reported."""

from __future__ import annotations

from datetime import datetime

import pytest

from cohort.core.participants import ParticipantImportError, parse_participant_list
from tests.fixtures.workbooks import workbook

GOOD_SEMICOLON = (
    "\ufeffNavn;E-mail;Organisation;Rolle;Sprog\r\n"
    "Anne Ærø;Anne@Vejle.dk;Vejle Kommune;Leder, hjemmeplejen;da\r\n"
    "Ola Nordmann;ola@lier.kommune.no;Lier kommune;Enhetsleder;nb\r\n"
).encode("utf-8")
GOOD_COMMA = b"name,email,organisation,role,language\nJane Doe,jane@example.org,NHS,Lead,en\n"


def test_semicolon_file_with_bom_and_danish_headers():
    rows = parse_participant_list(GOOD_SEMICOLON)
    assert [r.name for r in rows] == ["Anne Ærø", "Ola Nordmann"]
    assert rows[0].email == "anne@vejle.dk"  # normalised
    assert rows[0].role == "Leder, hjemmeplejen"
    assert [r.language for r in rows] == ["da", "nb"]


def test_comma_file_without_bom():
    (row,) = parse_participant_list(GOOD_COMMA)
    assert (row.organisation, row.language) == ("NHS", "en")


def test_missing_language_takes_the_cohorts():
    (row,) = parse_participant_list(b"name;email\nA;a@b.dk\n", default_language="nb")
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
        parse_participant_list(data)
    assert [str(e) for e in caught.value.errors] == [
        "row 3, column name: name is missing",
        "row 4, column email: 'not-an-email' is not a valid email address",
        "row 5, column email: 'anne@vejle.dk' is a duplicate (also in row 2)",
        "row 6, column language: 'sv' is not one of da, nb, en",
        "row 7, column email: email is missing",
    ]


def test_duplicate_of_an_existing_participant():
    with pytest.raises(ParticipantImportError) as caught:
        parse_participant_list(GOOD_COMMA, existing_emails=["JANE@example.org"])
    assert "already" in str(caught.value.errors[0])


def test_missing_required_column():
    with pytest.raises(ParticipantImportError) as caught:
        parse_participant_list(b"name;organisation\nA;B\n")
    assert str(caught.value.errors[0]).startswith("row 1, column email: no 'email' column")


def test_not_utf8_is_a_clear_error():
    with pytest.raises(ParticipantImportError) as caught:
        parse_participant_list("name;email\nSøren;s@x.dk\n".encode("latin-1"))
    assert "CSV UTF-8" in str(caught.value)


def test_blank_lines_are_ignored():
    rows = parse_participant_list(b"name,email\n\nA,a@x.dk\n,\n")
    assert len(rows) == 1


def test_line_breaks_control_characters_and_overlong_text_are_refused_by_row_and_column():
    data = ('name;email;organisation;role\n'
            '"Eve\r\nBcc: x@evil.example";eve@x.example;Vejle;Leder\n'
            'Bo;bo@x.example;"Kolding\x00";Leder\n'
            f'Cai;cai@x.example;Odense;{"r" * 201}\n'
            'Dan;"dan\x00@x.example";Odense;Leder\n'
            'Zoë\tTab;zoe@x.example;Odense;Leder\n').encode()
    with pytest.raises(ParticipantImportError) as caught:
        parse_participant_list(data)
    assert [(e.row, e.column, e.code) for e in caught.value.errors] == [
        (3, "name", "control_character"), (4, "organisation", "nul"),
        (5, "role", "too_long"), (6, "email", "nul")]
    assert caught.value.errors[2].params == (("max", 200),)


def test_an_excel_workbook_is_read_from_its_first_sheet():
    """Facilitators keep the list in Excel: its first sheet is read as a CSV file would be,
    with numbers and dates as Excel shows them and the sheet's own row numbers."""
    data = workbook([["Navn", "E-mail", "Organisation", "Rolle", "Sprog"], [],
                      ["Anne Ærø", "Anne@Vejle.dk", "Vejle Kommune", 4.0, "da"],
                      ["Ola Nordmann", "ola@lier.kommune.no", "Lier kommune",
                       datetime(2025, 3, 1), None]], start_row=2, sheets=2)
    rows = parse_participant_list(data, default_language="nb")
    assert [(r.name, r.email, r.role, r.language) for r in rows] == [
        ("Anne Ærø", "anne@vejle.dk", "4", "da"),
        ("Ola Nordmann", "ola@lier.kommune.no", "2025-03-01", "nb")]
    bad = workbook([["name", "email"], ["Anne", "anne@vejle.dk"], ["Bo", "not-an-email"],
                     ["Line\nbreak", "c@vejle.dk"]])
    with pytest.raises(ParticipantImportError) as caught:
        parse_participant_list(bad)
    assert [(e.row, e.column, e.code) for e in caught.value.errors] == [
        (3, "email", "email_invalid"), (4, "name", "control_character")]


def test_a_workbook_that_cannot_be_read_is_a_clear_error():
    for data, code in ((b"PK\x03\x04 not really a zip", "unreadable_workbook"),
                       (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old_excel"),
                       (workbook([]), "empty_file"), (workbook([[None, ""]]), "empty_file")):
        with pytest.raises(ParticipantImportError) as caught:
            parse_participant_list(data)
        assert [(e.row, e.code) for e in caught.value.errors] == [(1, code)], data[:8]
