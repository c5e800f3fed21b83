"""Attendance use cases against real databases (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cohort import db, services
from cohort.core.attendance import (
    ABSENT,
    EXCUSED,
    PRESENT,
    SOURCE_CHECK_IN,
    SOURCE_FACILITATOR,
    SOURCE_IMPORT,
    AttendanceError,
    Mark,
)
from cohort.core.attendance_import import ImportRefused
from cohort.core.participants import ParticipantRow
from cohort.core.teams_attendance import TeamsReportError
from cohort.models import Attendance, AttendanceImport, Delivery, Meeting, Participant
from tests.fixtures.attendance import AFTER_WEBINAR_1, PEOPLE, ids_by_first_name, record_marks
from tests.fixtures.paths import FIXTURES


@pytest.fixture
def cohort_id(engine, make_cohort):
    return make_cohort(engine, people=PEOPLE).id


def catch_ups(engine, cohort_id) -> dict[tuple[str, str], str]:
    with db.transaction(engine) as session:
        rows = session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.kind == "catch_up"))
        return {(d.anchor, d.recipient.split(".")[0]): d.state for d in rows}


def marks(engine, cohort_id, meeting_key) -> dict[int, tuple[str, str]]:
    with db.transaction(engine) as session:
        sheet = services.meeting_sheet(session, cohort_id, meeting_key)
        return {r.participant.id: (r.attendance.state, r.attendance.source)
                for r in sheet.rows if r.attendance}


def test_catch_up_is_created_once_per_absence_and_cancelled_when_corrected(engine, cohort_id):
    who = ids_by_first_name(engine, cohort_id)
    anne = who["Anne"]
    result = record_marks(engine, cohort_id, "webinar-1",
                       {anne: Mark(ABSENT), who["Søren"]: Mark(PRESENT)})
    assert result.catch_ups_created == 1 and sorted(result.changed) == sorted(
        [anne, who["Søren"]])
    assert catch_ups(engine, cohort_id) == {("catch-up:webinar-1", "anne"): "pending"}
    with db.transaction(engine) as session:
        delivery = session.scalars(select(Delivery).where(Delivery.kind == "catch_up")).one()
        assert delivery.participant_id == anne
        # The next working day, inside the email Anne gets that day anyway (11:00 local).
        assert delivery.send_at == datetime(2025, 5, 16, 9, 0, tzinfo=UTC)
        assert session.scalars(select(Delivery.kind).where(
            Delivery.recipient == delivery.recipient, Delivery.send_at == delivery.send_at,
            Delivery.kind != "catch_up")).first() is not None
        content = services.catch_up_content(session, delivery)
    assert content.meeting_title == "Webinar 1" and content.next_meeting_key == "webinar-2"
    assert content.question.startswith("Hvordan fremmer du medarbejdernes kompetencer")
    assert "De psykologiske grundbehov" in content.content
    assert content.tasks and all(t.due_at < content.next_meeting_starts_at
                                 for t in content.tasks)

    # the same absence again, or changed to excused: still the one delivery
    record_marks(engine, cohort_id, "webinar-1", {anne: Mark(ABSENT, "ringede ikke")})
    record_marks(engine, cohort_id, "webinar-1", {anne: Mark(EXCUSED, "syg")})
    assert catch_ups(engine, cohort_id) == {("catch-up:webinar-1", "anne"): "pending"}

    corrected = record_marks(engine, cohort_id, "webinar-1", {anne: Mark(PRESENT)})
    assert corrected.catch_ups_cancelled == 1
    assert catch_ups(engine, cohort_id) == {("catch-up:webinar-1", "anne"): "cancelled"}

    record_marks(engine, cohort_id, "webinar-1", {anne: Mark(ABSENT)})  # wrong again: revived
    assert catch_ups(engine, cohort_id) == {("catch-up:webinar-1", "anne"): "pending"}
    record_marks(engine, cohort_id, "webinar-1", {anne: None})  # cleared: cancelled
    assert catch_ups(engine, cohort_id) == {("catch-up:webinar-1", "anne"): "cancelled"}
    assert anne not in marks(engine, cohort_id, "webinar-1")


def test_a_sent_catch_up_is_never_sent_again_nor_cancelled(engine, cohort_id):
    anne = ids_by_first_name(engine, cohort_id)["Anne"]
    record_marks(engine, cohort_id, "webinar-1", {anne: Mark(ABSENT)})
    with db.transaction(engine) as session:
        delivery = session.scalars(select(Delivery).where(Delivery.kind == "catch_up")).one()
        delivery.state, delivery.sent_at = "sent", AFTER_WEBINAR_1 + timedelta(days=1)
    later = AFTER_WEBINAR_1 + timedelta(days=2)
    record_marks(engine, cohort_id, "webinar-1", {anne: Mark(PRESENT)}, now=later)
    record_marks(engine, cohort_id, "webinar-1", {anne: Mark(ABSENT)}, now=later)
    assert catch_ups(engine, cohort_id) == {("catch-up:webinar-1", "anne"): "sent"}


def test_no_catch_up_once_the_next_meeting_has_begun(engine, cohort_id):
    anne = ids_by_first_name(engine, cohort_id)["Anne"]
    result = record_marks(engine, cohort_id, "kickoff", {anne: Mark(ABSENT)})  # workshop 1 is past
    assert result.changed == [anne] and result.catch_ups_created == 0
    assert catch_ups(engine, cohort_id) == {}


def test_rescheduling_leaves_catch_ups_alone(engine, cohort_id):
    anne = ids_by_first_name(engine, cohort_id)["Anne"]
    record_marks(engine, cohort_id, "webinar-1", {anne: Mark(ABSENT)})
    with db.transaction(engine) as session:
        services.meetings.reschedule(session, cohort_id, "webinar-2",
                                     datetime(2025, 6, 19, 11, 0, tzinfo=UTC), None,
                                     now=AFTER_WEBINAR_1)
    assert catch_ups(engine, cohort_id) == {("catch-up:webinar-1", "anne"): "pending"}


def test_bad_marks_save_nothing(engine, cohort_id):
    who = ids_by_first_name(engine, cohort_id)
    with pytest.raises(services.NotFound, match="not in cohort"), \
            db.transaction(engine) as session:
        services.set_marks(session, cohort_id, "webinar-1",
                           {who["Anne"]: Mark(ABSENT), 9999: Mark(PRESENT)}, now=AFTER_WEBINAR_1)
    with pytest.raises(AttendanceError, match="not started"), db.transaction(engine) as session:
        services.set_marks(session, cohort_id, "webinar-2",
                           {who["Anne"]: Mark(ABSENT)}, now=AFTER_WEBINAR_1)
    with pytest.raises(services.NotFound), db.transaction(engine) as session:
        services.set_marks(session, cohort_id, "webinar-9", {}, now=AFTER_WEBINAR_1)
    assert marks(engine, cohort_id, "webinar-1") == {}
    assert catch_ups(engine, cohort_id) == {}
    # excused in advance is allowed, and queues the catch-up for after the meeting
    record_marks(engine, cohort_id, "webinar-2", {who["Anne"]: Mark(EXCUSED, "ferie")})
    assert catch_ups(engine, cohort_id) == {("catch-up:webinar-2", "anne"): "pending"}


# --- check-in -------------------------------------------------------------------------------

WORKSHOP_1_START = datetime(2025, 4, 17, 7, 0, tzinfo=UTC)  # 09:00 local, in person, 6 h


def workshop(engine, cohort_id) -> Meeting:
    with db.transaction(engine) as session:
        return services.get_meeting(session, cohort_id, "workshop-1")


def test_check_in_needs_the_room_code_and_the_time_window(engine, cohort_id, make_cohort):
    who = ids_by_first_name(engine, cohort_id)
    meeting = workshop(engine, cohort_id)
    assert meeting.format == "in_person"
    during = WORKSHOP_1_START + timedelta(minutes=20)

    def attempt(pid, code, now, meeting_id=meeting.id):
        with db.transaction(engine) as session:
            return services.check_in(session, pid, meeting_id, code, now)

    with pytest.raises(services.CheckInRefused) as refused:
        attempt(who["Anne"], "AAAAAA", during)
    assert refused.value.decision.reason == "no_code_yet"
    with db.transaction(engine) as session:
        code = services.check_in_code(session, cohort_id, "workshop-1", "karin")
        assert services.check_in_code(session, cohort_id, "workshop-1") == code  # stable
    wrong = "AAAAAA" if code != "AAAAAA" else "CCCCCC"
    for pid, typed, now, reason in [
        (who["Anne"], wrong, during, "wrong_code"),
        (who["Anne"], code, WORKSHOP_1_START - timedelta(hours=1), "too_early"),
        (who["Anne"], code, WORKSHOP_1_START + timedelta(hours=7), "too_late"),
    ]:
        with pytest.raises(services.CheckInRefused) as refused:
            attempt(pid, typed, now)
        assert refused.value.decision.reason == reason
    assert marks(engine, cohort_id, "workshop-1") == {}

    # a participant of another cohort, with the right code, at the right time
    other = make_cohort(engine, people=[ParticipantRow("Ulla Winther", "ulla@aabenraa.example")])
    with db.transaction(engine) as session:
        stranger = session.scalars(select(Participant.id).where(
            Participant.cohort_id == other.id)).one()
    with pytest.raises(services.CheckInRefused) as refused:
        attempt(stranger, code, during)
    assert refused.value.decision.reason == "not_your_meeting"

    row = attempt(who["Anne"], code.lower()[:3] + "-" + code.lower()[3:], during)
    assert (row.state, row.source, row.recorded_by) == (
        PRESENT, SOURCE_CHECK_IN, "anne.aerenlund@vejle-kommune.example")
    assert attempt(who["Anne"], code, during).id == row.id  # twice is harmless


def test_check_in_corrects_an_absence_and_cancels_its_catch_up(engine, cohort_id):
    anne = ids_by_first_name(engine, cohort_id)["Anne"]
    meeting = workshop(engine, cohort_id)
    during = WORKSHOP_1_START + timedelta(minutes=30)
    record_marks(engine, cohort_id, "workshop-1", {anne: Mark(ABSENT)}, now=during)
    assert catch_ups(engine, cohort_id) == {("catch-up:workshop-1", "anne"): "pending"}
    with db.transaction(engine) as session:
        code = services.check_in_code(session, cohort_id, "workshop-1")
        services.check_in(session, anne, meeting.id, code, during + timedelta(minutes=5))
    assert marks(engine, cohort_id, "workshop-1") == {anne: (PRESENT, SOURCE_CHECK_IN)}
    assert catch_ups(engine, cohort_id) == {("catch-up:workshop-1", "anne"): "cancelled"}
    with db.transaction(engine) as session:
        renewed = services.check_in_code(session, cohort_id, "workshop-1", renew=True)
        own = services.participant_attendance(session, anne, during)
    assert renewed != code
    by_key = {r.meeting.key: r for r in own}
    assert by_key["workshop-1"].attendance.state == PRESENT
    assert by_key["workshop-1"].check_in.accepted and by_key["workshop-1"].needs_code
    assert not by_key["webinar-1"].needs_code
    assert by_key["kickoff"].check_in.reason == "too_late"
    assert by_key["webinar-1"].check_in.reason == "too_early"


# --- importing Teams reports ----------------------------------------------------------------

def counts(engine) -> tuple[int, int, int]:
    with db.transaction(engine) as session:
        return tuple(session.scalar(select(func.count()).select_from(model).where(*where))
                     for model, where in ((Attendance, ()), (AttendanceImport, ()),
                                          (Delivery, (Delivery.kind == "catch_up",))))


def test_import_utf16_sectioned_report_with_unmatched_and_duplicate_rows(engine, cohort_id):
    who = ids_by_first_name(engine, cohort_id)
    record_marks(engine, cohort_id, "webinar-1", {who["Lars"]: Mark(EXCUSED, "kursus")})
    data = (FIXTURES / "teams_webinar-1_sectioned_utf16.csv").read_bytes()
    with db.transaction(engine) as session:
        preview = services.preview_teams_import(session, cohort_id, "webinar-1", data)
    assert counts(engine) == (1, 0, 1)  # a preview writes nothing
    assert set(preview.kept) == {who["Lars"]}

    with db.transaction(engine) as session:
        outcome = services.apply_teams_import(session, cohort_id, "webinar-1", data,
                                              filename="webinar1.csv", now=AFTER_WEBINAR_1)
    got = marks(engine, cohort_id, "webinar-1")
    assert got == {
        who["Anne"]: (PRESENT, SOURCE_IMPORT), who["Søren"]: (PRESENT, SOURCE_IMPORT),
        who["Mette"]: (ABSENT, SOURCE_IMPORT), who["Hanne"]: (PRESENT, SOURCE_IMPORT),
        who["Lars"]: (EXCUSED, SOURCE_FACILITATOR),  # the facilitator's mark is kept
    }  # Åse and Bjørn (name matches) wait for confirmation
    assert outcome.result.kept == [who["Lars"]]
    assert catch_ups(engine, cohort_id) == {("catch-up:webinar-1", "lars"): "pending",
                                            ("catch-up:webinar-1", "mette"): "pending"}
    with db.transaction(engine) as session:
        log = session.get(AttendanceImport, outcome.import_id)
        soren = session.scalars(select(Attendance).where(
            Attendance.participant_id == who["Søren"])).one()
    assert soren.seconds_in_meeting == 85 * 60 and soren.recorded_by == "import:webinar1.csv"
    assert log.rows == 9 and log.layout == "sectioned"
    assert sorted(u["name"] for u in log.unmatched) == [
        "Karin Kursusleder", "Kråkenes, Bjørn", "Peter Nielsen", "iPhone",
        "Åse Håland (Guest)"]

    # the facilitator confirms the name matches: the same file again, nothing doubled
    with db.transaction(engine) as session:
        services.apply_teams_import(session, cohort_id, "webinar-1", data,
                                    confirmed_lines=True, now=AFTER_WEBINAR_1)
    got = marks(engine, cohort_id, "webinar-1")
    assert got[who["Åse"]] == (PRESENT, SOURCE_IMPORT)
    assert got[who["Bjørn"]] == (PRESENT, SOURCE_IMPORT)
    assert counts(engine) == (7, 2, 2)


def test_import_flat_utf8_report(engine, cohort_id):
    who = ids_by_first_name(engine, cohort_id)
    data = (FIXTURES / "teams_kickoff_flat_utf8.csv").read_bytes()
    with db.transaction(engine) as session:
        outcome = services.apply_teams_import(
            session, cohort_id, "kickoff", data, confirmed_lines=True,
            now=datetime(2025, 4, 8, 14, 0, tzinfo=UTC))
    assert outcome.preview.report.layout == "flat"
    got = {pid: state for pid, (state, _source) in marks(engine, cohort_id, "kickoff").items()}
    assert got == {who["Anne"]: PRESENT, who["Søren"]: PRESENT, who["Åse"]: PRESENT,
                   who["Mette"]: ABSENT, who["Bjørn"]: ABSENT, who["Lars"]: ABSENT,
                   who["Hanne"]: ABSENT}
    assert [m.attendee.name for m in outcome.preview.plan.unmatched] == [
        "Karin Kursusleder", "Gæst 4711"]
    assert len(catch_ups(engine, cohort_id)) == 4


def test_bad_or_mismatched_reports_save_nothing(engine, cohort_id):
    good = (FIXTURES / "teams_webinar-1_sectioned_utf16.csv").read_bytes()
    broken = good.decode("utf-16").replace("25m 12s", "lidt").encode("utf-16")
    with pytest.raises(TeamsReportError, match="line 14"), db.transaction(engine) as session:
        services.apply_teams_import(session, cohort_id, "webinar-1", broken,
                                    now=AFTER_WEBINAR_1)
    with pytest.raises(ImportRefused, match="right file"), db.transaction(engine) as session:
        services.apply_teams_import(session, cohort_id, "webinar-2", good,
                                    now=datetime(2025, 6, 12, 14, tzinfo=UTC))
    with pytest.raises(ImportRefused, match="not taken place"), \
            db.transaction(engine) as session:
        services.apply_teams_import(session, cohort_id, "webinar-1", good,
                                    now=datetime(2025, 5, 1, tzinfo=UTC))
    assert counts(engine) == (0, 0, 0)
    with db.transaction(engine) as session:  # the facilitator insists: another day's file
        services.apply_teams_import(session, cohort_id, "webinar-2", good,
                                    allow_other_date=True,
                                    now=datetime(2025, 6, 12, 14, tzinfo=UTC))
    assert counts(engine)[1] == 1
