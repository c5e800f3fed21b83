"""Faults in the middle of a pass: the database restarting, the mail server down.

Counted by Message-ID at a real SMTP server (aiosmtpd on 127.0.0.1): no message may be lost
(every row ends sent, or needs review because its fate is uncertain) and none may arrive twice.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections import Counter
from datetime import timedelta

import pytest

from cohort.mail.dispatch import SENDERS
from tests.fixtures.cohorts import CREATED
from tests.fixtures.dispatch import (
    SEND_DUE,
    assert_exactly_once_or_review,
    dispatcher_env,
    final_rows,
)
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.smtp import SMTPSink


@pytest.fixture
def own_postgres_server():
    """A server of this test's own, since it gets crashed; commits wait for the disk, as
    PostgreSQL's do by default in production."""
    server = PostgresServer(synchronous_commit=True)
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_the_database_restarting_during_a_pass_loses_and_repeats_nothing(
        tmp_path, smtp_sink, own_postgres_server, prepare_outbox):
    database_url = own_postgres_server.new_database()
    due = prepare_outbox(database_url, participants=125)
    assert due == 1000
    env = dispatcher_env(database_url, tmp_path, smtp_sink.url)
    env["COHORT_OUTBOX_DATABASE_RETRY_SECONDS"] = "60"
    log = (tmp_path / "pass.log").open("w")
    dispatcher = subprocess.Popen([*SEND_DUE, "--json"], env=env, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        deadline = time.monotonic() + 120
        while smtp_sink.count() < 200 and dispatcher.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        own_postgres_server.crash()
        at_crash = smtp_sink.count()
        time.sleep(1.5)  # the dispatcher keeps trying meanwhile
        own_postgres_server.start_again()
        out, _ = dispatcher.communicate(timeout=240)
    finally:
        if dispatcher.poll() is None:
            dispatcher.kill()
        log.close()
    stderr = (tmp_path / "pass.log").read_text()
    assert 0 < at_crash < due, "the crash did not come in the middle of the pass"
    assert dispatcher.returncode == 0, stderr
    assert "database unavailable" in stderr  # it noticed, waited, and went on
    first = json.loads(out)
    assert first["sent"] + first["needs_review"] <= due
    # Another pass picks up whatever the first could not finish.
    second = subprocess.run(SEND_DUE, env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=240)
    assert second.returncode == 0, second.stderr
    received = smtp_sink.message_ids()
    states = assert_exactly_once_or_review(final_rows(database_url), received)
    assert states["sent"] + states["needs_review"] == due
    assert states["needs_review"] <= SENDERS, states  # at most the emails in flight


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_smtp_down_for_the_whole_pass_then_back(tmp_path, prepare_outbox, database, request):
    database_url = (f"sqlite:///{tmp_path / 'cohort.sqlite3'}" if database == "sqlite"
                    else request.getfixturevalue("postgres_server").new_database())
    due = prepare_outbox(database_url, participants=63)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens here yet
    env = dispatcher_env(database_url, tmp_path, f"smtp://127.0.0.1:{port}")
    down = subprocess.run([*SEND_DUE, "--json"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    report = json.loads(down.stdout)
    assert report["sent"] == 0 and report["stopped"].startswith("mail server unavailable")
    rows = final_rows(database_url)
    # Nothing is left claimed or in flight: the tried ones wait for a retry, the rest as before.
    assert Counter(r.state for r in rows) == {"pending": due}
    assert 1 <= sum(r.attempts for r in rows) <= SENDERS

    from aiosmtpd.controller import Controller

    sink = SMTPSink()
    sink.controller = Controller(sink, hostname="127.0.0.1", port=port)
    sink.controller.start()
    try:
        later = (CREATED + timedelta(hours=1)).isoformat()  # after the retry time
        up = subprocess.run([*SEND_DUE[:-1], later, "--json"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
        assert up.returncode == 0, up.stderr
        received = sink.message_ids()
    finally:
        sink.controller.stop()
    assert json.loads(up.stdout)["sent"] == due
    assert len(received) == due and set(received.values()) == {1}
    assert Counter(r.state for r in final_rows(database_url)) == {"sent": due}
    if database == "postgresql":
        request.getfixturevalue("postgres_server").drop_database(database_url)
