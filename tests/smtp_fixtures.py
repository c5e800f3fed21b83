"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives.

Tests script its answers: `sink.data_replies` answers the next DATA commands (e.g. three times
"421 ..." before accepting), `sink.refuse[address]` answers RCPT for one address (e.g. 550).
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections import Counter, deque
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller


class SMTPSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.data_replies: deque[str] = deque()
        self.refuse: dict[str, str] = {}
        self.attempts = 0
        # Hold the connection open after recording the DATA number `hold_at` (crash tests).
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.controller: Controller | None = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.attempts += 1
            if self.data_replies:
                return self.data_replies.popleft()
            self.raw.append(envelope.content)
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            hold = self.hold_at is not None and len(self.messages) == self.hold_at
        if hold:  # the message is in; the client has not heard "250" yet
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        return "250 OK: queued"

    # helpers for tests
    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def message_ids(self) -> Counter:
        with self._lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"].addresses[0].addr_spec == address]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = SMTPSink()
    sink.controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    sink.controller.start()
    yield sink
    sink.controller.stop()
