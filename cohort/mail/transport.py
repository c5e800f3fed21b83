"""Mail transports chosen by one setting, COHORT_MAIL_URL.

    smtp://user:pass@host:25           plain SMTP (login only if a user is given)
    smtp+starttls://user:pass@host:587 SMTP upgraded with STARTTLS
    smtps://user:pass@host:465         SMTP over TLS
    file:///path/to/folder             each message written as an .eml file (the demo default)

Only `cohort/mail/dispatch.py` calls `send`; a transport keeps its connection open across a
batch and reconnects after an error. Every failure is reported as `MailError` with the SMTP code
and text when the server gave one, and whether it is permanent (5xx) or worth retrying (4xx,
refused connections, timeouts).
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ..core.sending import is_permanent_smtp_code

DEFAULT_SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailConfigError(ValueError):
    """COHORT_MAIL_URL cannot be understood."""


class MailError(Exception):
    """A message was not accepted. `unavailable` means the transport itself is down (nothing
    else will get through in this pass either)."""

    def __init__(self, code: int | None, text: str, *, permanent: bool,
                 unavailable: bool = False) -> None:
        super().__init__(f"{code} {text}" if code else text)
        self.code = code
        self.text = text
        self.permanent = permanent
        self.unavailable = unavailable


@dataclass(frozen=True)
class MailSettings:
    scheme: str
    host: str = ""
    port: int = 0
    username: str | None = None
    password: str | None = None
    folder: Path | None = None

    @property
    def description(self) -> str:
        """The URL without its password, for logs and the facilitator's screen."""
        if self.folder is not None:
            return f"file://{self.folder}"
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def parse_mail_url(url: str) -> MailSettings:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise MailConfigError(f"'{url}': write a folder as file:///absolute/path")
        return MailSettings(scheme, folder=Path(unquote(parts.path)))
    if scheme not in DEFAULT_SMTP_PORTS:
        raise MailConfigError(
            f"'{url}': the mail URL must start with smtp://, smtp+starttls://, smtps:// or "
            "file://")
    if not parts.hostname:
        raise MailConfigError(f"'{url}': no host name")
    try:
        port = parts.port or DEFAULT_SMTP_PORTS[scheme]
    except ValueError:
        raise MailConfigError(f"'{url}': the port is not a number") from None
    return MailSettings(scheme, parts.hostname, port,
                        unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password else None)


@dataclass(frozen=True)
class RawMessage:
    """A message already written out as bytes (CRLF lines), with its envelope."""

    sender: str
    recipients: list[str]
    data: bytes
    message_id: str = ""

    def __bytes__(self) -> bytes:
        return self.data


class Transport(Protocol):
    def send(self, message: EmailMessage | RawMessage) -> None: ...

    def close(self) -> None: ...


def open_transport(settings: MailSettings, timeout: float = 30.0) -> Transport:
    if settings.folder is not None:
        return FileTransport(settings.folder)
    return SMTPTransport(settings, timeout)


class FileTransport:
    """Writes each message as an RFC 5322 .eml file any mail program can open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage | RawMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            partial = self.folder / f".{name}.part"
            partial.write_bytes(bytes(message))
            os.replace(partial, self.folder / name)  # never a half-written .eml
        except OSError as exc:
            raise MailError(None, f"cannot write to {self.folder}: {exc}",
                            permanent=False, unavailable=True) from exc

    def close(self) -> None:
        pass


# A plain address: dot-separated atoms (RFC 5322 atext), "@", a domain of labels. smtplib
# quotes every envelope address by parsing it as a header would be (email.utils.parseaddr,
# about a tenth of a sender thread's CPU); for these the answer is always "<address>".
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def envelope_address(address: str) -> str:
    """What smtplib.quoteaddr makes of `address`, without parsing a plain one."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


class _PlainEnvelope:
    """MAIL FROM and RCPT TO as smtplib writes them, with `envelope_address`."""

    def mail(self, sender, options=()):
        if any(option.lower() == "smtputf8" for option in options):
            return super().mail(sender, options)  # switches the command encoding
        listed = " " + " ".join(options) if options and self.does_esmtp else ""
        self.putcmd("mail", f"FROM:{envelope_address(sender)}{listed}")
        return self.getreply()

    def rcpt(self, recip, options=()):
        listed = " " + " ".join(options) if options and self.does_esmtp else ""
        self.putcmd("rcpt", f"TO:{envelope_address(recip)}{listed}")
        return self.getreply()


class _SMTP(_PlainEnvelope, smtplib.SMTP):
    pass


class _SMTP_SSL(_PlainEnvelope, smtplib.SMTP_SSL):
    pass


class SMTPTransport:
    def __init__(self, settings: MailSettings, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage | RawMessage) -> None:
        smtp = self._connection()
        try:
            if isinstance(message, RawMessage):
                refused = smtp.sendmail(message.sender, message.recipients, message.data)
            else:
                sender = parseaddr(str(message["Sender"] or message["From"]))[1]
                recipients = [parseaddr(str(message["To"]))[1]]
                refused = smtp.send_message(message, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._after_failure(code)
            raise _reply_error(code, text) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, ...
            self._after_failure(exc.smtp_code)
            raise _reply_error(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, resets
            self._drop()
            raise MailError(None, _describe(exc), permanent=False) from exc
        if refused:  # only with several recipients; we send to one
            code, text = next(iter(refused.values()))
            raise _reply_error(code, text)

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._drop()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        try:
            if s.scheme == "smtps":
                self._smtp = _SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                              context=ssl.create_default_context())
            else:
                self._smtp = _SMTP(s.host, s.port, timeout=self.timeout)
                if s.scheme == "smtp+starttls":
                    self._smtp.starttls(context=ssl.create_default_context())
            if s.username:
                self._smtp.login(s.username, s.password or "")
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise MailError(exc.smtp_code, _text(exc.smtp_error), permanent=False,
                            unavailable=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise MailError(None, f"cannot reach {s.description}: {_describe(exc)}",
                            permanent=False, unavailable=True) from exc
        return self._smtp

    def _after_failure(self, code: int) -> None:
        """421 closes the session; after other refusals reset it so the next message starts
        clean (smtplib leaves the transaction open after a refused recipient)."""
        if code == 421:
            self._drop()
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError, AttributeError):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.close()
        self._smtp = None


def _reply_error(code: int, text: bytes | str) -> MailError:
    return MailError(code, _text(text), permanent=is_permanent_smtp_code(code))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
