"""Real dispatcher processes: killed with SIGKILL mid-batch, and two passes at the same time.

Counted by Message-ID at a real SMTP server: no message may be lost (every row is sent, or
needs review because its fate is uncertain) and none may arrive twice.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter

import pytest

from cohort.mail.dispatch import SENDERS
from tests.fixtures.dispatch import (
    SEND_DUE,
    assert_exactly_once_or_review,
    dispatcher_env,
    final_rows,
)


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
@pytest.mark.parametrize("moment", ["while the server holds a message", "at a random point"])
def test_sigkill_in_the_middle_of_a_batch_of_500(tmp_path, smtp_sink, prepare_outbox, moment,
                                                 database, request):
    database_url = (f"sqlite:///{tmp_path / 'cohort.sqlite3'}" if database == "sqlite"
                    else request.getfixturevalue("postgres_server").new_database())
    due = prepare_outbox(database_url, participants=63)
    assert due == 504
    env = dispatcher_env(database_url, tmp_path, smtp_sink.url)
    if moment.startswith("while"):
        smtp_sink.hold_at = 200  # accepted, but the dispatcher never hears "250"
    log = (tmp_path / "first-pass.log").open("wb")
    first = subprocess.Popen(SEND_DUE, env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        if smtp_sink.hold_at:
            assert smtp_sink.held.wait(120), "the dispatcher never reached message 200"
        else:
            while smtp_sink.count() < 150 and first.poll() is None:
                time.sleep(0.005)
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(30)
        log.close()
        smtp_sink.release.set()
    assert first.returncode == -signal.SIGKILL
    killed_at = smtp_sink.count()
    assert 0 < killed_at < due

    second = subprocess.run(SEND_DUE, env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert second.returncode == 0, second.stderr
    received = smtp_sink.message_ids()
    states = assert_exactly_once_or_review(final_rows(database_url), received)
    # Only the messages in flight (one per sender thread) can be uncertain.
    assert states["needs_review"] <= SENDERS
    assert states["sent"] + states["needs_review"] == due
    if moment.startswith("while"):
        assert states["needs_review"] >= 1
        assert len(received) >= states["sent"] + 1  # the held one had in fact arrived, once
        assert f"needs review {states['needs_review']}" in second.stdout
    else:
        assert len(received) + states["needs_review"] >= due
    if database == "postgresql":
        request.getfixturevalue("postgres_server").drop_database(database_url)


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_dispatchers_at_once_share_the_work_and_never_send_twice(tmp_path, smtp_sink, request,
                                                                     prepare_outbox, database):
    """Two `send-due` processes on one due outbox of ten batches: every email once.

    On PostgreSQL the batch claims skip each other's locked rows, so both must do part of the
    work; on SQLite the guarded claim serialises them, and who gets what is up to timing.
    """
    database_url = (f"sqlite:///{tmp_path / 'cohort.sqlite3'}" if database == "sqlite"
                    else request.getfixturevalue("postgres_server").new_database())
    due = prepare_outbox(database_url, participants=125)
    assert due == 1000
    env = dispatcher_env(database_url, tmp_path, smtp_sink.url)
    passes = [subprocess.Popen([*SEND_DUE, "--json"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in passes]
    assert [p.returncode for p in passes] == [0, 0], outputs
    reports = [json.loads(out) for out, _ in outputs]
    assert sum(r["sent"] for r in reports) == due
    if database == "postgresql":
        assert all(r["sent"] > 0 for r in reports), reports  # both did part of the work
    received = smtp_sink.message_ids()
    assert len(received) == due and set(received.values()) == {1}
    rows = final_rows(database_url)
    assert Counter(r.state for r in rows) == {"sent": due}
    assert {r.message_id for r in rows} == set(received)
    if database == "postgresql":
        request.getfixturevalue("postgres_server").drop_database(database_url)
