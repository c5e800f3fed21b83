"""Data protection on the demo cohort (32 people, attendance, identified and anonymous answers):
a participant's export, their erasure, and the retention purge. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import MetaData, select

from cohort import db, services
from cohort.models import (
    ActivityEntry,
    AnonymousResponse,
    AttendanceImport,
    BuddyCheckIn,
    Cohort,
    Delivery,
    Group,
    GroupMember,
    IdentifiedResponse,
    Participant,
    Prompt,
    Survey,
    Task,
)
from cohort.services import buddy_check_ins, privacy
from cohort.services.dashboard import response_rates
from tests.fixtures.attendance import AFTER_WEBINAR_1
from tests.fixtures.attendance import PEOPLE as ATTENDANCE_PEOPLE
from tests.fixtures.database_copies import load_demo_copy
from tests.fixtures.paths import FIXTURES

TODAY = date(2025, 5, 20)
NOW = datetime(2025, 5, 20, 12, 0, tzinfo=UTC)
SECRET = "test"


@pytest.fixture
def demo(engine, database_copies):
    """The demo cohort, and one identified respondent with answers, notes, links and a feed."""
    demo_cohorts = load_demo_copy(database_copies, engine, today=TODAY)
    cohort_id = demo_cohorts.running
    with db.transaction(engine) as session:
        person = session.get(Participant, session.scalars(
            select(IdentifiedResponse.participant_id)
            .join(Participant, Participant.id == IdentifiedResponse.participant_id)
            .where(Participant.cohort_id == cohort_id).order_by(IdentifiedResponse.id)).first())
        prompt = session.scalars(select(Prompt).where(Prompt.cohort_id == cohort_id)
                                 .order_by(Prompt.send_at)).first()
        services.answer_prompt(session, person, prompt.id, "Mit team skal lære at sige fra.",
                               NOW)
        task = session.scalars(select(Task).where(Task.cohort_id == cohort_id)
                               .order_by(Task.release_at)).first()
        services.set_task_status(session, person, task.id, done=True,
                                 note="Talte med Hanne om casen", now=NOW)
        # Groups are formed by a later feature; one buddy pair by hand.
        group = Group(cohort_id=cohort_id, grouping_key="buddies", number=1)
        session.add(group)
        session.flush()
        other = session.scalars(select(Participant.id).where(Participant.id != person.id,
                                                        Participant.cohort_id == cohort_id)).first()
        session.add_all([GroupMember(group_id=group.id, participant_id=person.id),
                         GroupMember(group_id=group.id, participant_id=other)])
        buddy_task = session.scalars(select(Task).where(
            Task.cohort_id == cohort_id, Task.kind == "buddy_exchange", Task.release_at <= NOW)
            .order_by(Task.release_at)).first()
        services.record_check_in(session, person, buddy_task.id, "met", NOW,
                                 note="Vi gennemgik Hannes vagtplan", shared=True)
        token = services.personal_token(session, person.id, SECRET, NOW)
        feed = services.calendar_feed_token(session, person.id, SECRET)
        services.participants.update_participant(
            session, cohort_id, person.id, services.participants.ParticipantRow(
                person.name, person.email, person.organisation, "Områdeleder", "da"),
            None, NOW)
        return dict(cohort_id=cohort_id, finished_id=demo_cohorts.finished, id=person.id,
                    email=person.email, name=person.name, token=token, feed=feed)


def test_export_holds_everything_stored_about_them_and_no_anonymous_answer(engine, demo):
    with db.transaction(engine) as session:
        person = privacy.find_participant(session, demo["cohort_id"], demo["email"].upper())
        data = privacy.participant_export(session, person, NOW)
        anonymous_ids = set(session.scalars(select(AnonymousResponse.id)))
    text = json.dumps(data, ensure_ascii=False)
    assert data["participant"]["email"] == demo["email"]
    assert data["participant"]["role"] == "Områdeleder"
    assert data["identified_answers"] and data["identified_answers"][0]["answers"]
    assert {a["survey"] for a in data["identified_answers"]} <= {"self-assessment-pre",
                                                                 "self-assessment-post"}
    assert data["prompt_answers"][0]["answer"] == "Mit team skal lære at sige fra."
    assert data["tasks"][0]["note"] == "Talte med Hanne om casen"
    (check_in,) = [c for c in data["buddy_check_ins"] if c["task"] == "buddy-exchange@workshop-1"]
    assert (check_in["answer"], check_in["note"], check_in["shared"]) == (
        "met", "Vi gennemgik Hannes vagtplan", True)
    assert len(data["attendance"]) >= 3 and data["groups"]
    # The pair each released round keeps for them (frozen by their check-in).
    assert {r["task"] for r in data["buddy_rounds"]} >= {"buddy-exchange@workshop-1"}
    assert len(data["survey_invitations"]) >= 6
    assert data["emails"] and {e["to"] for e in data["emails"]} == {demo["email"]}
    assert data["personal_links"] and data["calendar_feed"]
    assert demo["token"] not in text and demo["feed"] not in text  # the secrets stay secret
    assert any(e["action"] == "participant_updated" for e in data["activity_log"])
    assert not any(i in text for i in anonymous_ids)


def figures(session, cohort_id: int) -> dict:
    """What the cohort's results are made of: must not change when someone is erased."""
    surveys = session.scalars(select(Survey).where(Survey.cohort_id == cohort_id)
                              .order_by(Survey.id)).all()
    return {
        # Free-text answers are shown in random order: the same order for the comparison.
        "results": [repr(services.survey_results(session, s.id, rng=random.Random(1)))
                    for s in surveys],
        "change": repr(services.self_assessment_change(session, cohort_id,
                                                       "self-assessment-post")),
        "rates": [(r.survey.key, r.invited, r.completed)
                  for r in response_rates(session, cohort_id, NOW)],
        "attendance": repr(services.attendance_summary(session, cohort_id).meetings),
        "anonymous": sorted((a.id, json.dumps(a.answers, sort_keys=True), a.breakdown_value)
                            for a in session.scalars(select(AnonymousResponse))),
        # The buddy rounds' counts, and their export (one row per pair and round).
        "buddy": [repr(row) for row in buddy_check_ins.buddy_round_counts(session, cohort_id, NOW)],
        "buddy_pairs": [repr(row) for row in
                        buddy_check_ins.buddy_rounds_table(session, cohort_id, NOW).rows],
    }


def everything_stored(engine) -> str:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        return "\n".join(json.dumps([list(map(str, row)) for row in conn.execute(t.select())],
                                    ensure_ascii=False) for t in metadata.sorted_tables)


def test_erasure_removes_the_person_and_keeps_every_result(engine, demo):
    with db.transaction(engine) as session:
        before = figures(session, demo["cohort_id"])
        pending = session.scalars(select(Delivery).where(
            Delivery.participant_id == demo["id"], Delivery.state == "pending")).all()
        assert pending
        person = privacy.find_participant(session, demo["cohort_id"], demo["email"])
        erased = privacy.erase_participant(session, person, None, NOW)
    assert erased.emails_cancelled == len(pending) and erased.prompt_answers == 1
    assert erased.log_entries_redacted >= 1
    stored = everything_stored(engine)
    assert demo["email"] not in stored and demo["name"] not in stored
    assert "Mit team skal lære" not in stored and "Talte med Hanne" not in stored
    assert "Hannes vagtplan" not in stored
    with db.transaction(engine) as session:
        after = figures(session, demo["cohort_id"])
        for key in before:
            for old, new in zip(before[key], after[key], strict=True):
                assert old == new, f"{key}: {old[:3000]}\n!=\n{new[:3000]}"
        # The check-in is kept like attendance (an identified answer, not an anonymous
        # one), without the note: the rounds' figures do not change.
        kept = session.scalars(select(BuddyCheckIn).where(
            BuddyCheckIn.participant_id == demo["id"])).all()
        assert [(c.answer, c.note, c.shared) for c in kept] == [("met", "", False)]
        row = session.get(Participant, demo["id"])
        assert row.erased_at is not None and row.name == privacy.ERASED_NAME
        assert (row.organisation, row.role) == ("", "")
        assert services.access_by_token(session, demo["token"], NOW) is None
        with pytest.raises(services.NotFound):
            services.feed_calendar(session, demo["feed"])
        assert demo["id"] not in {p.id for p in services.participants.list_participants(
            session, demo["cohort_id"])}
        assert not session.scalars(select(Delivery).where(
            Delivery.participant_id == demo["id"], Delivery.state == "pending")).all()
        last = session.scalars(select(ActivityEntry).order_by(ActivityEntry.id.desc())).first()
        assert (last.action, last.details) == ("participant_erased", {"participant": demo["id"]})
        with pytest.raises(services.NotFound):
            privacy.find_participant(session, demo["cohort_id"], demo["email"])
        # Re-planning never writes to the erased placeholder again.
        services.meetings.reschedule(session, demo["cohort_id"], "webinar-3",
                                     datetime(2025, 6, 24, 11, 0, tzinfo=UTC), None, NOW)
        assert not session.scalars(select(Delivery).where(
            Delivery.participant_id == demo["id"], Delivery.state == "pending")).all()


def test_purge_erases_cohorts_ended_longer_ago_than_the_retention(engine, demo):
    with db.transaction(engine) as session:
        cohort = session.get(Cohort, demo["cohort_id"])
        ended = services.participant_access.cohort_ends_at(session, cohort)
        before = figures(session, demo["cohort_id"])
        # The demo's finished cohort ended a year earlier: it goes first, this one stays.
        assert [p.cohort_id for p in privacy.purge_ended_cohorts(
            session, timedelta(days=30), ended)] == [demo["finished_id"]]
        later = ended + timedelta(days=31)
        (purged,) = privacy.purge_ended_cohorts(session, timedelta(days=30), later)
    assert (purged.cohort_id, purged.participants) == (demo["cohort_id"], 32)
    with db.transaction(engine) as session:
        assert figures(session, demo["cohort_id"]) == before
        assert session.get(Cohort, demo["cohort_id"]).personal_data_purged_at == later
        assert all(p.erased_at == later for p in session.scalars(select(Participant).where(
                Participant.cohort_id == demo["cohort_id"])))
        assert privacy.purge_ended_cohorts(session, timedelta(days=30), later) == []
        actions = [e.action for e in session.scalars(select(ActivityEntry).where(
            ActivityEntry.action.in_(("participant_erased", "personal_data_purged"))))]
        assert actions == ["personal_data_purged"] * 2
    assert demo["email"] not in everything_stored(engine)


def test_erasure_leaves_no_trace_of_earlier_addresses_or_teams_rows(engine, make_cohort):
    """Change someone's address and name, import a Teams report that names them (by their
    old address, and by a spelling of their name), erase them: neither address nor name is
    left anywhere in the database (every table's text)."""
    cohort_id = make_cohort(engine, people=ATTENDANCE_PEOPLE).id
    old_email, new_email = "bjorn.krakenes@bergen.kommune.example", "bk@nyt-arbejde.example"
    with db.transaction(engine) as session:
        bjorn = privacy.find_participant(session, cohort_id, old_email)
        bjorn_id = bjorn.id
        services.participants.update_participant(
            session, cohort_id, bjorn.id, services.participants.ParticipantRow(
                "Bjørn Kråkenes Berg", new_email, bjorn.organisation, "Leder", "da"),
            None, NOW)
    # The report: "Kråkenes, Bjørn" (no address: a name to confirm) and a row carrying his
    # old address, which matches nobody any more.
    report = (FIXTURES / "teams_webinar-1_sectioned_utf16.csv").read_bytes().decode("utf-16")
    report = report.replace("peter.nielsen@konsulent.example", old_email.upper())
    with db.transaction(engine) as session:
        outcome = services.apply_teams_import(session, cohort_id, "webinar-1",
                                              report.encode("utf-16"), now=AFTER_WEBINAR_1)
        assert session.get(AttendanceImport, outcome.import_id).unmatched
    stored = everything_stored(engine).casefold()
    assert old_email in stored and new_email in stored and "kråkenes" in stored
    with db.transaction(engine) as session:
        privacy.erase_participant(session, session.get(Participant, bjorn_id), None, NOW)
    stored = everything_stored(engine).casefold()
    for trace in (old_email, new_email, "kråkenes", "krakenes"):
        assert trace not in stored, trace
    # The other people of the report are still there to be matched.
    assert "åse håland (guest)" in stored and "karin kursusleder" in stored
