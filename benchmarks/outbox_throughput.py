"""Outbox throughput against a local SMTP server (aiosmtpd on 127.0.0.1, its own process).

One `send_due` pass over 2,000 due emails (250 participants x 8: welcome + 7 invitations):
claim in batches, compose, hand over, send, record - exactly once. The baseline, measured in
the same run against the same server: smtplib sending the same number of ready-made messages
of the same size over one connection, with no database at all. The server counts the
Message-IDs it receives, so the run also shows that none arrived twice.

    .venv/bin/python -m benchmarks.outbox_throughput [--participants 250] [--runs 3]
        [--database sqlite|postgresql|both] [--url DATABASE_URL]

The database is prepared once per kind and copied for every run (an SQLite file in the
temporary folder, on disk so the durable claims really wait for it; a throwaway PostgreSQL
server, benchmarks/postgres.py, its database used as a template). Each run is an outbox pass
followed at once by the smtplib loop, so the two share the machine's load of that moment; the
ratio printed is the median of the runs (the machine is shared: read several).

Each run also prints the CPU time per email of this process (the outbox pass: claim, compose,
hand over, send, record; the loop: smtplib alone), of the SMTP server's process and, for a
PostgreSQL server on this machine, of the database server during the pass. When the
machine's cores are busy with other work, the ratio tends to the ratio of the CPU the two
spend per email (servers included), whatever overlaps in the pass: those figures say where the
time goes when the wall-clock ratio swings with the load.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import smtplib
import statistics
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, make_url
from sqlmodel import SQLModel

from cohort import db, services
from cohort.app import create_app
from cohort.core.programme import load_library
from cohort.demo import demo_participants
from cohort.mail.dispatch import send_due

from .loadtest import free_port
from .postgres import throwaway_postgres

REPO = Path(__file__).resolve().parent.parent
# A Tuesday morning in Copenhagen: the mail policy holds the first emails on weekends and at
# night, and a Saturday (as this was) left the pass with nothing due.
CREATED = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
TARGET = 0.7  # issue #24
MESSAGE_ID = re.compile(rb"^Message-ID: *(\S+)", re.MULTILINE | re.IGNORECASE)


class Sink:
    """Counts messages and Message-IDs (the aiosmtpd handler)."""

    def __init__(self, counts) -> None:
        self.counts = counts
        self.seen: Counter = Counter()

    async def handle_DATA(self, server, session, envelope):
        found = MESSAGE_ID.search(envelope.content)
        key = (self.counts[3], found.group(1) if found else b"")  # per run: see paired_runs
        self.seen[key] += 1
        self.counts[0] += 1
        self.counts[2] += len(envelope.content)
        if self.seen[key] > 1:
            self.counts[1] += 1
        return "250 OK"


def run_sink(port: int, counts, ready, stop) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(Sink(counts), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def baseline(port: int, count: int, size: int) -> float:
    """smtplib and ready-made bytes of the outbox's average size (measured by the sink in the
    outbox's run): the floor for sending."""
    head = (b"From: kursus@cohort.example\r\nTo: anne@vejle.example\r\nSubject: Test\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n")
    body = b"\r\n" + (b"K=C3=A6re Anne, dette er en besked.\r\n" * (size // 38 + 1))[:size]
    messages = [head + f"Message-ID: <baseline-{i}@cohort.example>\r\n".encode() + body
                for i in range(count)]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for message in messages:
            smtp.sendmail("kursus@cohort.example", ["anne@vejle.example"], message)
    return time.perf_counter() - started


def _app(database_url: str, port: int):
    return create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench",
                       "PROGRAMMES_DIR": str(REPO / "programmes"),
                       "MAIL_URL": f"smtp://127.0.0.1:{port}",
                       "MAIL_FROM": "Kursus <kursus@cohort.example>"})


def prepare(database_url: str, participants: int) -> None:
    """The launched cohort whose emails are due, written once; every run starts from a copy."""
    app = _app(database_url, 25)
    engine = app.extensions["cohort.engine"]
    SQLModel.metadata.drop_all(engine)
    db.create_schema(engine)
    library = load_library(REPO / "programmes")
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"], date(2025, 4, 8))
    people = [p.__class__(p.name, f"{i}.{p.email}", p.organisation, p.role, p.language)
              for i, p in enumerate(demo_participants(participants))]
    with db.transaction(engine) as session:
        cohort = services.create_cohort(session, new, people, now=CREATED)
        services.launch_cohort(session, cohort.id, None, CREATED)  # drafts send nothing
    engine.dispose()


class Copies:
    """A fresh copy of the prepared database for each run: the SQLite file copied, or a
    PostgreSQL database made from the prepared one as its template."""

    def __init__(self, prepared_url: str, folder: str) -> None:
        self.prepared_url = prepared_url
        self.folder = folder
        self.number = 0

    def fresh(self) -> str:
        self.number += 1
        url = make_url(self.prepared_url)
        if url.get_backend_name() == "sqlite":
            copy = Path(self.folder) / f"run-{self.number}.sqlite3"
            shutil.copyfile(url.database, copy)
            return f"sqlite:///{copy}"
        name = f"run_{self.number}"
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE {name} TEMPLATE "{url.database}"')
        engine.dispose()
        return url.set(database=name).render_as_string(hide_password=False)


def outbox_pass(port: int, database_url: str) -> tuple[int, float]:
    app = _app(database_url, port)
    engine = app.extensions["cohort.engine"]
    with app.app_context():
        started = time.perf_counter()
        report = send_due(app, now=CREATED)
        elapsed = time.perf_counter() - started
    engine.dispose()
    return report.sent, elapsed


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def database_server(database_url: str) -> int | None:
    """The process id of the PostgreSQL server behind `database_url` when it runs on this
    machine (the throwaway one), else None (SQLite: its work is in the pass's own CPU)."""
    if not database_url.startswith("postgresql"):
        return None
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        return int(_stat(backend)[1])  # the backend's parent: the postmaster
    except (OSError, ValueError):
        return None
    finally:
        engine.dispose()


def _children(server: int) -> dict[str, int]:
    """The server's live processes and the CPU ticks each has used."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat(entry.name)
            except OSError:
                continue
            if fields[1] == str(server):
                found[entry.name] = int(fields[11]) + int(fields[12])
    return found


def database_cpu(server: int | None, lasting: frozenset[str] = frozenset()) -> float:
    """CPU seconds (user + system) the PostgreSQL server has used so far: the postmaster, its
    lasting processes (`lasting`: checkpointer, writers, launchers) and the backends it has
    reaped. Waits (up to 5 s) for the backends of a pass to be gone first: a backend reaped
    between reading the live ones and the postmaster's total would be missed."""
    if server is None:
        return 0.0
    deadline = time.monotonic() + 5
    while set(children := _children(server)) - lasting and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        own = _stat(server)
    except OSError:
        return 0.0
    ticks = sum(int(own[i]) for i in (11, 12, 13, 14)) + sum(children.values())
    return ticks / os.sysconf("SC_CLK_TCK")


def paired_runs(port: int, counts, copies: Copies, runs: int,
                sink_pid: int) -> list[tuple[int, float, float, list[float]]]:
    """Each run: one outbox pass on a fresh copy, then the smtplib loop for as many messages
    of the size the sink just received: (emails, outbox seconds, baseline seconds, CPU ms
    per email of: the pass, the server during the pass, the loop, the server during the loop)."""
    results = []
    server = database_server(copies.prepared_url)
    lasting = frozenset(_children(server)) if server else frozenset()
    for _ in range(runs):
        url = copies.fresh()
        counts[3] += 1  # each run's copy sends the same Message-IDs again: count apart
        before = counts[0], counts[2]
        cpu = [time.process_time(), process_cpu(sink_pid)]
        database = database_cpu(server, lasting)
        sent, elapsed = outbox_pass(port, url)
        database = database_cpu(server, lasting) - database
        cpu += [time.process_time(), process_cpu(sink_pid)]
        received, size = counts[0] - before[0], counts[2] - before[1]
        base = baseline(port, sent, size // max(received, 1))
        cpu += [time.process_time(), process_cpu(sink_pid)]
        per_email = [1000 * (cpu[i + 2] - cpu[i]) / max(sent, 1) for i in range(4)]
        per_email.append(1000 * database / max(sent, 1))
        results.append((sent, elapsed, base, per_email))
        print(f"  run: outbox {sent / elapsed:6.0f} msg/s ({elapsed:.2f} s), smtplib "
              f"{sent / base:6.0f} msg/s ({base:.2f} s), ratio {base / elapsed:.2f}; "
              f"received {received}, {size // max(received, 1)} bytes each; "
              f"load {load_average()}", flush=True)
        print(f"       CPU ms per email: outbox {per_email[0]:.2f} + server "
              f"{per_email[1]:.2f}" + (f" + database {per_email[4]:.2f}" if server else "")
              + f"; smtplib {per_email[2]:.2f} + server {per_email[3]:.2f}", flush=True)
    return results


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3,
                        help="paired runs per database (outbox pass, then the smtplib loop)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"),
                        default="both", help="default: both (PostgreSQL thrown away after)")
    parser.add_argument("--url", help="an existing database to prepare and copy instead")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    counts = context.Array("q", 4)  # messages received, duplicate Message-IDs, bytes, run
    ready, stop = context.Event(), context.Event()
    port = free_port()
    server = context.Process(target=run_sink, args=(port, counts, ready, stop), daemon=True)
    server.start()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    summary = []
    try:
        ready.wait(30)
        for database in databases:
            with ExitStack() as stack:
                folder = stack.enter_context(tempfile.TemporaryDirectory())
                if args.url:
                    url = args.url
                elif database == "postgresql":
                    url = stack.enter_context(throwaway_postgres())
                else:
                    url = f"sqlite:///{folder}/prepared.sqlite3"
                name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
                print(f"{name}: {args.runs} paired runs, load {load_average()}", flush=True)
                prepare(url, args.participants)
                summary.append((name, paired_runs(port, counts, Copies(url, folder),
                                                  args.runs, server.pid)))
            if args.url:
                break
    finally:
        stop.set()
        server.join(10)
    print(f"duplicate Message-IDs at the sink: {counts[1]} (must be 0)")
    for name, results in summary:
        ratios = sorted(base / elapsed for _sent, elapsed, base, _cpu in results)
        median = statistics.median(ratios)  # of an even number: the mean of the middle two
        cpu = [statistics.median(run[3][i] for run in results) for i in range(5)]
        print(f"outbox pass ({name}, {results[0][0]} emails, aiosmtpd in its own process) / "
              f"smtplib loop: median ratio {median:.2f} of {len(ratios)} paired runs "
              f"({', '.join(f'{r:.2f}' for r in ratios)}); target >= {TARGET}: "
              f"{'meets' if median >= TARGET else 'MISSES'}; median CPU ms per email: outbox "
              f"{cpu[0]:.2f} + server {cpu[1]:.2f}"
              + (f" + database {cpu[4]:.2f}" if name == "PostgreSQL" else "")
              + f", smtplib {cpu[2]:.2f} + server {cpu[3]:.2f}")


if __name__ == "__main__":
    main()
