"""Surveys: answering and the answer pool.

Who has answered (reminders, response rates) is in `survey_responses`, the figures (results,
breakdowns, pre/post change) in `survey_figures`, answers collected on paper in
`paper_answers`.

Every function runs in the caller's transaction, except `submit_response`: it takes the engine
and commits the invitation's completed mark and an anonymous answer in separate transactions,
and anonymous answers wait in a pool until `move_pooled_answers` stores them in batches (see
models/surveys.py and "What a database administrator can and cannot learn" in
docs/architecture.md).
"""

from __future__ import annotations

import logging
import random
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .. import db
from ..core.anonymity import OTHER, checked_min_group_size, generalise
from ..core.programme import Programme
from ..core.publication import pool_released
from ..core.surveys import AnswersInvalid, SurveySpec, normalise_answers, spec_from_survey
from ..models import (
    AnonymousAnswerPool,
    AnonymousResponse,
    Cohort,
    IdentifiedResponse,
    Invitation,
    Participant,
    Survey,
    utcnow,
)
from ._lookup import (
    SNAPSHOT_DIGEST,
    NotFound,
    cohort_programme,
    get_cohort,
    programme_of_digest,
    survey_spec_of_digest,
)

BREAKDOWN_DIMENSIONS = ("organisation", "role")
log = logging.getLogger("cohort.services.surveys")
_random = random.SystemRandom()  # the order of stored answers must not be predictable


# For the writes below: the rows they change are never loaded as objects in the session, so
# the ORM need not find and update them there (its default evaluates each statement's WHERE
# in Python, a compiled evaluator per call). The answering path's statements that read or
# write rows, not objects, run on the session's connection: the ORM's execution around each
# statement was a tenth of the answer's time.
_ROWS_ONLY = {"synchronize_session": False}


class SurveyUnavailable(Exception):
    """A survey that cannot be answered now; the page shows the reason, nothing is stored."""


class SurveyNotOpen(SurveyUnavailable):
    def __init__(self, survey: Survey):
        super().__init__(f"survey '{survey.key}' opens at {survey.opens_at.isoformat()}")
        self.survey = survey


class SurveyClosed(SurveyUnavailable):
    def __init__(self, survey: Survey):
        super().__init__(f"survey '{survey.key}' closed at {survey.closes_at.isoformat()}")
        self.survey = survey


class AlreadyAnswered(SurveyUnavailable):
    def __init__(self, survey: Survey):
        super().__init__(f"survey '{survey.key}' has already been answered")
        self.survey = survey


# --- lookups --------------------------------------------------------------------------------

def get_survey(session: Session, cohort_id: int, survey_key: str) -> Survey:
    survey = session.scalars(select(Survey).where(
        Survey.cohort_id == cohort_id, Survey.key == survey_key)).one_or_none()
    if survey is None:
        keys = session.scalars(select(Survey.key).where(Survey.cohort_id == cohort_id)
                               .order_by(Survey.opens_at, Survey.key)).all()
        known = ", ".join(keys) or "none"
        raise NotFound(f"cohort {cohort_id} has no survey '{survey_key}' (surveys: {known})")
    return survey


def list_surveys(session: Session, cohort_id: int) -> list[Survey]:
    return list(session.scalars(select(Survey).where(Survey.cohort_id == cohort_id)
                                .order_by(Survey.opens_at, Survey.key)))


def survey_spec_of(session: Session, survey: Survey) -> SurveySpec:
    """The survey's questions from the cohort's own copy of the programme."""
    programme = _programme(session, survey.cohort_id)
    return spec_from_survey(programme.survey(survey.template_key), programme.language)


def get_invitation(session: Session, invitation_id: int) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(f"no invitation {invitation_id}")
    return invitation


def survey_state(survey: Survey, now: datetime) -> str:
    """'not_open', 'open' or 'closed'."""
    if now < survey.opens_at:
        return "not_open"
    return "open" if now < survey.closes_at else "closed"


def min_group_size_of(session: Session, cohort_id: int, override: int | None = None) -> int:
    """The override (e.g. from app config) or the programme's; never below the floor."""
    if override is not None:
        return checked_min_group_size(override)
    return checked_min_group_size(_programme(session, cohort_id).evaluation.min_group_size)


def _programme(session: Session, cohort_id: int) -> Programme:
    return programme_snapshot(get_cohort(session, cohort_id))


def programme_snapshot(cohort: Cohort) -> Programme:
    """The cohort's own copy of its programme (parsed once per process by the cohorts
    service's cache, shared with every other caller)."""
    return cohort_programme(cohort)


# --- answering ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerTarget:
    """What an answer to an invitation is checked against before it claims the invitation:
    the survey's questions (`spec`) and k, and the survey template and programme digest they
    come from, which the claim itself checks again (so a target read a moment earlier, by
    the survey page, cannot validate an answer against any other questions)."""

    invitation_id: int
    template_key: str
    digest: str  # the cohort's programme: _lookup.SNAPSHOT_DIGEST
    spec: SurveySpec
    min_group_size: int


def answer_target(session: Session, invitation_id: int) -> AnswerTarget:
    """The AnswerTarget of an invitation (one statement; the programme from its cache)."""
    found = session.execute(
        select(Survey.cohort_id, Survey.template_key, SNAPSHOT_DIGEST)
        .join(Invitation, Invitation.survey_id == Survey.id)
        .join(Cohort, Cohort.id == Survey.cohort_id)
        .where(Invitation.id == invitation_id)).one_or_none()
    if found is None:
        raise NotFound(f"no invitation {invitation_id}")
    cohort_id, template_key, digest = found
    spec, k = survey_spec_of_digest(session, cohort_id, digest, template_key)
    return AnswerTarget(invitation_id, template_key, digest, spec, k)


def submit_response(
    engine: Engine, invitation_id: int, answers: Mapping[str, object],
    now: datetime | None = None, source: str = "web", target: AnswerTarget | None = None,
) -> None:
    """Store one participant's answers and mark their invitation completed, or raise.

    Raises NotFound, SurveyNotOpen, SurveyClosed, AlreadyAnswered or core AnswersInvalid (in
    that order: an answer to a closed survey is refused as closed, however it was filled).
    The invitation is claimed with a conditional UPDATE, so two simultaneous submits cannot
    both succeed. The answers are checked against `target` (the survey page passes what it
    read with the invitation; without one it is read here) before anything is written.

    The one use case that takes an engine, not a session: an anonymous answer must not be
    written by the transaction that marks the invitation completed (on PostgreSQL both rows
    would carry that transaction's id, `xmin`). So this commits on its own, up to three times:
    1. the invitation is marked completed: an identified answer is stored in the same
       transaction; for an anonymous one the claim is that one statement, its own
       transaction (no BEGIN and COMMIT round trips on PostgreSQL), a commit that does not
       wait for the disk (`db.commits_not_waiting`): the next one does;
    2. an anonymous answer joins the survey's pool (`_pool`); if that fails, the invitation is
       marked not completed again, so the participant can answer again;
    3. `move_pooled_answers` for this survey, which stores the pool once k answers wait. If it
       fails the answer stays pooled (it is saved) and the scheduler's next tick moves it.
       While fewer than k wait (the pool's rewrite in 2 counts them) it is not run: it would
       find nothing to store.

    Every other commit waits for the disk, so when this returns (and the page says the
    answer is saved) all of them are durable: both databases recover a prefix of their one
    log of commits, and a commit that waits makes every earlier one durable with it (see
    `db.wait_for_disk`). A crash of the machine or the database server at any moment leaves
    one of: nothing (answer again), the completed mark alone (see below), the mark and the
    pooled answer, or all three; never the answer without the mark (it would count twice
    once answered again), and the pool and the mark are still written by separate
    transactions. The mark alone, with the answer lost, is what a crash between 1 and 2 left
    when both waited for the disk too; now the mark reaches the disk with the pool's commit,
    or before it only when the log is written out for another reason (PostgreSQL's WAL
    writer within a fifth of a second, another connection's commit).
    Another request may see the mark before it is durable (a second submit is refused as
    answered, a reminder is not sent): whatever it commits because of it lies later in the
    log, so it cannot be kept while the mark is lost.
    """
    now = now or utcnow()
    if target is None:
        with db.read_session(engine) as session:
            target = answer_target(session, invitation_id)
    if target.invitation_id != invitation_id:
        raise ValueError(f"the target of invitation {target.invitation_id} is not "
                         f"invitation {invitation_id}'s")
    try:
        stored = normalise_answers(target.spec, answers)
    except AnswersInvalid:
        with db.read_session(engine) as session:
            _refuse_unless_open(session, invitation_id, now)
        raise
    if not target.spec.anonymous:
        with db.transaction(engine) as session:
            participant_id, survey_id = _claim(session, target, now)
            session.connection().execute(insert(IdentifiedResponse.__table__), named_answers(
                session, [dict(survey_id=survey_id, participant_id=participant_id,
                               submitted_at=now, answers=stored, source=source)]))
        return
    with db.single_statement_session(engine) as session, \
            db.commits_not_waiting(session.connection()):
        participant_id, survey_id = _claim(session, target, now)  # durable with the pool
    try:
        with db.transaction(engine) as session:
            waiting = _pool(session, _PooledAnswer(
                survey_id, stored, source, participant_id, target.spec,
                target.min_group_size))
    except BaseException:
        with db.transaction(engine) as session:
            session.execute(update(Invitation).where(Invitation.id == invitation_id)
                            .values(completed=False).execution_options(**_ROWS_ONLY))
        raise
    if not pool_released(waiting, target.min_group_size, closed=False):
        return  # fewer than k wait (the survey is open at `now`): the move would store none
    try:
        with db.transaction(engine) as session:
            move_pooled_answers(session, now, survey_ids=[survey_id])
    except Exception:
        log.exception("the pooled answers of survey %d wait for the next move", survey_id)


def named_answers(session: Session, rows: list[dict]) -> list[dict]:
    """Rows of `identified_response` to insert (each with its `participant_id`), with the
    organisation and role each participant has as they answer: the answer keeps them, and
    the survey's breakdowns read them (models/surveys.py says why). The one way named
    answers get their values, wherever they come from (the web, paper, the demo)."""
    people = {row["participant_id"] for row in rows}
    values = {pid: (organisation, role) for pid, organisation, role in session.execute(
        select(Participant.id, Participant.organisation, Participant.role)
        .where(Participant.id.in_(people)))} if people else {}
    return [{**row, "organisation": values[row["participant_id"]][0],
             "role": values[row["participant_id"]][1]} for row in rows]


@dataclass(frozen=True)
class _PooledAnswer:
    survey_id: int
    answers: dict
    source: str
    participant_id: int  # for the breakdown value, read in the pool's transaction
    spec: SurveySpec
    min_group_size: int


def _claim(session: Session, target: AnswerTarget, now: datetime) -> tuple[int, int]:
    """Mark the invitation completed (one statement); its participant and survey ids.

    The conditional UPDATE is made only while the invitation is not completed and its survey
    is open at `now` and is the target's (its template, its cohort's programme digest). Only a
    claim that fails reads the invitation again, to say why."""
    claimed = session.connection().execute(_CLAIM, {
        "invitation_id": target.invitation_id, "now": now,
        "template_key": target.template_key, "digest": target.digest}).one_or_none()
    if claimed is None:
        _refuse_unless_open(session, target.invitation_id, now)
        raise ValueError(f"invitation {target.invitation_id} could not be claimed: its survey "
                         "is not the target's")
    return claimed.participant_id, claimed.survey_id


# Built once (every answer runs it): the ids, the time and the target are bound parameters.
_CLAIM = (
    update(Invitation)
    .where(Invitation.id == bindparam("invitation_id"), Invitation.completed.is_(False),
           select(Survey.id).join(Cohort, Cohort.id == Survey.cohort_id).where(
               Survey.id == Invitation.survey_id,
               Survey.opens_at <= bindparam("now", type_=Survey.opens_at.type),
               Survey.closes_at > bindparam("now", type_=Survey.closes_at.type),
               Survey.template_key == bindparam("template_key"),
               bindparam("digest") == SNAPSHOT_DIGEST).exists())
    .values(completed=True)
    .execution_options(**_ROWS_ONLY)
    .returning(Invitation.participant_id, Invitation.survey_id)
)


def _refuse_unless_open(session: Session, invitation_id: int, now: datetime) -> None:
    """Raise what keeps the invitation from being answered at `now`, if anything: no such
    invitation, its survey not open or closed, or answered already (also by a simultaneous
    submit that claimed it first)."""
    found = session.execute(
        select(Invitation.completed, Survey)
        .join(Survey, Survey.id == Invitation.survey_id)
        .where(Invitation.id == invitation_id)).one_or_none()
    if found is None:
        raise NotFound(f"no invitation {invitation_id}")
    completed, survey = found
    state = survey_state(survey, now)
    if state == "not_open":
        raise SurveyNotOpen(survey)
    if state == "closed":
        raise SurveyClosed(survey)
    if completed:
        raise AlreadyAnswered(survey)


def _pool(session: Session, answer: _PooledAnswer) -> int:
    """Add one anonymous answer to its survey's pool, in a transaction of its own; returns
    how many answers wait in the pool now.

    Every waiting answer of the survey is deleted and written again, shuffled, with new random
    keys, so the waiting rows share this transaction's id and their physical order says
    nothing about the order of answering. The answer's breakdown value (`_breakdown_value`)
    is worked out here, after the survey's lock.
    """
    _lock_survey(session, answer.survey_id)
    breakdown = _breakdown_value(session, answer.survey_id, answer.spec,
                                 answer.participant_id, answer.min_group_size)
    connection = session.connection()  # rows, not objects: no ORM between (see _ROWS_ONLY)
    waiting = connection.execute(  # one statement: also atomic on SQLite, which ignores the lock
        delete(AnonymousAnswerPool).where(AnonymousAnswerPool.survey_id == answer.survey_id)
        .returning(AnonymousAnswerPool.answers, AnonymousAnswerPool.breakdown_value,
                   AnonymousAnswerPool.source).execution_options(**_ROWS_ONLY)).all()
    rows = [dict(answers=a, breakdown_value=b, source=s) for a, b, s in waiting]
    rows.append(dict(answers=answer.answers, breakdown_value=breakdown,
                     source=answer.source))
    _random.shuffle(rows)
    connection.execute(insert(AnonymousAnswerPool.__table__), [
        dict(key=secrets.token_hex(16), survey_id=answer.survey_id, **row) for row in rows])
    return len(rows)


def move_pooled_answers(
    session: Session, now: datetime, survey_ids: list[int] | None = None,
) -> int:
    """Store the pooled anonymous answers of every survey (or of these) that has at least k
    (its programme's minimum group size) waiting or has closed; returns how many were moved
    (`core.publication.pool_released`).

    Until then the stored answers do not include the waiting ones: they lag by up to k-1, so
    two copies of the database, before and after one person answers, differ by nothing or
    by a batch of at least k. (Figures wait for the survey to close anyway, publication rule
    5, so the last batch, stored when it closes, may be smaller without being a step anyone
    sees.)
    A survey's answers are written again as a whole: the stored ones and the pooled ones,
    shuffled, with new random ids, in this one transaction (its `xmin` is the same for every
    answer of the survey). Pooled answers get the survey's first day as `submitted_on`.
    The scheduler runs this every tick, and `submit_response` after an answer that makes k
    wait.
    """
    query = _POOLED_SURVEYS
    if survey_ids is not None:
        query = query.where(Survey.id.in_(survey_ids))
    moved = 0
    # One statement: each survey with answers waiting, how many, its cohort's time zone and
    # the digest of its programme (k from the programme cache, not the cohort's snapshot).
    for survey, waiting, timezone, digest in session.execute(query).all():
        k = checked_min_group_size(
            programme_of_digest(session, survey.cohort_id, digest).evaluation.min_group_size)
        if not pool_released(waiting, k, survey_state(survey, now) == "closed"):
            continue
        survey_id = survey.id
        _lock_survey(session, survey_id)
        connection = session.connection()  # rows, not objects (see _ROWS_ONLY)
        pooled = connection.execute(
            delete(AnonymousAnswerPool).where(AnonymousAnswerPool.survey_id == survey_id)
            .returning(AnonymousAnswerPool.answers, AnonymousAnswerPool.breakdown_value,
                       AnonymousAnswerPool.source).execution_options(**_ROWS_ONLY)).all()
        if not pooled:  # another move took them meanwhile
            continue
        stored = connection.execute(
            delete(AnonymousResponse).where(AnonymousResponse.survey_id == survey_id)
            .returning(AnonymousResponse.submitted_on, AnonymousResponse.answers,
                       AnonymousResponse.breakdown_value, AnonymousResponse.source)
            .execution_options(**_ROWS_ONLY)).all()
        first_day = survey.opens_at.astimezone(ZoneInfo(timezone)).date()
        rows = [dict(submitted_on=d, answers=a, breakdown_value=b, source=s)
                for d, a, b, s in stored]
        rows += [dict(submitted_on=first_day, answers=a, breakdown_value=b, source=s)
                 for a, b, s in pooled]
        _random.shuffle(rows)
        connection.execute(insert(AnonymousResponse.__table__), [
            dict(id=uuid.uuid4().hex, survey_id=survey_id, **row) for row in rows])
        moved += len(pooled)
    return moved


_POOLED_SURVEYS = (
    select(Survey,
           select(func.count()).select_from(AnonymousAnswerPool)
           .where(AnonymousAnswerPool.survey_id == Survey.id).scalar_subquery(),
           Cohort.timezone, SNAPSHOT_DIGEST)
    .join(Cohort, Cohort.id == Survey.cohort_id)
    .where(Survey.id.in_(select(AnonymousAnswerPool.survey_id)))
    .order_by(Survey.id))


def pooled_answers(session: Session, survey_id: int) -> int:
    """How many anonymous answers of this survey wait in the pool (not yet in results)."""
    return session.scalar(select(func.count()).select_from(AnonymousAnswerPool)
                          .where(AnonymousAnswerPool.survey_id == survey_id)) or 0


def _lock_survey(session: Session, survey_id: int) -> None:
    """One writer of a survey's pool and answers at a time (PostgreSQL; SQLite has one writer
    anyway). NO KEY UPDATE does not wait for the key-share locks that foreign keys take.

    On SQLite the lock is not needed (its deferred transaction's first write takes the
    database's one write lock, and a `SELECT ... FOR UPDATE` is a plain read there), but
    `secure_delete` is: the pool and the answers are rewritten as a whole, and the deleted
    rows would otherwise stay readable in the file's free pages, where the pool's successive
    states (one answer more each time) give the order of answering. With it SQLite overwrites
    deleted content with zeros. It is a setting of the connection, so it is set once per
    pooled connection (and stays on for the connection's other deletes)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        if not connection.info.get(_SECURE_DELETE):
            connection.execute(text("PRAGMA secure_delete = ON"))
            connection.info[_SECURE_DELETE] = True
        return
    if connection.execute(select(Survey.id).where(Survey.id == survey_id)
                          .with_for_update(key_share=True)).one_or_none() is None:
        raise NotFound(f"no survey {survey_id}")


_SECURE_DELETE = "cohort.secure_delete"


def _breakdown_value(
    session: Session, survey_id: int, spec: SurveySpec, participant_id: int | None, k: int,
) -> str:
    """The participant's organisation or role, if at least k (the survey's minimum group
    size) invited participants share it (`paper_answers` generalises a paper file's alike)."""
    if spec.breakdown not in BREAKDOWN_DIMENSIONS or participant_id is None:
        return OTHER
    column = getattr(Participant, spec.breakdown)
    rows = session.connection().execute(
        select(Participant.id, column)
        .join(Invitation, Invitation.participant_id == Participant.id)
        .where(Invitation.survey_id == survey_id)
    ).all()
    values = {pid: (value or "").strip() for pid, value in rows}
    mapping = generalise(values.values(), k)
    return mapping.get(values.get(participant_id, OTHER), OTHER)


def _survey(session: Session, survey_id: int) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"no survey {survey_id}")
    return survey
