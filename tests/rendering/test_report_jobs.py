"""Rendering in a background process: the web polls the job, then fetches the PDF."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from cohort import services
from cohort.rendering import jobs
from tests.fixtures.pdf import flat, pages_text
from tests.fixtures.report import STATEMENTS


def wait_for(app, job_id: str, seconds: float = 90) -> jobs.ReportJob:
    deadline = time.monotonic() + seconds
    seen = set()
    while time.monotonic() < deadline:
        job = jobs.report_job(app.instance_path, job_id)
        seen.add(job.state)
        if job.finished:
            return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} did not finish in {seconds} s (states seen: {seen})")


def test_a_report_job_renders_the_pdf_in_another_process(app, known_cohort):
    started = time.monotonic()
    job = jobs.start_report_job(app, known_cohort, "da")
    assert time.monotonic() - started < 1  # the request returns at once
    assert job.state == "queued" and len(job.id) == 32
    with pytest.raises(services.NotFound, match="not ready"):
        jobs.report_job_pdf(app.instance_path, job.id)
    done = wait_for(app, job.id)
    assert done.state == "done", done.error
    assert done.step == done.steps == 5 and done.pages >= 8
    pdf = jobs.report_job_pdf(app.instance_path, job.id)
    assert pdf.parent.parent == jobs.jobs_root(app.instance_path)
    assert STATEMENTS["new-tools"] in flat("\n".join(pages_text(pdf)))


def test_a_job_that_cannot_be_done_says_why(app):
    job = jobs.start_report_job(app, 999)
    failed = wait_for(app, job.id)
    assert failed.state == "failed" and failed.error == "no cohort 999"


def test_job_ids_are_checked(app):
    for bad in ("../../secret_key", "0" * 32, "", "x" * 32):
        with pytest.raises(services.NotFound):
            jobs.report_job(app.instance_path, bad)
        with pytest.raises(services.NotFound):
            jobs.report_job_pdf(app.instance_path, bad)


def fake_job(app, state: str, updated: datetime) -> str:
    job_id = f"{len(list(jobs.jobs_root(app.instance_path).glob('*'))):032x}"
    folder = jobs.jobs_root(app.instance_path) / job_id
    folder.mkdir(parents=True)
    jobs.write_job(folder, jobs.ReportJob(job_id, 1, None, None, state,
                                          created_at=updated.isoformat(),
                                          updated_at=updated.isoformat()))
    return job_id


def test_busy_stale_and_pruned_jobs(app):
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    jobs.jobs_root(app.instance_path).mkdir(parents=True)
    running = [fake_job(app, "running", now - timedelta(minutes=1)) for _ in range(2)]
    with pytest.raises(jobs.ReportJobsBusy):
        jobs.start_report_job(app, 1, now=now)
    stale = fake_job(app, "running", now - timedelta(hours=1))
    assert jobs.report_job(app.instance_path, stale, now).state == "failed"
    assert "stopped" in jobs.report_job(app.instance_path, stale, now).error
    assert jobs.report_job(app.instance_path, running[0], now).state == "running"
    old = fake_job(app, "done", now - timedelta(days=2))
    assert jobs.prune_report_jobs(app.instance_path, timedelta(days=1), now) == 1
    with pytest.raises(services.NotFound):
        jobs.report_job(app.instance_path, old)
    assert len(jobs.active_jobs(app.instance_path, now)) == 2  # the stale one is not active
    assert jobs.prune_report_jobs(app.instance_path, timedelta(days=1),
                                  now + timedelta(days=2)) == 3


def test_a_person_has_one_running_job_at_a_time(app):
    """Their own limit is said as theirs (`ReportJobsBusyForYou`), before the overall one."""
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    folder = jobs.jobs_root(app.instance_path) / ("a" * 32)
    folder.mkdir(parents=True)
    jobs.write_job(folder, jobs.ReportJob("a" * 32, 1, None, None, "running",
                                          created_at=now.isoformat(),
                                          updated_at=now.isoformat(), requested_by=7))
    with pytest.raises(jobs.ReportJobsBusyForYou):
        jobs.start_report_job(app, 1, now=now, requested_by=7)
    fake_job(app, "running", now)  # the second slot taken by someone else
    with pytest.raises(jobs.ReportJobsBusy) as overall:
        jobs.start_report_job(app, 1, now=now, requested_by=8)
    assert not isinstance(overall.value, jobs.ReportJobsBusyForYou)
