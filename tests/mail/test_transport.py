"""Mail transports: the URL setting, .eml files, SMTP replies mapped to errors."""

from __future__ import annotations

import email
import smtplib
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cohort.mail.transport import (
    MailConfigError,
    MailError,
    envelope_address,
    open_transport,
    parse_mail_url,
)
from tests.fixtures.properties import property_settings


def message(to: str = "anne@vejle.example") -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Cohort <kursus@cohort.example>"
    msg["To"] = f"Anne Ærø <{to}>"
    msg["Subject"] = "Påmindelse: æøå"
    msg["Message-ID"] = "<test.1@cohort.example>"
    msg.set_content("Kære Anne Ærø\n", cte="quoted-printable")
    return msg


def test_mail_urls():
    plain = parse_mail_url("smtp://mail.example")
    assert (plain.scheme, plain.host, plain.port, plain.username) == ("smtp", "mail.example",
                                                                     25, None)
    tls = parse_mail_url("smtp+starttls://bruger%40kommune.dk:hemmelig%21@smtp.kommune.dk")
    assert (tls.port, tls.username, tls.password) == (587, "bruger@kommune.dk", "hemmelig!")
    assert tls.description == "smtp+starttls://bruger@kommune.dk@smtp.kommune.dk:587"
    assert parse_mail_url("smtps://x.example").port == 465
    assert parse_mail_url("smtp://x.example:2525").port == 2525
    assert parse_mail_url("file:///var/mail/cohort").folder == Path("/var/mail/cohort")
    for bad, message_part in [("http://x.example", "must start with smtp://"),
                              ("smtp://", "no host"), ("file://relative/path", "file:///"),
                              ("smtp://x.example:port", "port is not a number")]:
        with pytest.raises(MailConfigError, match=message_part):
            parse_mail_url(bad)


def test_file_transport_writes_complete_eml_files(tmp_path):
    folder = tmp_path / "mail"
    transport = open_transport(parse_mail_url(f"file://{folder}"))
    transport.send(message())
    transport.send(message("bo@kolding.example"))
    files = sorted(folder.iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=default)
    assert str(parsed["Subject"]) == "Påmindelse: æøå"
    assert parsed.get_content().replace("\r\n", "\n") == "Kære Anne Ærø\n"


def test_smtp_replies_become_errors_with_their_codes(smtp_sink):
    transport = open_transport(parse_mail_url(smtp_sink.url), timeout=5)
    smtp_sink.refuse["gone@x.example"] = "550 5.1.1 Mailbox unavailable"
    smtp_sink.data_replies.append("452 4.3.1 Insufficient storage")
    with pytest.raises(MailError) as refused:
        transport.send(message("gone@x.example"))
    assert (refused.value.code, refused.value.permanent) == (550, True)
    with pytest.raises(MailError) as full:
        transport.send(message())
    assert (full.value.code, full.value.text, full.value.permanent) == (
        452, "4.3.1 Insufficient storage", False)
    transport.send(message())  # the same connection recovers after refusals
    transport.close()
    assert smtp_sink.count() == 1 and smtp_sink.envelopes[0][1] == ["anne@vejle.example"]


def test_starttls_against_a_server_without_it_is_a_clear_error(smtp_sink):
    transport = open_transport(parse_mail_url(
        f"smtp+starttls://127.0.0.1:{smtp_sink.port}"), timeout=5)
    with pytest.raises(MailError) as caught:
        transport.send(message())
    assert caught.value.unavailable and "STARTTLS" in caught.value.text


@property_settings(300)
@given(st.one_of(st.emails(), st.text(), st.from_regex(
    r"\A[a-zA-Z0-9.!#%'*+/=?^_`{|}~<>(),;:\"\\ -]{1,12}@[a-zA-Z0-9.<>\"-]{0,12}\Z")))
@example('anne@vejle.example')
@example('Anne <anne@vejle.example>')
@example('a..b@c.d')
@example('.a@b.c')
@example('a.@b.c')
@example('a@b..c')
@example('a@-b.c')
@example('')
@example('"a b"@c.d')
@example('a@b.c (Anne)')
@example('æ@ø.dk')
@example('a@b.c.')
@example("o'neil+x@y.z")
def test_envelope_addresses_are_what_smtplib_makes_of_them(address):
    """The sender threads skip smtplib's address parsing for plain addresses: the MAIL FROM
    and RCPT TO they write are the same as smtplib's for any address."""
    assert envelope_address(address) == smtplib.quoteaddr(address)


def test_the_envelope_reaches_the_server(smtp_sink):
    from cohort.mail.transport import RawMessage

    transport = open_transport(parse_mail_url(smtp_sink.url), timeout=5)
    data = bytes(message("o'neil+kursus@vejle.example"))
    transport.send(RawMessage("kursus@cohort.example", ["o'neil+kursus@vejle.example"], data))
    transport.send(RawMessage("kursus@cohort.example", ["Bo <bo@kolding.example>"], data))
    transport.close()
    assert smtp_sink.envelopes[0][1] == ["o'neil+kursus@vejle.example"]
    assert smtp_sink.envelopes[1][1] == ["bo@kolding.example"]
    assert {e[0] for e in smtp_sink.envelopes} == {"kursus@cohort.example"}
