"""`/healthz`: database, schema revision and the scheduler's heartbeat; 200 or 503, JSON."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from cohort import db
from cohort.app import create_app
from cohort.db import migrate as schema
from cohort.mail.scheduler import outbox_tick
from cohort.models import SchedulerHeartbeat
from cohort.services.health import SCHEDULER, record_heartbeat


def beat(app, age: timedelta = timedelta(0)) -> None:
    now = datetime.now(UTC) - age
    with db.transaction(app.extensions["cohort.engine"]) as session:
        record_heartbeat(session, now - timedelta(hours=1), now, "sent 0")


def test_healthy_when_the_database_answers_and_the_scheduler_ticked(app, client):
    schema.stamp(app.extensions["cohort.engine"], "head")
    beat(app, timedelta(seconds=5))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "error": None}
    assert body["schema"]["revision"] == schema.head_revision()
    assert 4 <= body["scheduler"]["heartbeat_age_seconds"] < 60


def test_unhealthy_without_a_scheduler_or_with_a_silent_one(app, client):
    schema.stamp(app.extensions["cohort.engine"], "head")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy" and body["database"]["ok"] is True
    assert body["scheduler"] == {"ok": False, "heartbeat_age_seconds": None,
                                 "max_age_seconds": 180.0}
    beat(app, timedelta(minutes=10))
    body = client.get("/healthz").get_json()
    assert body["scheduler"]["ok"] is False and body["scheduler"]["heartbeat_age_seconds"] > 590


def test_unhealthy_when_the_schema_is_behind(app, client):
    engine = app.extensions["cohort.engine"]
    schema.stamp(engine, schema.FIRST_REVISION)
    beat(app)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["schema"] == {"ok": False, "revision": schema.FIRST_REVISION,
                                             "head": schema.head_revision()}


def test_unhealthy_when_the_database_does_not_answer(tmp_path, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{port}/x",
                      "SECRET_KEY": "test"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"]["ok"] is False and "OperationalError" in body["database"]["error"]
    assert body["scheduler"]["ok"] is False
    app.extensions["cohort.engine"].dispose()


def test_each_scheduler_tick_records_the_heartbeat_and_the_pass(app):
    outbox_tick(app)
    with db.transaction(app.extensions["cohort.engine"]) as session:
        row = session.get(SchedulerHeartbeat, SCHEDULER)
        assert row.pid == os.getpid()
        assert datetime.now(UTC) - row.beat_at < timedelta(seconds=30)
        assert row.last_result.startswith("sent 0,")


@pytest.mark.slow
def test_the_scheduler_process_keeps_healthz_green_until_it_stops(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
    env.update(COHORT_DATABASE_URL=url, COHORT_INSTANCE_PATH=str(tmp_path / "instance"),
               COHORT_SECRET_KEY="test", COHORT_SCHEDULER_INTERVAL_SECONDS="0.3")
    cli = [sys.executable, "-c", "from cohort.app import main; main()"]
    subprocess.run([*cli, "init-db"], env=env, check=True, capture_output=True, timeout=60)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test",
                      "HEALTH_MAX_HEARTBEAT_AGE_SECONDS": 2.0})
    client = app.test_client()
    assert client.get("/healthz").status_code == 503  # no scheduler yet
    process = subprocess.Popen([*cli, "scheduler"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while client.get("/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get("/healthz").get_json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    time.sleep(2.5)
    body = client.get("/healthz").get_json()
    assert body["status"] == "unhealthy" and body["scheduler"]["heartbeat_age_seconds"] > 2
    app.extensions["cohort.engine"].dispose()
