"""Materials of a meeting: a facilitator adds links and files; participants and staff get them.

What an upload may be, how it is served and when participants see it are the core's rules
(`core/materials.py`). This module stores and finds: the row in the database and the file in
the materials folder (`MaterialStore`, COHORT_MATERIALS_DIR), under a random name. The file is
written before its row and removed with it; retention (`privacy.purge_ended_cohorts`) removes
the files of the cohorts it purges.

Who may fetch a material: `material_for_participant` (their own cohort's, once visible) and
`material_for_staff` (any of the cohort's; the web's access rule decides who is its staff).
Anything else is NotFound, so a wrong or foreign id looks like a missing one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlmodel import Session

from ..core import materials as rules
from ..core.links import web_link_problem
from ..core.text import single_line_problem
from ..models import Meeting, MeetingMaterial, Participant, User, utcnow
from . import activity
from ._lookup import NotFound, get_cohort, get_meeting

log = logging.getLogger(__name__)


class MaterialError(ValueError):
    """A material that cannot be added: `code` says why (core.materials' codes, or
    `bad_link`, `bad_title`)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code = code


BAD_LINK = "bad_link"
BAD_TITLE = "bad_title"


class MaterialStore:
    """The materials folder. Files are named by the app (32 random hex characters) and never
    by their uploader; a name that is not one of ours is refused before it reaches the disk."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def save(self, data: bytes) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        path = self.directory / name
        with open(path, "xb") as file:  # never overwrite
            file.write(data)
        os.chmod(path, 0o600)
        return name

    def path(self, stored_name: str) -> Path:
        if len(stored_name) != 32 or not all(c in "0123456789abcdef" for c in stored_name):
            raise NotFound("not a stored material's name")
        return self.directory / stored_name

    def delete(self, stored_name: str) -> None:
        with contextlib.suppress(NotFound):
            self.path(stored_name).unlink(missing_ok=True)


@dataclass(frozen=True)
class MeetingMaterials:
    meeting: Meeting
    materials: list[MeetingMaterial]


def add_link(session: Session, cohort_id: int, meeting_key: str, title: str, url: str,
             after_meeting: bool, actor: User | None, now: datetime | None = None
             ) -> MeetingMaterial:
    """A link (http or https only, `core.links`) on the meeting's materials, logged."""
    meeting = get_meeting(session, cohort_id, meeting_key)
    url = url.strip()
    if web_link_problem(url) is not None:
        raise MaterialError(BAD_LINK, "a link starts with https:// or http://")
    return _add(session, meeting, actor, now, kind=rules.LINK, title=_title(title, url),
                url=url, after_meeting=after_meeting)


def add_file(session: Session, store: MaterialStore, cohort_id: int, meeting_key: str,
             title: str, filename: str, data: bytes, after_meeting: bool, max_bytes: int,
             actor: User | None, now: datetime | None = None) -> MeetingMaterial:
    """An uploaded file on the meeting's materials, checked by its content
    (`core.materials.check_upload`), written to the store under a random name, logged."""
    meeting = get_meeting(session, cohort_id, meeting_key)
    try:
        file_type = rules.check_upload(filename, data, max_bytes)
    except rules.MaterialProblem as problem:
        raise MaterialError(problem.code, str(problem)) from problem
    name = rules.download_name(filename, file_type)
    title = _title(title, name)
    stored = store.save(data)
    try:
        return _add(session, meeting, actor, now, kind=rules.FILE, title=title, filename=name,
                    file_type=file_type.key, size=len(data), stored_name=stored,
                    after_meeting=after_meeting)
    except Exception:
        store.delete(stored)
        raise


def remove_material(session: Session, store: MaterialStore, cohort_id: int, material_id: int,
                    actor: User | None, now: datetime | None = None) -> MeetingMaterial:
    """Remove a material of the cohort (and its file), logged. NotFound for another cohort's."""
    material = material_for_staff(session, cohort_id, material_id)
    meeting = session.get(Meeting, material.meeting_id)
    session.delete(material)
    session.flush()
    if material.stored_name:
        store.delete(material.stored_name)
    activity.log_activity(session, cohort_id, actor, activity.MATERIAL_REMOVED,
                          {"meeting": meeting.title, "title": material.title,
                           "kind": material.kind}, now or utcnow())
    return material


def cohort_materials(session: Session, cohort_id: int) -> list[MeetingMaterials]:
    """Every meeting of the cohort, in order, with its materials (for the staff page)."""
    get_cohort(session, cohort_id)
    meetings = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id)
                               .order_by(Meeting.starts_at, Meeting.position)).all()
    by_meeting = _by_meeting(session, cohort_id)
    return [MeetingMaterials(m, by_meeting.get(m.id, [])) for m in meetings]


def visible_materials(session: Session, cohort_id: int, now: datetime,
                      meetings: Sequence[Meeting] | None = None,
                      ) -> dict[int, list[MeetingMaterial]]:
    """Meeting id -> the materials participants see now (`core.materials.visible`).
    `meetings`: all of the cohort's, if the caller has read them."""
    ends = {m.id: m.ends_at for m in meetings} if meetings is not None else dict(
        session.execute(select(Meeting.id, Meeting.ends_at)
                        .where(Meeting.cohort_id == cohort_id)).all())
    return {meeting_id: shown for meeting_id, items in _by_meeting(session, cohort_id).items()
            if (shown := [m for m in items
                          if rules.visible(m.after_meeting, ends[meeting_id], now)])}


def participant_materials(session: Session, cohort_id: int, now: datetime,
                          meetings: Sequence[Meeting] | None = None) -> list[MeetingMaterials]:
    """The meetings (scheduled ones, in order) that have materials participants see now.
    `meetings`: all of the cohort's, by start, if the caller has read them."""
    shown = visible_materials(session, cohort_id, now, meetings)
    if not shown:
        return []
    if meetings is None:
        meetings = session.scalars(select(Meeting).where(Meeting.id.in_(shown))
                                   .order_by(Meeting.starts_at, Meeting.position)).all()
    return [MeetingMaterials(m, shown[m.id]) for m in meetings
            if m.id in shown and m.status == "scheduled"]


def material_for_staff(session: Session, cohort_id: int, material_id: int) -> MeetingMaterial:
    material = session.get(MeetingMaterial, material_id)
    if material is None or material.cohort_id != cohort_id:
        raise NotFound(f"cohort {cohort_id} has no material {material_id}")
    return material


def material_for_participant(session: Session, participant: Participant, material_id: int,
                             now: datetime) -> MeetingMaterial:
    """A material of the participant's cohort that they may see now; NotFound otherwise
    (another cohort's, not yet shown, or none)."""
    material = session.get(MeetingMaterial, material_id)
    if material is None or material.cohort_id != participant.cohort_id:
        raise NotFound(f"no material {material_id} for this participant")
    meeting = session.get(Meeting, material.meeting_id)
    if not rules.visible(material.after_meeting, meeting.ends_at, now):
        raise NotFound(f"material {material_id} is shown after the meeting")
    return material


def delete_cohort_files(session: Session, store: MaterialStore | None, cohort_id: int) -> int:
    """Remove every uploaded file of the cohort, rows and files (retention). Links stay: they
    hold no personal data. Returns how many files went."""
    rows = session.scalars(select(MeetingMaterial).where(
        MeetingMaterial.cohort_id == cohort_id, MeetingMaterial.kind == rules.FILE)).all()
    if rows and store is None:
        raise ValueError("uploaded materials to delete, but no materials folder given")
    for row in rows:
        session.delete(row)
        store.delete(row.stored_name)
    session.flush()
    return len(rows)


# Built once: the participant's page reads it on every view.
_MATERIALS = select(MeetingMaterial).where(
    MeetingMaterial.cohort_id == bindparam("cohort_id")).order_by(MeetingMaterial.id)


def _by_meeting(session: Session, cohort_id: int) -> dict[int, list[MeetingMaterial]]:
    found: dict[int, list[MeetingMaterial]] = defaultdict(list)
    for material in session.scalars(_MATERIALS, {"cohort_id": cohort_id}):
        found[material.meeting_id].append(material)
    return found


def _title(title: str, fallback: str) -> str:
    title = (title or "").strip() or fallback[:200]
    if single_line_problem(title) is not None:
        raise MaterialError(BAD_TITLE, "a title is one line of at most 200 characters")
    return title


def _add(session: Session, meeting: Meeting, actor: User | None, now: datetime | None,
         **values) -> MeetingMaterial:
    moment = now or utcnow()
    material = MeetingMaterial(cohort_id=meeting.cohort_id, meeting_id=meeting.id,
                               created_at=moment, **values)
    session.add(material)
    session.flush()
    activity.log_activity(session, meeting.cohort_id, actor, activity.MATERIAL_ADDED,
                          {"meeting": meeting.title, "title": material.title,
                           "kind": material.kind}, moment)
    return material
