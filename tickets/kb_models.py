"""Tables of the knowledge base (知识库): entries, their version history and the questions that
found no confident answer. Times are stored in UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from tickets.timeutil import UTCDateTime, utcnow


class KbEntry(SQLModel, table=True):
    __tablename__ = "kb_entry"
    __table_args__ = (Index("ix_kb_entry_status_department", "status", "department_code"),)
    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(max_length=500)
    # The question normalised (what re-imports match on), unique among entries.
    question_key: str = Field(max_length=500, unique=True)
    variants: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    answer: str
    link: str | None = Field(default=None, max_length=500)  # the policy or notice the answer rests on
    source: str | None = Field(default=None, max_length=300)
    department_code: str = Field(max_length=40, index=True)
    topic: str | None = Field(default=None, max_length=40)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    valid_from: date | None = None
    valid_until: date | None = None
    status: str = Field(default="draft", max_length=20)  # knowledge.Status
    version: int = 1
    from_ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    # The valid_until a reminder was sent for: the expiry job tells a department once per date.
    reminded_for: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class KbVersion(SQLModel, table=True):
    """Who changed what, when: the entry's fields after every change."""

    __tablename__ = "kb_version"
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="kb_entry.id", index=True)
    version: int
    action: str = Field(max_length=20)  # create, update, publish, retire, import
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    actor: str = Field(max_length=100)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class KbMiss(SQLModel, table=True):
    """A citizen's consultation that found no confident answer: what to write next."""

    __tablename__ = "kb_miss"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    text: str = Field(max_length=300)  # masked
    best_entry_id: int | None = None
    score: float | None = None
