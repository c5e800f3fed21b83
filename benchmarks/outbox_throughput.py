"""Outbox throughput against a local SMTP server (aiosmtpd on 127.0.0.1, its own process).

One `send_due` pass over 2,000 due emails (250 participants x 8: welcome + 7 invitations):
claim in batches, compose, hand over, send, record - exactly once. The baseline, measured in
the same run against the same server: smtplib sending the same number of ready-made messages
of the same size over one connection, with no database at all. The server counts the
Message-IDs it receives, so the run also shows that none arrived twice.

    .venv/bin/python -m benchmarks.outbox_throughput [--participants 250] [--url DATABASE_URL]

Without --url the database is an SQLite file in the temporary folder (on disk, so the
durable claims really wait for it).
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import smtplib
import socket
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import SQLModel

from cohort import db, services
from cohort.app import create_app
from cohort.core.programme import load_library
from cohort.demo import demo_participants
from cohort.mail.dispatch import send_due

REPO = Path(__file__).resolve().parent.parent
# A Tuesday morning in Copenhagen: the mail policy holds the first emails on weekends and at
# night, and a Saturday (as this was) left the pass with nothing due.
CREATED = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
TARGET = 0.5
MESSAGE_ID = re.compile(rb"^Message-ID: *(\S+)", re.MULTILINE | re.IGNORECASE)


class Sink:
    """Counts messages and Message-IDs (the aiosmtpd handler)."""

    def __init__(self, counts) -> None:
        self.counts = counts
        self.seen: Counter = Counter()

    async def handle_DATA(self, server, session, envelope):
        found = MESSAGE_ID.search(envelope.content)
        key = found.group(1) if found else b""
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def outbox_pass(port: int, participants: int, database_url: str) -> tuple[int, float]:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench",
                      "PROGRAMMES_DIR": str(REPO / "programmes"),
                      "MAIL_URL": f"smtp://127.0.0.1:{port}",
                      "MAIL_FROM": "Kursus <kursus@cohort.example>"})
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
    with app.app_context():
        started = time.perf_counter()
        report = send_due(app, now=CREATED)
        elapsed = time.perf_counter() - started
    SQLModel.metadata.drop_all(engine)
    engine.dispose()
    return report.sent, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=250)
    parser.add_argument("--url", help="database URL (default: an SQLite file)")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    counts = context.Array("q", 3)  # messages received, duplicate Message-IDs, bytes
    ready, stop = context.Event(), context.Event()
    port = free_port()
    server = context.Process(target=run_sink, args=(port, counts, ready, stop), daemon=True)
    server.start()
    try:
        ready.wait(30)
        with tempfile.TemporaryDirectory() as folder:
            sent, elapsed = outbox_pass(port, args.participants,
                                        args.url or f"sqlite:///{folder}/bench.sqlite3")
        outbox_received, duplicates, size = counts[0], counts[1], counts[2]
        base = baseline(port, sent, size // max(outbox_received, 1))
    finally:
        stop.set()
        server.join(10)
    database = "PostgreSQL" if args.url and args.url.startswith("postgresql") else "SQLite"
    ratio = base / elapsed
    print(f"outbox pass ({database}, {sent} emails, aiosmtpd in its own process): "
          f"{sent / elapsed:7.0f} msg/s ({elapsed:.2f} s); received {outbox_received}, "
          f"duplicate Message-IDs {duplicates}, {size // max(outbox_received, 1)} bytes each")
    print(f"baseline smtplib loop, ready-made messages, no database:  "
          f"{sent / base:7.0f} msg/s ({base:.2f} s)")
    print(f"ratio outbox/baseline: {ratio:.2f} (target >= {TARGET}: "
          f"{'meets' if ratio >= TARGET else 'MISSES'})")


if __name__ == "__main__":
    main()
