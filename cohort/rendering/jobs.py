"""Report PDFs rendered in a separate process, so the web app stays responsive.

A report takes one to a few seconds in WeasyPrint, and its memory grows with long tables, so
the web never renders one inside a request. Instead:

    job = start_report_job(current_app, cohort_id, language="da")   # returns at once
    report_job(app.instance_path, job.id)       # poll: queued -> running (step i of n) -> done
    report_job_pdf(app.instance_path, job.id)   # the file, once done

Each job is a folder `instance/reports/<32 hex id>/` with `job.json` (the state, rewritten
atomically at every step), `report.pdf` when done and `worker.log` (the worker's stderr). The
worker is `python -m cohort.rendering.worker FOLDER`, started with the app's database URL in
its environment (not on its command line). A job that stops updating for `STALE_AFTER` counts
as failed. At most `MAX_RUNNING` jobs run at a time, and at most `MAX_RUNNING_PER_USER` of
them for one staff member (`requested_by`), so nobody who queues many blocks everyone else's;
more raise `ReportJobsBusy` (`ReportJobsBusyForYou` when it is the person's own limit).

Who may start and fetch a job is the web layer's business (the cohort's staff; a job with
`words`, quotes and free-text answers, only its evaluators): a job id is unguessable but is not
an authorisation.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from ..services._lookup import NotFound

JOBS_FOLDER = "reports"
STALE_AFTER = timedelta(minutes=10)
MAX_RUNNING = 2
MAX_RUNNING_PER_USER = 1
FINAL_STATES = ("done", "failed")
_JOB_ID = re.compile(r"[0-9a-f]{32}")
_children: dict[str, subprocess.Popen] = {}
_lock = threading.Lock()


class ReportJobsBusy(RuntimeError):
    """Too many reports are being rendered right now; try again in a moment."""


class ReportJobsBusyForYou(ReportJobsBusy):
    """This staff member's own reports use up their share; the next one after those."""


@dataclass(frozen=True)
class ReportJob:
    id: str
    cohort_id: int
    language: str | None
    compare: int | None
    state: str  # queued | running | done | failed
    step: int = 0
    steps: int = 0
    step_key: str = ""
    pages: int | None = None
    error: str | None = None
    created_at: str = ""
    updated_at: str = ""
    # Whether the PDF has quotes and free-text answers (the evaluators' report). A job file
    # without it counts as having them, so only evaluators may fetch it.
    words: bool = True
    # The staff member (user id) who asked for it: the per-user limit counts by it.
    requested_by: int | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES


def jobs_root(instance_path: str | Path) -> Path:
    return Path(instance_path) / JOBS_FOLDER


def start_report_job(app: Flask, cohort_id: int, language: str | None = None,
                     compare: int | None = None, now: datetime | None = None,
                     words: bool = True, requested_by: int | None = None) -> ReportJob:
    """Queue a report and start its worker process; returns at once. `words=False`: the
    facilitators' report, without quotes and free-text answers. `requested_by`: the staff
    member's user id, for the per-user limit (None: only the overall limit applies)."""
    root = jobs_root(app.instance_path)
    root.mkdir(parents=True, exist_ok=True)
    with _lock:
        _reap()
        active = active_jobs(app.instance_path, now)
        if requested_by is not None and sum(
                job.requested_by == requested_by for job in active) >= MAX_RUNNING_PER_USER:
            raise ReportJobsBusyForYou(
                f"user {requested_by} has {MAX_RUNNING_PER_USER} report(s) being made")
        if len(active) >= MAX_RUNNING:
            raise ReportJobsBusy(f"{MAX_RUNNING} reports are being made; try again shortly")
        job_id = secrets.token_hex(16)
        folder = root / job_id
        folder.mkdir()
        stamp = _stamp(now)
        job = ReportJob(job_id, cohort_id, language, compare, "queued", created_at=stamp,
                        updated_at=stamp, words=words, requested_by=requested_by)
        write_job(folder, job)
        env = {**os.environ, "COHORT_DATABASE_URL": app.config["DATABASE_URL"],
               "COHORT_INSTANCE_PATH": app.instance_path,
               "COHORT_PROGRAMMES_DIR": str(app.config["PROGRAMMES_DIR"]),
               "COHORT_SECRET_KEY": str(app.config["SECRET_KEY"])}
        with open(folder / "worker.log", "wb") as log:
            _children[job_id] = subprocess.Popen(
                [sys.executable, "-m", "cohort.rendering.worker", str(folder)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
    return job


def report_job(instance_path: str | Path, job_id: str, now: datetime | None = None
               ) -> ReportJob:
    """The job's state; NotFound for an unknown or malformed id (the web answers 404)."""
    folder = _folder(instance_path, job_id)
    with _lock:
        _reap()
    job = read_job(folder)
    if not job.finished:
        updated = datetime.fromisoformat(job.updated_at)
        if (now or datetime.now(UTC)) - updated > STALE_AFTER:
            return _replace(job, state="failed", error="the report stopped without finishing")
    return job


def report_job_pdf(instance_path: str | Path, job_id: str) -> Path:
    """The finished PDF; NotFound until the job is done."""
    folder = _folder(instance_path, job_id)
    job = read_job(folder)
    pdf = folder / "report.pdf"
    if job.state != "done" or not pdf.is_file():
        raise NotFound(f"report {job_id} is not ready ({job.state})")
    return pdf


def active_jobs(instance_path: str | Path, now: datetime | None = None) -> list[ReportJob]:
    root = jobs_root(instance_path)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if _JOB_ID.fullmatch(folder.name) and (folder / "job.json").is_file():
            job = read_job(folder)
            updated = datetime.fromisoformat(job.updated_at)
            if not job.finished and (now or datetime.now(UTC)) - updated <= STALE_AFTER:
                found.append(job)
    return found


def prune_report_jobs(instance_path: str | Path, older_than: timedelta = timedelta(days=1),
                      now: datetime | None = None) -> int:
    """Delete the folders of finished (or stale) jobs last updated before `older_than`."""
    root = jobs_root(instance_path)
    if not root.is_dir():
        return 0
    limit = (now or datetime.now(UTC)) - max(older_than, STALE_AFTER)
    removed = 0
    for folder in root.iterdir():
        if not _JOB_ID.fullmatch(folder.name) or not (folder / "job.json").is_file():
            continue
        if datetime.fromisoformat(read_job(folder).updated_at) < limit:
            for item in folder.iterdir():
                item.unlink()
            folder.rmdir()
            removed += 1
    return removed


# --- the job file ---------------------------------------------------------------------------

def read_job(folder: Path) -> ReportJob:
    return ReportJob(**json.loads((folder / "job.json").read_text(encoding="utf-8")))


def write_job(folder: Path, job: ReportJob) -> None:
    """Replace job.json atomically, so a poll never reads half a file."""
    temporary = folder / f".job.json.{os.getpid()}"
    temporary.write_text(json.dumps(asdict(job)), encoding="utf-8")
    os.replace(temporary, folder / "job.json")


def update_job(folder: Path, now: datetime | None = None, **changes) -> ReportJob:
    job = _replace(read_job(folder), updated_at=_stamp(now), **changes)
    write_job(folder, job)
    return job


def _replace(job: ReportJob, **changes) -> ReportJob:
    return ReportJob(**{**asdict(job), **changes})


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).isoformat()


def _folder(instance_path: str | Path, job_id: str) -> Path:
    folder = jobs_root(instance_path) / job_id
    if not _JOB_ID.fullmatch(job_id or "") or not (folder / "job.json").is_file():
        raise NotFound(f"no report job {job_id[:40]!r}")
    return folder


def _reap() -> None:
    """Collect finished worker processes (no zombies); a worker that died without saying so
    leaves its job marked failed."""
    for job_id, process in list(_children.items()):
        code = process.poll()
        if code is None:
            continue
        del _children[job_id]
        folder = _folder_of(process)
        if folder is not None and not read_job(folder).finished:
            update_job(folder, state="failed", error=f"the report worker exited with {code}")


def _folder_of(process: subprocess.Popen) -> Path | None:
    args = process.args
    folder = Path(args[-1]) if isinstance(args, list) and args else None
    return folder if folder is not None and (folder / "job.json").is_file() else None
