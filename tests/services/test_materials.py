"""Meeting materials: adding, finding, who gets them when, and retention (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cohort import db
from cohort.core.participants import ParticipantRow
from cohort.models import ActivityEntry, Meeting, MeetingMaterial, Participant
from cohort.services import NotFound, materials, privacy
from tests.fixtures import materials as files
from tests.fixtures.cohorts import CREATED

PEOPLE = [ParticipantRow("Anne Jensen", "anne@vejle.example", "Vejle Kommune", "Leder", "da")]
LIMIT = 1024 * 1024


@pytest.fixture
def store(tmp_path) -> materials.MaterialStore:
    return materials.MaterialStore(tmp_path / "materials")


@pytest.fixture
def cohort_id(engine, make_cohort) -> int:
    return make_cohort(engine, people=PEOPLE, now=CREATED).id


def _meeting(engine, cohort_id: int, key: str = "kickoff") -> Meeting:
    with db.transaction(engine) as session:
        return session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id,
                                                     Meeting.key == key)).one()


def _participant(engine, cohort_id: int) -> Participant:
    with db.transaction(engine) as session:
        return session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id)).first()


def test_an_upload_is_stored_under_a_random_name_and_logged(engine, cohort_id, store):
    with db.transaction(engine) as session:
        added = materials.add_file(session, store, cohort_id, "kickoff", "", "../Æblegrød.pdf",
                                   files.PDF, False, LIMIT, None, CREATED)
    stored = list(store.directory.iterdir())
    assert [p.name for p in stored] == [added.stored_name]
    assert len(added.stored_name) == 32 and "blegr" not in added.stored_name
    assert stored[0].read_bytes() == files.PDF
    assert (added.filename, added.title, added.file_type, added.size) == (
        "Æblegrød.pdf", "Æblegrød.pdf", "pdf", len(files.PDF))
    with db.transaction(engine) as session:
        entry = session.scalars(select(ActivityEntry).where(
            ActivityEntry.action == "material_added")).one()
    assert entry.details == {"meeting": _meeting(engine, cohort_id).title,
                             "title": "Æblegrød.pdf", "kind": "file"}


@pytest.mark.parametrize("name, data", [("setup.pdf", files.EXE), ("page.png", files.HTML),
                                        ("a.exe", files.EXE)])
def test_a_refused_upload_leaves_no_row_and_no_file(engine, cohort_id, store, name, data):
    with pytest.raises(materials.MaterialError), db.transaction(engine) as session:
        materials.add_file(session, store, cohort_id, "kickoff", "", name, data, False, LIMIT,
                           None, CREATED)
    assert not store.directory.exists() or list(store.directory.iterdir()) == []
    with db.transaction(engine) as session:
        assert session.scalars(select(MeetingMaterial)).all() == []


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.example/x",
                                 "https://a.example/x\ny", "data:text/html,hi", "slides.pdf"])
def test_only_web_links_are_accepted(engine, cohort_id, url):
    with pytest.raises(materials.MaterialError) as refused, db.transaction(engine) as session:
        materials.add_link(session, cohort_id, "kickoff", "Video", url, False, None, CREATED)
    assert refused.value.code == materials.BAD_LINK


def test_a_meeting_of_another_cohort_is_not_found(engine, cohort_id, make_cohort, store):
    other = make_cohort(engine, now=CREATED).id
    with db.transaction(engine) as session:
        link = materials.add_link(session, other, "kickoff", "", "https://video.example/1",
                                  False, None, CREATED)
    with pytest.raises(NotFound), db.transaction(engine) as session:
        materials.add_link(session, cohort_id, "no-such-meeting", "", "https://a.example",
                           False, None, CREATED)
    with pytest.raises(NotFound), db.transaction(engine) as session:
        materials.material_for_staff(session, cohort_id, link.id)
    with pytest.raises(NotFound), db.transaction(engine) as session:
        materials.remove_material(session, store, cohort_id, link.id, None, CREATED)
    with pytest.raises(NotFound), db.transaction(engine) as session:
        materials.material_for_participant(session, _participant(engine, cohort_id), link.id,
                                           CREATED)


def test_after_the_meeting_materials_appear_once_it_has_been_held(engine, cohort_id, store):
    meeting = _meeting(engine, cohort_id)
    with db.transaction(engine) as session:
        before = materials.add_link(session, cohort_id, "kickoff", "Reading",
                                    "https://read.example/", False, None, CREATED)
        slides = materials.add_file(session, store, cohort_id, "kickoff", "Slides", "s.pdf",
                                    files.PDF, True, LIMIT, None, CREATED)
    person = _participant(engine, cohort_id)
    during = meeting.ends_at - timedelta(minutes=1)
    with db.transaction(engine) as session:
        assert materials.visible_materials(session, cohort_id, during) == {
            meeting.id: [session.get(MeetingMaterial, before.id)]}
        with pytest.raises(NotFound):
            materials.material_for_participant(session, person, slides.id, during)
        shown = materials.participant_materials(session, cohort_id, meeting.ends_at)
        assert [(m.meeting.key, [x.title for x in m.materials]) for m in shown] == [
            ("kickoff", ["Reading", "Slides"])]
        assert materials.material_for_participant(session, person, slides.id,
                                                  meeting.ends_at).id == slides.id
        # Staff see it all along.
        assert materials.material_for_staff(session, cohort_id, slides.id).id == slides.id


def test_removing_a_material_removes_its_file(engine, cohort_id, store):
    with db.transaction(engine) as session:
        added = materials.add_file(session, store, cohort_id, "kickoff", "", "notes.docx",
                                   files.DOCX, False, LIMIT, None, CREATED)
    path = store.path(added.stored_name)
    assert path.is_file()
    with db.transaction(engine) as session:
        materials.remove_material(session, store, cohort_id, added.id, None, CREATED)
    assert not path.exists()
    with db.transaction(engine) as session:
        assert session.get(MeetingMaterial, added.id) is None
        assert [e.action for e in session.scalars(select(ActivityEntry).where(
            ActivityEntry.action.like("material_%")).order_by(ActivityEntry.id))] == [
            "material_added", "material_removed"]


def test_the_store_takes_only_its_own_names(store):
    for name in ("../../etc/passwd", "a" * 32 + "/..", "A" * 32, "x"):
        with pytest.raises(NotFound):
            store.path(name)


def test_retention_deletes_the_uploaded_files_of_purged_cohorts(engine, cohort_id, store,
                                                                 make_cohort):
    ongoing = make_cohort(engine, now=CREATED, start=CREATED.date() + timedelta(days=900)).id
    with db.transaction(engine) as session:
        old = materials.add_file(session, store, cohort_id, "kickoff", "", "s.pdf", files.PDF,
                                 False, LIMIT, None, CREATED)
        materials.add_link(session, cohort_id, "kickoff", "", "https://video.example/",
                           False, None, CREATED)
        kept = materials.add_file(session, store, ongoing, "kickoff", "", "s.png", files.PNG,
                                  False, LIMIT, None, CREATED)
    later = CREATED + timedelta(days=800)
    with db.transaction(engine) as session:
        purged = privacy.purge_ended_cohorts(session, timedelta(days=30), later,
                                             materials=store)
    assert [p.cohort_id for p in purged] == [cohort_id]
    assert not store.path(old.stored_name).exists()
    assert store.path(kept.stored_name).is_file()
    with db.transaction(engine) as session:
        assert [(m.cohort_id, m.kind) for m in session.scalars(
            select(MeetingMaterial).order_by(MeetingMaterial.id))] == [
            (cohort_id, "link"), (ongoing, "file")]


def test_retention_without_the_materials_folder_refuses_rather_than_orphan_files(
        engine, cohort_id, store):
    with db.transaction(engine) as session:
        added = materials.add_file(session, store, cohort_id, "kickoff", "", "s.pdf",
                                   files.PDF, False, LIMIT, None, CREATED)
    with pytest.raises(ValueError), db.transaction(engine) as session:
        privacy.purge_ended_cohorts(session, timedelta(days=30), CREATED + timedelta(days=800))
    assert store.path(added.stored_name).is_file()
