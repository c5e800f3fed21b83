"""The one scheduler of a deployment: APScheduler 3 running the outbox pass on an interval.

Started by `cohort scheduler` as its own process, or inside the demo server by `make run`
(wsgi.py starts it when COHORT_RUN_SCHEDULER=1). Never start it in web workers: each worker
would run its own copy. Even so, two schedulers by mistake would not send anything twice (claims
are atomic, see mail/dispatch.py); they would only do the work twice.
Each tick also stores the pooled anonymous answers of surveys that have closed (see
services/surveys.py), so no answer waits for more than one interval after its survey closes.
The job store is in memory on purpose: what is due lives in the outbox table, so there is
nothing to persist, and nothing is pickled by import path.
Every tick records a heartbeat (before and after the pass) that `/healthz` reports, so a
monitor notices a scheduler that is not running.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from .. import db
from ..services.health import record_heartbeat
from ..services.surveys import move_pooled_answers
from .dispatch import send_due

log = logging.getLogger("cohort.mail.scheduler")
JOB_ID = "cohort-outbox-send-due"
RETENTION_JOB_ID = "cohort-retention-purge"
STARTED_AT = "cohort.scheduler_started_at"


def outbox_tick(app: Flask) -> None:
    """One pass; an error is logged and the next tick tries again."""
    heartbeat(app)
    answers_tick(app)
    with app.app_context():
        try:
            report = send_due(app)
        except Exception as exc:
            log.exception("outbox pass failed")
            heartbeat(app, f"outbox pass failed: {type(exc).__name__}: {exc}")
            return
    heartbeat(app, report.summary())
    if report.sent or report.failed or report.needs_review or report.stopped:
        log.info("outbox: %s", report.summary())


def answers_tick(app: Flask) -> None:
    """Store the pooled anonymous answers of surveys that have closed (or have k waiting), in
    a transaction of its own (services.surveys.move_pooled_answers)."""
    try:
        with app.app_context(), db.transaction(app.extensions["cohort.engine"]) as session:
            moved = move_pooled_answers(session, datetime.now(UTC))
    except Exception:
        log.exception("moving pooled anonymous answers failed")
        return
    if moved:
        log.info("surveys: stored %d pooled anonymous answers", moved)


def heartbeat(app: Flask, result: str | None = None) -> None:
    """Record that this scheduler is alive; a database hiccup must not stop the ticks."""
    started_at = app.extensions.setdefault(STARTED_AT, datetime.now(UTC))
    try:
        with db.transaction(app.extensions["cohort.engine"]) as session:
            record_heartbeat(session, started_at, datetime.now(UTC), result)
    except Exception:
        log.exception("cannot record the scheduler heartbeat")


def retention_tick(app: Flask) -> None:
    """Erase the personal data of cohorts past COHORT_RETENTION_DAYS (once a day)."""
    from datetime import timedelta

    from ..services.materials import MaterialStore
    from ..services.privacy import purge_ended_cohorts

    try:
        with app.app_context(), db.transaction(app.extensions["cohort.engine"]) as session:
            purged = purge_ended_cohorts(session, timedelta(days=app.config["RETENTION_DAYS"]),
                                         datetime.now(UTC),
                                         materials=MaterialStore(app.config["MATERIALS_DIR"]))
    except Exception:
        log.exception("retention purge failed")
        return
    for item in purged:
        log.info("retention: erased %d participants of cohort %d", item.participants,
                 item.cohort_id)


def build_scheduler(app: Flask, interval_seconds: float | None = None) -> BackgroundScheduler:
    interval = interval_seconds or app.config["SCHEDULER_INTERVAL_SECONDS"]
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        outbox_tick, "interval", args=[app], seconds=interval, id=JOB_ID,
        replace_existing=True, coalesce=True, max_instances=1,
        misfire_grace_time=max(int(interval), 1), next_run_time=datetime.now(UTC),
    )
    if app.config.get("RETENTION_DAYS") is not None:
        scheduler.add_job(
            retention_tick, "interval", args=[app], hours=24, id=RETENTION_JOB_ID,
            replace_existing=True, coalesce=True, max_instances=1,
            next_run_time=datetime.now(UTC))
    return scheduler


def start_scheduler(app: Flask, interval_seconds: float | None = None) -> BackgroundScheduler:
    """Start once per process (a second call returns the running scheduler)."""
    running = app.extensions.get("cohort.mail.scheduler")
    if running is not None:
        return running
    app.extensions[STARTED_AT] = datetime.now(UTC)
    scheduler = build_scheduler(app, interval_seconds)
    scheduler.start()
    app.extensions["cohort.mail.scheduler"] = scheduler
    log.info("scheduler started: outbox pass every %ss",
             interval_seconds or app.config["SCHEDULER_INTERVAL_SECONDS"])
    return scheduler
