"""Teams attendance reports: both layouts, encodings, locales, bad files, and matching."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta

import pytest

from cohort.core.attendance import ABSENT, PRESENT
from cohort.core.attendance_import import (
    BY_EMAIL,
    BY_HAND,
    BY_NAME,
    ImportRefused,
    RosterPerson,
    match_rows,
    name_keys,
    plan_import,
)
from cohort.core.teams_attendance import (
    FLAT,
    SECTIONED,
    TABLE,
    TeamsReportError,
    parse_duration,
    parse_teams_report,
)
from tests.fixtures.paths import FIXTURES

SECTIONED_FILE = FIXTURES / "teams_webinar-1_sectioned_utf16.csv"
FLAT_FILE = FIXTURES / "teams_kickoff_flat_utf8.csv"
WEBINAR_1 = datetime(2025, 5, 15, 11, 0, tzinfo=UTC)  # 13:00 Copenhagen
KICKOFF = datetime(2025, 4, 8, 11, 0, tzinfo=UTC)
ROSTER = [
    RosterPerson(1, "Anne Ærenlund", "anne.aerenlund@vejle-kommune.example"),
    RosterPerson(2, "Søren Østergaard", "soeren.oestergaard@kolding-kommune.example"),
    RosterPerson(3, "Mette Bæk Sørensen", "mette.sorensen@odense-kommune.example"),
    RosterPerson(4, "Åse Håland", "ase.haland@bergen.kommune.example"),
    RosterPerson(5, "Bjørn Kråkenes", "bjorn.krakenes@bergen.kommune.example"),
    RosterPerson(6, "Lars Jensen", "lars.jensen@vejle-kommune.example"),
    RosterPerson(7, "Hanne Dahl", "hanne.dahl@svendborg-kommune.example"),
]


def sectioned():
    return parse_teams_report(SECTIONED_FILE.read_bytes(), "Europe/Copenhagen", WEBINAR_1)


def by_name(report):
    return {a.name: a for a in report.attendees}


def test_sectioned_utf16_report():
    report = sectioned()
    assert report.layout == SECTIONED and report.encoding == "utf-16"
    assert report.title.startswith("Webinar 1 – Den digitalt")
    assert report.starts_at == datetime(2025, 5, 15, 10, 56, 10, tzinfo=UTC)
    assert report.ends_at == datetime(2025, 5, 15, 13, 3, 40, tzinfo=UTC)
    assert report.duration == timedelta(hours=2, minutes=7, seconds=30)
    people = by_name(report)
    # the rejoin is folded into one attendee; section 3 adds nobody
    assert len(report.attendees) == 9 and len(people) == 9
    soren = people["Søren Østergaard"]
    assert soren.duration == timedelta(minutes=85) and soren.rows == 2
    assert soren.first_join == datetime(2025, 5, 15, 11, 1, 15, tzinfo=UTC)
    assert soren.last_leave == datetime(2025, 5, 15, 12, 55, tzinfo=UTC)
    assert people["Anne Ærenlund"].email == "anne.aerenlund@vejle-kommune.example"
    assert people["Åse Håland (Guest)"].email is None
    assert people["Hanne Dahl"].email == "hanne.dahl@svendborg-kommune.example"  # from UPN
    assert people["Mette Bæk Sørensen"].duration == timedelta(minutes=25, seconds=12)
    assert people["Karin Kursusleder"].role == "Organizer"
    assert people["Karin Kursusleder"].line == 11


def test_the_same_report_in_utf8_with_tabs_reads_the_same():
    text = SECTIONED_FILE.read_bytes().decode("utf-16")
    again = parse_teams_report(text.encode("utf-8"), "Europe/Copenhagen", WEBINAR_1)
    assert again.encoding == "utf-8"
    assert again.attendees == sectioned().attendees
    with_bom = parse_teams_report(b"\xef\xbb\xbf" + text.encode("utf-8"), near=WEBINAR_1)
    assert with_bom.attendees == sectioned().attendees
    no_bom16 = parse_teams_report(text.encode("utf-16-le"), near=WEBINAR_1)
    assert no_bom16.encoding == "utf-16-le" and no_bom16.attendees == sectioned().attendees


def test_flat_utf8_report_pairs_joins_and_leaves():
    report = parse_teams_report(FLAT_FILE.read_bytes(), "Europe/Copenhagen", KICKOFF)
    assert report.layout == FLAT and report.encoding == "utf-8"
    people = by_name(report)
    # "4/8/2025" is 8 April here (the meeting's date), not 4 August
    assert report.starts_at == datetime(2025, 4, 8, 10, 50, 2, tzinfo=UTC)
    # rejoined after a break; the last join has no "Left" and runs to the report's end
    assert people["Søren Østergaard"].duration == timedelta(minutes=33, seconds=45) + \
        timedelta(minutes=82)
    assert people["Søren Østergaard"].rows == 3
    assert people["Mette Bæk Sørensen"].duration == timedelta(minutes=21)  # "Joined before"
    assert people["Anne Ærenlund"].duration == timedelta(hours=2, minutes=1, seconds=37)
    assert people["Gæst 4711"].duration == timedelta(minutes=6)
    assert all(a.email is None for a in report.attendees)


@pytest.mark.parametrize("value, expected", [
    ("1h 2m 3s", timedelta(hours=1, minutes=2, seconds=3)),
    ("58m 12s", timedelta(minutes=58, seconds=12)),
    ("45s", timedelta(seconds=45)),
    ("2h", timedelta(hours=2)),
    ("1 t 5 min 3 sek", timedelta(hours=1, minutes=5, seconds=3)),
    ("1:02:03", timedelta(hours=1, minutes=2, seconds=3)),
    ("47:03", timedelta(minutes=47, seconds=3)),
])
def test_durations(value, expected):
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["", "garbage", "1x 2y", "15/05/25, 13:00:00", "1h and 2m"])
def test_bad_durations(value):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)


def _table(stamp_in: str, stamp_out: str) -> bytes:
    return ("Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\n"
            f"Anne Ærenlund\t{stamp_in}\t{stamp_out}\t1h 58m\ta@x.example\n").encode()


@pytest.mark.parametrize("stamp_in, stamp_out", [
    ("15/05/25, 12:58:41", "15/05/25, 14:56:41"),  # en-GB
    ("5/15/25, 12:58:41 PM", "5/15/25, 2:56:41 PM"),  # en-US
    ("15.05.2025 12:58:41", "15.05.2025 14:56:41"),  # nb-NO / de
    ("15-05-2025 12.58.41", "15-05-2025 14.56.41"),  # da-DK (older Windows)
    ("2025-05-15 12:58:41", "2025-05-15 14:56:41"),  # ISO
    ("2025-05-15T12:58:41", "2025-05-15T14:56:41"),
])
def test_date_formats_of_several_locales(stamp_in, stamp_out):
    report = parse_teams_report(_table(stamp_in, stamp_out), "Europe/Copenhagen", WEBINAR_1)
    assert report.layout == TABLE
    (anne,) = report.attendees
    assert anne.first_join == datetime(2025, 5, 15, 10, 58, 41, tzinfo=UTC)
    assert anne.last_leave == datetime(2025, 5, 15, 12, 56, 41, tzinfo=UTC)


def test_ambiguous_day_and_month_follow_the_meeting_date():
    data = _table("05/06/25, 13:00:00", "05/06/25, 15:00:00")
    june = parse_teams_report(data, near=datetime(2025, 6, 5, 11, tzinfo=UTC))
    may = parse_teams_report(data, near=datetime(2025, 5, 6, 11, tzinfo=UTC))
    assert june.attendees[0].first_join.month == 6
    assert may.attendees[0].first_join.month == 5
    # without a meeting to compare with: day first, as in Denmark and Norway
    assert parse_teams_report(data).attendees[0].first_join.month == 6


def _errors(data: bytes) -> str:
    with pytest.raises(TeamsReportError) as caught:
        parse_teams_report(data, near=WEBINAR_1)
    return str(caught.value)


def test_bad_files_say_which_line_and_what_was_expected():
    text = SECTIONED_FILE.read_bytes().decode("utf-16")
    bad_duration = text.replace("25m 12s", "25 minutter og lidt")
    assert _errors(bad_duration.encode("utf-16")).startswith(
        "line 14, column In-Meeting Duration: '25 minutter og lidt' is not a duration")
    bad_date = text.replace("15/05/25, 13:04:00", "15/05/25 kl. 13")
    assert _errors(bad_date.encode("utf-16")).startswith("line 14: the join time '15/05/25 kl.")
    impossible = text.replace("15/05/25, 13:04:00", "35/15/25, 13:04:00")
    assert "line 14: '35/15/25, 13:04:00' is not a date and time" in _errors(
        impossible.encode("utf-16"))
    no_participants = text.split("2. Participants")[0]
    assert _errors(no_participants.encode("utf-16")) == (
        "line 1: the report has no participants section: expected a line '2. Participants' "
        "followed by the header Name, First Join, Last Leave, In-Meeting Duration, Email, Role")
    wrong_header = text.replace("Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\t"
                                "Participant ID (UPN)\tRole", "Foo\tBar\tBaz")
    assert _errors(wrong_header.encode("utf-16")).startswith(
        "line 10: expected the participants header Name, First Join")


def test_unknown_files_are_refused_clearly():
    assert _errors(b"") == "the file is empty"
    assert _errors("\ufeff".encode("utf-16")) == "the file is empty"
    assert "Excel workbook" in _errors(b"PK\x03\x04rest-of-a-zip")
    assert "PDF" in _errors(b"%PDF-1.7 ...")
    message = _errors(b"navn;e-mail\nAnne;anne@x.example\n")
    assert message.startswith("line 1: this does not look like a Teams attendance report")
    assert "found 'navn, e-mail'" in message
    assert _errors(b"Full Name\tUser Action\tTimestamp\nAnne\tWaved\t4/8/2025, 1:00:00 PM\n") \
        == "line 2: expected the action Joined, Joined before or Left; found 'Waved'"


def test_a_file_that_is_no_report_says_so_with_a_code_for_other_languages():
    """The page words these in the reader's language by their code (web/formatting.py)."""
    def code(data: bytes) -> tuple[str, dict]:
        with pytest.raises(TeamsReportError) as caught:
            parse_teams_report(data, near=WEBINAR_1)
        return caught.value.code, dict(caught.value.params)

    assert code(b"") == ("empty_file", {})
    assert code(b"PK\x03\x04rest-of-a-zip") == ("xlsx_report", {})
    assert code(b"%PDF-1.7 ...") == ("pdf_report", {})
    wrong, params = code(codecs.BOM_UTF8 + b"Name\tFirst Join\n\xe6ble\n")
    assert (wrong, params["encoding"]) == ("report_encoding", "utf-8-sig")
    assert code(b"navn;e-mail\nAnne;anne@x.example\n") == ("not_a_report", {
        "header": "Name, First Join, Last Leave, In-Meeting Duration, Email, Role",
        "flat": "Full Name, User Action, Timestamp", "found": "navn, e-mail"})


def test_a_report_that_breaks_off_says_so_with_a_code_for_other_languages():
    """Every refusal of a report's layout or times has a code (the page words it in da, nb
    and en) with the line, the columns and the cell it found as parameters."""
    def code(text: str, encoding: str = "utf-16") -> tuple[str, dict]:
        with pytest.raises(TeamsReportError) as caught:
            parse_teams_report(text.encode(encoding), near=WEBINAR_1)
        return caught.value.code, dict(caught.value.params)

    text = SECTIONED_FILE.read_bytes().decode("utf-16")
    header = "Name, First Join, Last Leave, In-Meeting Duration, Email, Role"
    assert code(text.split("2. Participants")[0]) == ("no_participants_section",
                                                       {"header": header})
    assert code(text.split("Name\tFirst Join")[0]) == ("participants_section_empty",
                                                        {"header": header})
    wrong_header = text.replace("Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\t"
                                "Participant ID (UPN)\tRole", "Foo\tBar\tBaz")
    assert code(wrong_header) == ("participants_header_expected",
                                  {"header": header, "found": "Foo, Bar, Baz"})
    lonely = text.replace("Karin Kursusleder\t", "Karin Kursusleder\n\t", 1)
    kind, params = code(lonely)
    assert (kind, params["line"], params["found"]) == ("participant_row_expected", 10,
                                                        "Karin Kursusleder")
    assert params["header"].startswith("Name, First Join, Last Leave")
    assert code(text.replace("15/05/25, 13:04:00", "15/05/25 kl. 13")) == (
        "join_time_unreadable", {"value": "15/05/25 kl. 13"})
    assert code(text.replace("15/05/25, 14:55:00", "kl. 15")) == (
        "leave_time_unreadable", {"value": "kl. 15"})
    assert code(text.replace("15/05/25, 12:56:10", "snart", 1)) == (
        "start_time_unreadable", {"value": "snart"})
    assert code(text.replace("15/05/25, 15:03:40", "sent", 1)) == (
        "end_time_unreadable", {"value": "sent"})
    assert code(text.replace("15/05/25, 13:04:00", "35/15/25, 13:04:00")) == (
        "date_unreadable", {"value": "35/15/25, 13:04:00"})
    assert code(text.replace("25m 12s", "25 minutter og lidt")) == (
        "duration_unreadable", {"value": "25 minutter og lidt"})
    flat = "Full Name\tUser Action\tTimestamp\n"
    assert code(flat + "Anne\tWaved\t4/8/2025, 1:00:00 PM\n", "utf-8") == (
        "action_expected", {"found": "Waved"})
    assert code(flat + "Anne\tJoined\t\n", "utf-8") == ("timestamp_empty", {})
    assert code(flat + "Anne\tJoined\tnu\n", "utf-8") == ("timestamp_unreadable",
                                                              {"value": "nu"})
    assert code(flat, "utf-8") == ("no_attendees",
                                   {"header": "Full Name, User Action, Timestamp"})


def test_semicolon_file_resaved_by_danish_excel():
    data = ("Navn;Første deltagelse;Sidste afgang;Varighed i mødet;E-mail\n"
            "Søren Østergaard;15-05-2025 13:01:15;15-05-2025 14:55:00;1 t 25 min;"
            "soeren@x.example\n").encode("cp1252")
    report = parse_teams_report(data, near=WEBINAR_1)
    assert report.encoding == "cp1252"
    (soren,) = report.attendees
    assert soren.name == "Søren Østergaard" and soren.duration == timedelta(minutes=85)


def test_name_keys_tolerate_spelling_order_and_guest_tags():
    key = name_keys("Søren Østergaard")
    assert key & name_keys("soeren oestergaard")
    assert key & name_keys("Soren Ostergaard")
    assert key & name_keys("Østergaard, Søren (Guest)")
    assert name_keys("Åse Håland") & name_keys("ÅSE HÅLAND (Gæst)")
    assert not key & name_keys("Søren Østergaard Hansen")


def test_matching_email_first_then_names_for_confirmation():
    matches = {m.attendee.name: m for m in match_rows(sectioned().attendees, ROSTER)}
    assert matches["Anne Ærenlund"].matched_by == BY_EMAIL and matches["Anne Ærenlund"].confirmed
    assert matches["Hanne Dahl"].participant_id == 7 and matches["Hanne Dahl"].matched_by == \
        BY_EMAIL
    for name, pid in (("Åse Håland (Guest)", 4), ("Kråkenes, Bjørn", 5)):
        assert matches[name].participant_id == pid and matches[name].matched_by == BY_NAME
        assert not matches[name].confirmed
    for name in ("Karin Kursusleder", "Peter Nielsen", "iPhone"):
        assert matches[name].participant_id is None


def test_two_people_with_one_name_are_never_guessed():
    twins = [RosterPerson(1, "Lars Jensen", "lars1@x.example"),
             RosterPerson(2, "Lars Jensen", "lars2@x.example")]
    report = parse_teams_report(
        b"Name\tIn-Meeting Duration\tEmail\nLars Jensen\t1h\t\n", near=WEBINAR_1)
    (match,) = match_rows(report.attendees, twins, confirmed_lines=True)
    assert match.participant_id is None and match.candidates == (1, 2)
    (assigned,) = match_rows(report.attendees, twins, assignments={2: 2})
    assert assigned.participant_id == 2 and assigned.matched_by == BY_HAND
    with pytest.raises(ImportRefused, match="not in this cohort"):
        match_rows(report.attendees, twins, assignments={2: 99})


def test_import_plan_applies_the_duration_bar():
    plan = plan_import(sectioned(), ROSTER, WEBINAR_1, timedelta(hours=2))
    assert plan.meeting_length == timedelta(hours=2) and plan.threshold == timedelta(hours=1)
    states = {pid: m.state for pid, m in plan.marks.items()}
    assert states == {1: PRESENT, 2: PRESENT, 3: ABSENT, 6: ABSENT, 7: PRESENT}
    assert plan.marks[3].note == "25 of 120 min in the meeting"
    assert plan.marks[6].note == "not in the report" and plan.not_in_report == [6]
    assert {m.participant_id for m in plan.to_confirm} == {4, 5}  # left unmarked for now
    assert sorted(m.attendee.name for m in plan.unmatched) == [
        "Karin Kursusleder", "Peter Nielsen", "iPhone"]
    assert plan.warnings == []


def test_confirmed_names_and_other_bars():
    confirmed = plan_import(sectioned(), ROSTER, WEBINAR_1, timedelta(hours=2),
                            confirmed_lines=True)
    assert confirmed.marks[4].state == PRESENT and confirmed.marks[5].state == PRESENT
    assert confirmed.to_confirm == []
    one_line = plan_import(sectioned(), ROSTER, WEBINAR_1, timedelta(hours=2),
                           confirmed_lines={15})  # Åse's line only
    assert 4 in one_line.marks and 5 not in one_line.marks
    strict = plan_import(sectioned(), ROSTER, WEBINAR_1, timedelta(hours=2), min_percent=75)
    assert strict.marks[2].state == ABSENT  # 85 of 120 minutes < 90
    assert plan_import(sectioned(), ROSTER, WEBINAR_1, timedelta(hours=2),
                       min_percent=20).marks[3].state == PRESENT
    with pytest.raises(ImportRefused, match="0-100"):
        plan_import(sectioned(), ROSTER, WEBINAR_1, timedelta(hours=2), min_percent=150)


def test_a_meeting_cut_short_lowers_the_bar_and_a_wrong_date_warns():
    report = parse_teams_report(FLAT_FILE.read_bytes(), near=KICKOFF)  # 2h 12m recorded
    plan = plan_import(report, ROSTER, KICKOFF, timedelta(hours=3))
    assert plan.meeting_length == report.duration
    wrong = plan_import(sectioned(), ROSTER, KICKOFF, timedelta(hours=2))
    assert "is it the right file?" in wrong.warnings[0] and wrong.other_date
    assert not plan.other_date


def test_report_without_durations_counts_everyone_listed_as_present():
    data = ("1. Summary\nMeeting title\tWebinar 1\nStart time\t15/05/25, 12:56:10\n\n"
            "2. Participants\nName\tEmail\tRole\n"
            "Anne Ærenlund\tanne.aerenlund@vejle-kommune.example\tAttendee\n").encode("utf-16")
    report = parse_teams_report(data, near=WEBINAR_1)
    assert report.attendees[0].duration is None
    plan = plan_import(report, ROSTER, WEBINAR_1, timedelta(hours=2))
    assert plan.marks[1].state == PRESENT and plan.marks[2].state == ABSENT
    assert plan.warnings == ["the report has no in-meeting durations; everyone listed counts "
                             "as present"]
