"""A counter per cohort that every write to the cohort's data moves on (issue #24).

Pages whose content changes only on writes (the cohort overview) are rendered once per
revision and kept by each worker (web/page_cache.py): one indexed read tells a worker whether
its copy is still the cohort's current state, whichever process or command made the change.
The database moves the counter itself, by triggers on every table that holds a cohort's data
(cohort/db/revisions.py), so no write path (ORM, bulk insert, the outbox's raw cursor, a
migration, psql) can forget to. The counter says only "something changed": it records no row,
no person and no time.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class CohortRevision(SQLModel, table=True):
    __tablename__ = "cohort_revision"

    cohort_id: int = Field(foreign_key="cohort.id", primary_key=True, ondelete="CASCADE")
    number: int = Field(sa_column=Column(BigInteger, nullable=False, server_default="1"))
