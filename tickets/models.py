"""Tables of the domain (SQLModel). Times are stored in UTC (UTCDateTime)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from tickets.timeutil import UTCDateTime, utcnow


def _time(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Department(SQLModel, table=True):
    __tablename__ = "department"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=100)
    topic: str = Field(max_length=40)
    active: bool = True


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)  # states.Role
    department_code: str | None = Field(default=None, max_length=40, index=True)
    telegram_id: str | None = Field(default=None, max_length=40, unique=True)
    username: str | None = Field(default=None, max_length=60, unique=True)
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    from_config: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Invite(SQLModel, table=True):
    """A one-time code that lets a person join as staff of a department (/join CODE)."""

    __tablename__ = "invite"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    department_code: str | None = Field(default=None, max_length=40)
    role: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    used_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    used_at: datetime | None = _time()


class Citizen(SQLModel, table=True):
    __tablename__ = "citizen"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_citizen_channel_external"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=80)
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class TicketCounter(SQLModel, table=True):
    """Last serial number used on a local day; ticket numbers are DAY-SERIAL."""

    __tablename__ = "ticket_counter"
    day: date = Field(primary_key=True)
    last: int = 0


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("channel", "external_message_id", name="uq_ticket_channel_message"),
        Index("ix_ticket_state_answer_due", "state", "answer_due"),
        Index("ix_ticket_state_accept_due", "state", "accept_due"),
        Index("ix_ticket_department_state", "department_code", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)
    channel: str = Field(max_length=20)
    external_message_id: str = Field(max_length=120)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    type: str = Field(max_length=20)  # states.TicketType
    department_code: str | None = Field(default=None, max_length=40)
    topic: str | None = Field(default=None, max_length=40)
    text: str
    summary: str = Field(default="", max_length=200)
    # The summary as leaders and the public may read it (tickets.masking), computed once ahead of the
    # notices that quote it (tickets/masked_summaries.py), and the masker's version that computed it:
    # a text masked by an older masker is not used.
    summary_masked: str | None = Field(default=None, max_length=200)
    summary_masked_by: int | None = None
    entities: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    nlu: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    type_confidence: float | None = None
    department_confidence: float | None = None
    needs_review: bool = False
    urgent: bool = False
    confidential: bool = False  # 保密: the citizen's name and phone are hidden from the department
    contact_phone: str | None = Field(default=None, max_length=40)
    location: str | None = Field(default=None, max_length=200)
    state: str = Field(max_length=20, index=True)  # states.State
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    assigned_at: datetime | None = _time()
    accept_due: datetime | None = _time()
    accepted_at: datetime | None = _time()
    accepted_on_time: bool | None = None
    answer_due: datetime | None = _time()
    answered_at: datetime | None = _time()
    first_answered_at: datetime | None = _time()
    answered_on_time: bool | None = None
    closed_at: datetime | None = _time()
    close_reason: str | None = Field(default=None, max_length=20)  # states.CloseReason
    kb_entry_id: int | None = None  # the knowledge-base entry a direct answer (直接答复) gave
    transferred_to: str | None = Field(default=None, max_length=10)  # 110 / 119 / 120 (紧急转办)
    rating: str | None = Field(default=None, max_length=30)  # states.Rating
    rated_at: datetime | None = _time()
    rating_comment: str | None = None
    extension_state: str | None = Field(default=None, max_length=20)  # requested / granted / refused
    extension_days: int | None = None
    returned_count: int = 0
    reopened_count: int = 0
    merged_into_id: int | None = Field(default=None, foreign_key="ticket.id")
    invalid_reason: str | None = None
    # When the retention job or a citizen's erasure removed its personal data (tickets.privacy).
    anonymised_at: datetime | None = _time()
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class TicketVector(SQLModel, table=True):
    """A ticket's sentence vector (float32, L2-normalised) for similar-message search, one per encoder
    so that switching encoders back and forth keeps what was computed."""

    __tablename__ = "ticket_vector"
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    encoder: str = Field(max_length=20, primary_key=True)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class TicketEvent(SQLModel, table=True):
    """The audit trail: one row for every transition (who, when, from, to, note)."""

    __tablename__ = "ticket_event"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    action: str = Field(max_length=30)
    actor_kind: str = Field(max_length=20)  # states.ActorKind
    actor_id: int | None = None
    department_code: str | None = Field(default=None, max_length=40)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    note: str | None = None


class Reply(SQLModel, table=True):
    __tablename__ = "reply"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    department_code: str | None = Field(default=None, max_length=40)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    text: str


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=20)  # photo, location, contact
    ref: str = Field(max_length=300)  # channel file id, or a path under HOTLINE_HOME
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Message(SQLModel, table=True):
    """Every message exchanged with a citizen, in either direction."""

    __tablename__ = "message"
    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    channel: str = Field(max_length=20)
    direction: str = Field(max_length=3)  # in / out
    kind: str = Field(default="text", max_length=20)
    text: str = ""
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Notice(SQLModel, table=True):
    """The outbox: every notice is recorded here under a unique key before anyone is told.

    A second attempt to record the same key does nothing, so a sweep or a transition that runs
    twice notifies once; delivery marks `sent_at` and retries with backoff until it succeeds.
    """

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_pending", "sent_at", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)
    # No foreign key: a notice's ticket is one its writer has just read, and tickets are never
    # deleted (anonymised instead, tickets/privacy.py); the per-row check, a row lock on the ticket,
    # was a fifth of the database's work in the catch-up sweep (docs/PROFILE.md).
    ticket_id: int | None = Field(default=None, index=True)
    recipient_kind: str = Field(max_length=20)  # citizen, staff, department, dispatchers, leaders
    recipient: str | None = Field(default=None, max_length=80)  # citizen id, staff id or department code
    text: str
    buttons: list[list[dict[str, str]]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Files to send with the text (e.g. chart PNGs of the weekly report): paths under HOTLINE_HOME.
    attachments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = _time()
    attempts: int = 0
    last_error: str | None = None


class TicketAccess(SQLModel, table=True):
    """One staff view of a ticket's page (who, when, which ticket, whether personal data was shown),
    for the centre's leaders to read (个人信息保护法: access to personal data is recorded)."""

    __tablename__ = "ticket_access"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    personal: bool = True  # False: the viewer saw the masked page (a leader)
