"""What showing a survey and storing an answer cost in statements, transactions and (on
PostgreSQL) round trips, on both databases (issue 24: PostgreSQL within 1.3x of SQLite).

Each statement is a round trip to PostgreSQL, and each transaction two more (BEGIN, COMMIT).
The answer keeps its separate transactions (docs/anonymity.md: the completed mark and an
anonymous answer are never written by one transaction); what goes is what was read twice
(the invitation after its claim, the cohort with its whole programme three times, the
meeting titles of the cohort), the third transaction while fewer than k answers wait, the
read before the claim (the answer is checked against the questions the page read, and the
claim checks they are its survey's), the claim's BEGIN and COMMIT (it is one statement) and,
on SQLite, the pool's lock (a plain read there) and its secure_delete pragma after a
connection's first."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from cohort import db
from cohort.demo import demo_participants
from cohort.models import AnonymousAnswerPool, AnonymousResponse, Invitation, Participant
from cohort.services import _lookup
from tests.db.test_engine import WireTrace, _round_trips
from tests.fixtures.statements import StatementsAndCommits, autocommitted
from tests.fixtures.web import COHORT_START, WEB_NOW, participant_client
from tests.web.test_participant_surveys import (
    AFTER_THE_LAST_MEETING,
    FINAL_ANSWERS,
    csrf,
    stored,
    survey_id,
)

# The access check (the participant, their link, the cohort's end: one statement, re-used by
# the page, also on the answer's POST) and the survey with the invitation, its meeting and
# the digest of the cohort's programme (its questions and minimum group size come from the
# cache by digest: the cohort's row is not read). It was 6, then 3. The first page a process
# shows for a programme also reads the programme's text (tens of kilobytes), once.
FORM_STATEMENTS = 2
# The form's two (the answer is checked against the questions they found); the claim (one
# conditional update, its own transaction: no BEGIN or COMMIT on PostgreSQL); the pool (the
# invited people's breakdown values; its rewrite: delete and insert; on PostgreSQL first the
# survey's lock). It was 9 (10 on SQLite). On SQLite the first pool write on a connection
# also turns on its secure_delete pragma (counted apart).
CLAIM_STATEMENTS = 1
POOL_STATEMENTS = {"sqlite": 3, "postgresql": 4}


class Counted(StatementsAndCommits):
    """Statements and commits on the app's engine while a block runs."""

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.statements, self.commits = [], 0
        self.autocommitted: list[str] = []  # statements that were their own transaction

    def _statement(self, _conn, cursor, statement, *_args) -> None:
        self.statements.append(statement)
        if autocommitted(self.engine, cursor):
            self.autocommitted.append(statement)

    def _commit(self, _conn) -> None:
        self.commits += 1



def _durability_setting(statement: str) -> bool:
    """`db.wait_for_disk`'s statements."""
    return "synchronous" in statement


def _durability_settings(engine) -> int:
    """How many the claim sends: the setting and the app's again, none on a PostgreSQL server
    whose commits wait for nothing anyway (the suite's shared server)."""
    with engine.connect() as conn:
        return 2 if conn.dialect.name == "sqlite" or db.server_commits_wait(conn) else 0


def _reads_text(statements: list[str]) -> bool:
    """Whether the programme snapshot's text itself (not its digest) was read."""
    return any(("->>" in s or "JSON_EXTRACT" in s) and "sha256" not in s for s in statements)


def _answer_statements(engine) -> int:
    return FORM_STATEMENTS + CLAIM_STATEMENTS + POOL_STATEMENTS[engine.dialect.name]


def _participants(engine, cohort_id: int) -> list[Participant]:
    with db.read_session(engine) as session:
        return list(session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)))


def test_a_survey_form_and_an_anonymous_answer_cost_a_fixed_few_statements(
        web_app, engine_of_app, make_cohort):
    cohort_id = make_cohort(engine_of_app, people=demo_participants(8), start=COHORT_START,
                            title="Hold 8", now=WEB_NOW).id
    web_app.config["COHORT_NOW"] = AFTER_THE_LAST_MEETING
    final = survey_id(web_app, cohort_id, "final")
    url = f"/me/surveys/{final}"
    people = _participants(engine_of_app, cohort_id)
    k = 5  # the programme's minimum group size
    assert len(people) > k
    _lookup._BY_DIGEST.clear()  # as in a new process
    for number, person in enumerate(people[:k]):
        client = participant_client(web_app, person)
        with Counted(engine_of_app) as first_view:
            token = csrf(client, url)
        # The programme's text is read once (its first page), then found by its digest.
        assert _reads_text(first_view.statements) == (number == 0), first_view.statements
        with Counted(engine_of_app) as form:
            assert client.get(url).status_code == 200
        assert len(form.statements) == FORM_STATEMENTS, form.statements
        assert form.commits == 0
        with Counted(engine_of_app) as answer:
            response = client.post(url, data={"csrf_token": token, **FINAL_ANSWERS})
        assert response.status_code == 302
        if number < k - 1:
            # The completed mark, then the pool: two transactions, never one. The mark is one
            # statement, its own transaction (no BEGIN or COMMIT); the pool's is committed.
            claims = [s for s in answer.statements if s.startswith("UPDATE invitation")]
            assert len(claims) == 1
            writes = [s for s in answer.autocommitted
                      if not s.lstrip().startswith(("SELECT", "PRAGMA"))
                      and not _durability_setting(s)]
            assert writes == claims, answer.autocommitted
            assert answer.commits == 1, answer.statements
            # The claim's commit does not wait for the disk (the pool's does, for both:
            # tests/services/test_answer_durability.py): a setting before and after it.
            settings = [s for s in answer.statements if _durability_setting(s)]
            assert len(settings) == _durability_settings(engine_of_app), answer.statements
            pragmas = [s for s in answer.statements
                       if s.startswith("PRAGMA") and not _durability_setting(s)]
            assert pragmas in ([], ["PRAGMA secure_delete = ON"])
            assert engine_of_app.dialect.name == "sqlite" or not pragmas
            assert len(answer.statements) - len(pragmas) - len(settings) == _answer_statements(
                engine_of_app), answer.statements
            assert not _reads_text(answer.statements)
            assert stored(web_app, AnonymousAnswerPool, final) == number + 1
            assert stored(web_app, AnonymousResponse, final) == 0
        else:  # the k-th answer: a third transaction stores the pool as answers
            assert answer.commits == 2, answer.statements
            assert stored(web_app, AnonymousAnswerPool, final) == 0
            assert stored(web_app, AnonymousResponse, final) == k
    claim = next(s for s in answer.statements if s.startswith("UPDATE invitation"))
    pooled = next(s for s in answer.statements if s.startswith("INSERT INTO anonymous_answer"))
    assert answer.statements.index(claim) < answer.statements.index(pooled)
    with db.read_session(engine_of_app) as session:
        assert session.scalar(select(Invitation.completed).where(
            Invitation.survey_id == final, Invitation.participant_id == people[0].id))


def test_an_anonymous_answer_in_round_trips_on_postgresql(web_app, engine_of_app, cohort_id,
                                                         first_participant, tmp_path):
    """On the wire: each statement one round trip, each transaction two more; no ping, no
    BEGIN or ROLLBACK for the pages' reading (db.read_session)."""
    if engine_of_app.dialect.name != "postgresql":
        pytest.skip("round trips on the wire are PostgreSQL's")
    web_app.config["COHORT_NOW"] = AFTER_THE_LAST_MEETING
    url = f"/me/surveys/{survey_id(web_app, cohort_id, 'final')}"
    client = participant_client(web_app, first_participant)
    token = csrf(client, url)
    client.post(url, data={"csrf_token": token, **FINAL_ANSWERS})  # the programme's text
    client = participant_client(web_app, _participants(engine_of_app, cohort_id)[1])
    token = csrf(client, url)
    engine_of_app.dispose()  # the trace starts with each new connection
    trace = WireTrace(engine_of_app, tmp_path / "wire.log")
    # Without psycopg's one-off preparation of a statement run five times on a connection
    # (one more round trip, once): the steady state.
    event.listen(engine_of_app, "connect", _no_preparing)
    try:
        client.get(url)  # connect (and the dialect's first queries)
        form = trace.lines_during(lambda: client.get(url))
        answer = trace.lines_during(lambda: client.post(
            url, data={"csrf_token": token, **FINAL_ANSWERS}))
    finally:
        event.remove(engine_of_app, "connect", _no_preparing)
        trace.close()
    assert _round_trips(form) == FORM_STATEMENTS
    # Only the pool's transaction costs a BEGIN and a COMMIT: it was 32, then 13. A claim's
    # commit that does not wait for the disk costs two (its setting, and the app's again) on
    # a server whose commits wait (not this one's).
    assert _round_trips(answer) == (_answer_statements(engine_of_app) + 2
                                    + _durability_settings(engine_of_app))


def _no_preparing(dbapi_connection, _record) -> None:
    dbapi_connection.prepare_threshold = None
