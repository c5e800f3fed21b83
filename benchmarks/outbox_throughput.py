"""Outbox throughput against a local SMTP server (aiosmtpd on 127.0.0.1).

Prints messages per second for one `send_due` pass (compose, claim, send, mark: two committed
transactions per message) and, as the baseline measured in the same run, for smtplib sending
the same number of ready-made messages over one connection. The ratio is the price of the
exactly-once bookkeeping and of composing each email.

    .venv/bin/python -m benchmarks.outbox_throughput [participants]   (8 emails each)
"""

from __future__ import annotations

import smtplib
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from cohort import db, services
from cohort.app import create_app
from cohort.core.programme import load_library
from cohort.demo import demo_participants
from cohort.outbox import send_due

REPO = Path(__file__).resolve().parent.parent
CREATED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def baseline(port: int, count: int) -> float:
    message = EmailMessage()
    message["From"] = "kursus@cohort.example"
    message["To"] = "anne@vejle.example"
    message["Subject"] = "Påmindelse"
    message.set_content("Kære Anne\n" * 30)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(count):
            smtp.send_message(message)
    return time.perf_counter() - started


def outbox_pass(port: int, participants: int, database_url: str) -> tuple[int, float]:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench",
                      "PROGRAMMES_DIR": str(REPO / "programmes"),
                      "MAIL_URL": f"smtp://127.0.0.1:{port}"})
    engine = app.extensions["cohort.engine"]
    db.create_schema(engine)
    library = load_library(REPO / "programmes")
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"], date(2025, 4, 8))
    people = [p.__class__(p.name, f"{i}.{p.email}", p.organisation, p.role, p.language)
              for i, p in enumerate(demo_participants(participants))]
    with db.transaction(engine) as session:
        services.create_cohort(session, new, people, now=CREATED)
    with app.app_context():
        started = time.perf_counter()
        report = send_due(app, now=CREATED)
        elapsed = time.perf_counter() - started
    engine.dispose()
    return report.sent, elapsed


def main() -> None:
    participants = int(sys.argv[1]) if len(sys.argv) > 1 else 63
    sink = Counter()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            sent, elapsed = outbox_pass(controller.port, participants,
                                        f"sqlite:///{folder}/bench.sqlite3")
            base = baseline(controller.port, sent)
    finally:
        controller.stop()
    print(f"messages: {sent} (SQLite, one pass, aiosmtpd on 127.0.0.1)")
    print(f"baseline smtplib, ready-made messages: {sent / base:8.0f} msg/s ({base:.2f} s)")
    print(f"outbox pass, exactly-once:             {sent / elapsed:8.0f} msg/s ({elapsed:.2f} s)")
    print(f"ratio outbox/baseline time: {elapsed / base:.1f}x")


if __name__ == "__main__":
    main()
