"""Column types and field helpers shared by every table.

Times are stored in UTC and come back as aware UTC datetimes on SQLite (which has no zones) and
PostgreSQL alike; a naive datetime is refused rather than guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field
from sqlmodel.sql.sqltypes import AutoString

from ..core.links import web_link_problem


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no zone support) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_field(nullable: bool = False, index: bool = False, default_factory=None):
    """A UTCDateTime column as a SQLModel field."""
    column = Column(UTCDateTime(), nullable=nullable, index=index)
    if default_factory is not None:
        return Field(default_factory=default_factory, sa_column=column)
    return Field(default=None, sa_column=column)


class WebLinkString(TypeDecorator):
    """A link shown to participants (a meeting's online link), read back only if it is one.

    Links are checked when they are entered (`core.links.web_link_problem`), but rows written
    before that check existed may hold a line break (which breaks every calendar file and
    email of the cohort) or a `javascript:` link: such a value reads as None (no link), so
    nothing built from the row can carry it. The stored text is left as it was.
    """

    impl = AutoString
    cache_ok = True

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None or web_link_problem(value) is not None:
            return None
        return value


def web_link_field():
    return Field(default=None, sa_column=Column(WebLinkString(), nullable=True))
