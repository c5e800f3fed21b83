"""Rendering a delivery's data into a real email: multipart plain text + HTML.

Each kind has `templates/emails/<kind>.txt` and `<kind>.html`. They are rendered in the
recipient's language under Flask-Babel's `force_locale`, with their own gettext domain
("emails", catalogs in `cohort/translations/<lang>/LC_MESSAGES/emails.po`, read directly so no
compiled .mo has to be kept in step): emails follow the recipient's language, not the browser's.
Dates and times are shown in the cohort's time zone.

Rendering reads no database: everything an email says and carries was gathered when it was
composed (`mail.compose.MessageData`), the .ics of meeting invitations, updates and
cancellations too (`MessageData.calendar`, made by `mail.compose.meeting_attachment`).
"""

from __future__ import annotations

import base64
import io
import itertools
import secrets
from binascii import b2a_qp
from dataclasses import dataclass, replace
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime as rfc5322_date
from email.utils import formataddr, parseaddr
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import Domain, force_locale, get_locale
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from ..core import deliveries as kinds
from ..core.attendance import CATCH_UP
from ..core.text import one_line
from .compose import BUNDLE, STAFF_ACTIVATION, CalendarAttachment, MessageData
from .transport import RawMessage

PACKAGE = Path(__file__).resolve().parents[1]  # cohort/
TEMPLATES = PACKAGE.parent / "templates"
TRANSLATIONS = PACKAGE / "translations"
LANGUAGES = ("da", "nb", "en")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class PoDomain(Domain):
    """A Flask-Babel domain whose catalogs are read from .po files (compiled in memory)."""

    def get_translations(self):
        locale = str(get_locale() or "en")
        if locale not in self.cache:
            self.cache[locale] = _load_po(Path(self.translation_directories[0]), locale,
                                          self.domain[0])
        return self.cache[locale]


def _load_po(directory: Path, locale: str, domain: str):
    path = directory / locale / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return support.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return support.Translations(compiled, domain=domain)


EMAILS = PoDomain(str(TRANSLATIONS), domain="emails")
_ = EMAILS.gettext
ngettext = EMAILS.ngettext


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # no stat() of every template for every email; restart to reload
    )
    env.install_gettext_callables(
        gettext=lambda s: EMAILS.get_translations().ugettext(s),
        ngettext=lambda s, p, n: EMAILS.get_translations().ungettext(s, p, n),
        newstyle=True,
    )
    return env


def render(data: MessageData) -> RenderedEmail:
    """Subject, plain text and HTML of one message, in the recipient's language.

    A batch of emails mostly repeats one text to many people (the same invitation to 60
    participants): the text is rendered once per "shape" (the message without its recipient's
    address, name and personal links, which the templates only insert, never inspect) and the
    personal parts are put in afterwards, escaped for HTML as Jinja would. Everything else
    (groups, catch-up items, ...) is part of the shape. tests/mail/test_render_snapshots.py checks
    this against `render_directly`.
    """
    if data.digest is not None or data.sections or data.activation_url:  # one person's own
        return render_directly(data)
    personal = {_NAME: data.greeting_name, _URL: data.personal_url,
                _CALENDAR_URL: data.calendar_url,
                _SURVEY_URL: data.survey.url if data.survey is not None else None}
    shape = replace(
        data, delivery_id=0, message_id="", to_address="", to_name="",
        greeting_name=_NAME if data.greeting_name else None,
        personal_url=_URL if data.personal_url else None,
        calendar_url=_CALENDAR_URL if data.calendar_url else None,
        survey=replace(data.survey, url=_SURVEY_URL if data.survey.url else None)
        if data.survey is not None else None,
        meeting=_material_shape(data.meeting, data.personal_url),
        calendar=None)  # names the recipient as attendee; the templates do not show it
    rendered = _render_shape(shape)
    subject, text, html = rendered.subject, rendered.text, rendered.html
    for placeholder, value in personal.items():
        value = value or ""
        subject = subject.replace(placeholder, value)
        text = text.replace(placeholder, value)
        html = html.replace(placeholder, str(escape(value)))
    return RenderedEmail(subject, text, html)


def _material_shape(meeting, personal_url: str | None):
    """The meeting with its files' links (the personal link continuing to the download)
    written with the personal link's stand-in, so one shape serves every recipient."""
    if meeting is None or not meeting.materials or not personal_url:
        return meeting
    return replace(meeting, materials=tuple(
        replace(m, url=_URL + m.url[len(personal_url):])
        if m.url.startswith(personal_url) else m for m in meeting.materials))


# Stand-ins for the personal parts: no template or translation can contain them.
_NAME = "\x00greeting-name\x00"
_URL = "\x00personal-url\x00"
_CALENDAR_URL = "\x00calendar-url\x00"
_SURVEY_URL = "\x00survey-url\x00"


@lru_cache(maxsize=512)
def _render_shape(shape: MessageData) -> RenderedEmail:
    return render_directly(shape)


def render_directly(data: MessageData) -> RenderedEmail:
    """`render` without the cache: every template rendered for this one message."""
    language = data.language if data.language in LANGUAGES else "da"
    with force_locale(language):
        helpers = _Helpers(ZoneInfo(data.timezone), language)
        context = dict(m=data, kinds=kinds, when=helpers.when, day=helpers.day,
                       time=helpers.time, lang=language)
        env = _environment()
        if data.sections:
            context["sections"] = [_section(env, section, context, helpers)
                                   for section in data.sections]
        return RenderedEmail(
            subject=_subject(data, helpers),
            text=env.get_template(f"emails/{data.kind}.txt").render(context),
            html=env.get_template(f"emails/{data.kind}.html").render(context),
        )


@dataclass(frozen=True)
class _Section:
    heading: str
    text: str
    html: Markup


def _section(env: Environment, section: MessageData, context: dict,
             helpers: _Helpers) -> _Section:
    """One item of a bundle: its own email's body block (the greeting, personal link and
    signature are the bundle's), under its own subject as the heading."""
    parts = []
    for suffix in ("txt", "html"):
        template = env.get_template(f"emails/{section.kind}.{suffix}")
        block = template.blocks["body"](template.new_context({**context, "m": section}))
        parts.append("".join(block).strip())
    return _Section(_subject(section, helpers), parts[0], Markup(parts[1]))


def build_message(data: MessageData, now: datetime, mail_from: str) -> EmailMessage:
    """An RFC 5322 message: headers with æøå encoded, plain text + HTML, optional .ics."""
    rendered = render(data)
    message = EmailMessage(policy=SMTP)
    for name, value in _headers(data, rendered, now, mail_from):
        message[name] = Address(display_name=value[0], addr_spec=value[1]) \
            if isinstance(value, tuple) else value
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    if data.calendar is not None:
        _attach_calendar(message, data.calendar)
    # Last: set_content clears Content-* headers and add_attachment moves them into a part.
    message["Content-Language"] = data.language
    return message


def build_outgoing(data: MessageData, now: datetime, mail_from: str) -> RawMessage:
    """What the outbox sends: the same message as `build_message`, written out directly.

    Python's email package spends about 2 ms building and serialising one message (it parses
    every header it is given); the outbox sends thousands, so the message is written here with
    the standard encoders (RFC 2047 words, quoted-printable, base64) in the email package's
    layout: multipart/alternative (plain text, HTML, and the meeting's text/calendar), inside
    multipart/mixed with the .ics file when there is one. The tests check that it parses back
    to what `build_message` says.
    """
    rendered = render(data)
    attachment = data.calendar
    alternatives = [_text_part("plain", rendered.text), _text_part("html", rendered.html)]
    if attachment is not None:
        alternatives.append(_text_part("calendar", attachment.ics.decode("utf-8"),
                                       f'; method="{attachment.method}"'))
    content_type, body = _multipart("alternative", alternatives)
    if attachment is not None:
        content_type, body = _multipart("mixed", [
            f"Content-Type: {content_type}\r\n\r\n".encode("ascii") + body,
            _attachment_part(attachment)])
    lines = [f"{name}: {_encode_header(name, value)}"
             for name, value in _headers(data, rendered, now, mail_from)]
    lines += ["MIME-Version: 1.0", f"Content-Type: {content_type}",
              f"Content-Language: {data.language}", "", ""]
    return RawMessage(_address(mail_from)[1], [data.to_address],
                      "\r\n".join(lines).encode("ascii") + body, data.message_id)


# Boundaries need only be unique and absent from the parts (quoted-printable and base64
# never write "=_"): a random prefix per process and a count, not a uuid4 (a system call).
_BOUNDARY_PREFIX = secrets.token_hex(12)
_BOUNDARY_NUMBER = itertools.count(1)


def _multipart(subtype: str, parts: list[bytes]) -> tuple[str, bytes]:
    """(Content-Type, body) of a multipart of already written parts (headers and body)."""
    boundary = f"=_{_BOUNDARY_PREFIX}.{next(_BOUNDARY_NUMBER)}"
    delimiter = f"--{boundary}\r\n".encode("ascii")
    body = b"".join(delimiter + part + b"\r\n" for part in parts)
    return (f'multipart/{subtype};\r\n boundary="{boundary}"',
            body + f"--{boundary}--\r\n".encode("ascii"))


def _text_part(subtype: str, text: str, parameters: str = "") -> bytes:
    body = b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    body = body.replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return (f'Content-Type: text/{subtype}; charset="utf-8"{parameters}\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii") + body


def _attachment_part(attachment: CalendarAttachment) -> bytes:
    body = base64.encodebytes(attachment.ics).replace(b"\n", b"\r\n")
    return (f"Content-Type: application/ics\r\nContent-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: attachment; filename="{attachment.filename}"\r\n\r\n'
            ).encode("ascii") + body


@lru_cache(maxsize=256)
def _address(value: str) -> tuple[str, str]:
    """(display name, address) of a configured address such as COHORT_MAIL_FROM."""
    return parseaddr(value)


def _headers(data: MessageData, rendered: RenderedEmail, now: datetime,
             mail_from: str) -> list[tuple[str, str | tuple[str, str]]]:
    """The headers both writers put first; addresses given as (display name, address).

    Every value is on one line (`one_line`): a CR or LF in a participant's name or a cohort's
    title must not add a header line (Bcc: ...) or start the body, whatever was stored.
    """
    headers: list[tuple[str, str | tuple[str, str]]] = [
        ("From", mail_from),
        ("To", (data.to_name, data.to_address)),
    ]
    if data.reply_to and _address(data.reply_to)[1] != _address(mail_from)[1]:
        headers.append(("Reply-To", data.reply_to))
    headers += [
        ("Subject", rendered.subject),
        ("Date", rfc5322_date(now)),
        ("Message-ID", data.message_id),
        ("Auto-Submitted", "auto-generated"),  # RFC 3834: no auto-replies, please
        ("X-Auto-Response-Suppress", "All"),
        ("X-Cohort-Delivery", "; ".join(f"{d.delivery_id} {d.kind} {d.anchor}"
                                        for d in data.sections or (data,))),
    ]
    return [(name, _one_line_header(value)) for name, value in headers]


def _one_line_header(value: str | tuple[str, str]) -> str | tuple[str, str]:
    if isinstance(value, tuple):
        return one_line(value[0]), one_line(value[1])
    return one_line(value)


ADDRESS_HEADERS = ("From", "To", "Reply-To")


def _encode_header(name: str, value: str | tuple[str, str]) -> str:
    """One header's value in ASCII: addresses with RFC 2047 display names, other text as
    RFC 2047 encoded words when it is not plain ASCII; folded with CRLF."""
    if name in ADDRESS_HEADERS:
        display, address = value if isinstance(value, tuple) else _address(value)
        if not display:
            return address
        if display.isascii():
            return formataddr((display, address))
        encoded = Header(display, "utf-8", header_name=name).encode(linesep="\r\n")
        last_line = encoded.rsplit("\r\n", 1)[-1]
        fold = "\r\n" if len(last_line) + len(address) + 3 > 78 else ""
        return f"{encoded}{fold} <{address}>"
    value = str(value)
    if value.isascii():
        if len(value) + len(name) < 76:
            return value
        return Header(value, "us-ascii", header_name=name).encode(linesep="\r\n")
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _attach_calendar(message: EmailMessage, attachment: CalendarAttachment) -> None:
    """The way Outlook and Google send invitations: a text/calendar alternative with the
    METHOD parameter, plus the same file as an attachment for other mail programs."""
    alternative = message if message.get_content_type() == "multipart/alternative" else None
    if alternative is not None:
        alternative.add_alternative(attachment.ics.decode("utf-8"), subtype="calendar",
                                    params={"method": attachment.method},
                                    cte="quoted-printable")
    message.add_attachment(attachment.ics, maintype="application", subtype="ics",
                           filename=attachment.filename)


class _Helpers:
    """Dates in the recipient's language and the cohort's time zone."""

    def __init__(self, zone: ZoneInfo, language: str) -> None:
        self.zone = zone
        self.language = language
        # English as written in Europe (en-GB: "Tuesday 15 April 2025"), as on the pages.
        self.locale = "en_GB" if language == "en" else language

    def day(self, value: datetime) -> str:
        return _format_day(value, self.zone, self.locale)

    def time(self, value: datetime) -> str:
        return _format_time(value, self.zone, self.locale)

    def when(self, value: datetime) -> str:
        return _("%(day)s at %(time)s", day=self.day(value), time=self.time(value))


# A batch names the same few meetings in hundreds of emails; Babel takes ~0.1 ms a date.
@lru_cache(maxsize=4096)
def _format_day(value: datetime, zone: ZoneInfo, locale: str) -> str:
    return babel_dates.format_date(value.astimezone(zone).date(), "full", locale=locale)


@lru_cache(maxsize=4096)
def _format_time(value: datetime, zone: ZoneInfo, locale: str) -> str:
    return babel_dates.format_time(value.astimezone(zone), "HH:mm", locale=locale)


def _subject(data: MessageData, h: _Helpers) -> str:
    kind = data.kind
    if kind == BUNDLE:
        return ngettext("%(first)s, and %(num)d more item",
                        "%(first)s, and %(num)d more items", len(data.sections) - 1,
                        first=_subject(data.sections[0], h))
    if kind == kinds.WELCOME:
        return _("Welcome to %(cohort)s", cohort=data.cohort_title)
    if kind == kinds.MEETING_INVITATION:
        return _("Invitation: %(meeting)s, %(when)s", meeting=data.meeting.title,
                 when=h.when(data.meeting.starts_at))
    if kind == kinds.MEETING_UPDATE:
        return _("Changed: %(meeting)s is now %(when)s", meeting=data.meeting.title,
                 when=h.when(data.meeting.starts_at))
    if kind == kinds.MEETING_CANCELLATION:
        return _("Cancelled: %(meeting)s, %(day)s", meeting=data.meeting.title,
                 day=h.day(data.meeting.starts_at))
    if kind == kinds.TASK_RELEASED:
        return _("New task: %(task)s", task=data.task.title)
    if kind == kinds.TASK_REMINDER:
        return _("Reminder: %(task)s", task=data.task.title)
    if kind == kinds.PROMPT:
        return _("A question for reflection: %(meeting)s", meeting=data.meeting.title)
    if kind == kinds.SURVEY_INVITATION:
        return _("Please answer: %(survey)s", survey=data.survey.title)
    if kind == kinds.SURVEY_REMINDER:
        return _("Reminder: %(survey)s", survey=data.survey.title)
    if kind == kinds.FACILITATOR_DIGEST:
        return ngettext("Agenda for %(meeting)s: %(num)d contribution from participants",
                        "Agenda for %(meeting)s: %(num)d contributions from participants",
                        data.digest.count, meeting=data.meeting.title)
    if kind == kinds.GROUPS_CHANGED:
        group = data.groups[0]
        if group.kind == "team":
            return _("Your new team in %(grouping)s", grouping=group.title)
        return ngettext("Your new buddy in %(grouping)s", "Your new buddies in %(grouping)s",
                        len(group.partners), grouping=group.title)
    if kind == STAFF_ACTIVATION:
        return _("You are invited to work on %(cohort)s", cohort=data.cohort_title)
    if kind == CATCH_UP:
        return _("What you missed at %(meeting)s", meeting=data.catch_up.meeting_title)
    if kind == kinds.ANNOUNCEMENT:
        if data.announcement.urgent:
            return _("Important: %(subject)s", subject=data.announcement.subject)
        return data.announcement.subject
    if kind == kinds.PROGRESS_REMINDER:
        return _("A reminder from %(cohort)s", cohort=data.cohort_title)
    raise ValueError(f"unknown kind of delivery '{kind}'")
