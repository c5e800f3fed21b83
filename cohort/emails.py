"""Rendering a delivery's data into a real email: multipart plain text + HTML.

Each kind has `templates/emails/<kind>.txt` and `<kind>.html`. They are rendered in the
recipient's language under Flask-Babel's `force_locale`, with their own gettext domain
("emails", catalogs in `cohort/translations/<lang>/LC_MESSAGES/emails.po`, read directly so no
compiled .mo has to be kept in step): emails follow the recipient's language, not the browser's.
Dates and times are shown in the cohort's time zone.

Calendar attachments are a plug-in point: `app.extensions["cohort.calendar_attachment"]` may
hold a function MessageData -> CalendarAttachment | None (the calendar module's METHOD:REQUEST /
CANCEL builder); without one, meeting emails go out without an .ics file.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime as rfc5322_date
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app
from flask_babel import Domain, force_locale, get_locale
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .core import deliveries as kinds
from .core.attendance import CATCH_UP
from .services.messages import MessageData

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE.parent / "templates"
TRANSLATIONS = PACKAGE / "translations"
LANGUAGES = ("da", "nb", "en")


@dataclass(frozen=True)
class CalendarAttachment:
    method: str  # REQUEST or CANCEL
    ics: bytes
    filename: str = "invite.ics"


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
    )
    env.install_gettext_callables(
        gettext=lambda s: EMAILS.get_translations().ugettext(s),
        ngettext=lambda s, p, n: EMAILS.get_translations().ungettext(s, p, n),
        newstyle=True,
    )
    return env


def render(data: MessageData) -> RenderedEmail:
    """Subject, plain text and HTML of one message, in the recipient's language."""
    language = data.language if data.language in LANGUAGES else "da"
    with force_locale(language):
        helpers = _Helpers(ZoneInfo(data.timezone), language)
        context = dict(m=data, kinds=kinds, when=helpers.when, day=helpers.day,
                       time=helpers.time, lang=language)
        env = _environment()
        return RenderedEmail(
            subject=_subject(data, helpers),
            text=env.get_template(f"emails/{data.kind}.txt").render(context),
            html=env.get_template(f"emails/{data.kind}.html").render(context),
        )


def build_message(data: MessageData, now: datetime, mail_from: str) -> EmailMessage:
    """An RFC 5322 message: headers with æøå encoded, plain text + HTML, optional .ics."""
    rendered = render(data)
    message = EmailMessage(policy=SMTP)
    message["From"] = mail_from
    message["To"] = Address(display_name=data.to_name, addr_spec=data.to_address)
    if data.reply_to and parseaddr(data.reply_to)[1] != parseaddr(mail_from)[1]:
        message["Reply-To"] = data.reply_to
    message["Subject"] = rendered.subject
    message["Date"] = rfc5322_date(now)
    message["Message-ID"] = data.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Cohort-Delivery"] = f"{data.delivery_id} {data.kind} {data.anchor}"
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    attachment = calendar_attachment(data)
    if attachment is not None:
        _attach_calendar(message, attachment)
    # Last: set_content clears Content-* headers and add_attachment moves them into a part.
    message["Content-Language"] = data.language
    return message


def calendar_attachment(data: MessageData) -> CalendarAttachment | None:
    """The meeting's .ics for invitations, updates and cancellations, if a builder is set."""
    if data.kind not in (kinds.MEETING_INVITATION, kinds.MEETING_UPDATE,
                         kinds.MEETING_CANCELLATION):
        return None
    builder: Callable[[MessageData], CalendarAttachment | None] | None = \
        current_app.extensions.get("cohort.calendar_attachment")
    return builder(data) if builder else None


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

    def day(self, value: datetime) -> str:
        return babel_dates.format_date(value.astimezone(self.zone).date(), "full",
                                       locale=self.language)

    def time(self, value: datetime) -> str:
        return babel_dates.format_time(value.astimezone(self.zone), "HH:mm",
                                       locale=self.language)

    def when(self, value: datetime) -> str:
        return _("%(day)s at %(time)s", day=self.day(value), time=self.time(value))


def _subject(data: MessageData, h: _Helpers) -> str:
    kind = data.kind
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
    if kind == CATCH_UP:
        return _("What you missed at %(meeting)s", meeting=data.catch_up.meeting_title)
    raise ValueError(f"unknown kind of delivery '{kind}'")
