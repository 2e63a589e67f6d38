"""Tables of the hotline centre's desk (issue 14): repeat contacts, phone callbacks, supervision
notes by hand and the time each call took. Times are UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from tickets.timeutil import UTCDateTime


def _at(index: bool = False) -> datetime:
    return Field(sa_column=Column(UTCDateTime(), nullable=False, index=index))  # type: ignore[no-any-return]


class Contact(SQLModel, table=True):
    """A repeat contact (重复来电 / 追加诉求): the citizen called or wrote again about this ticket."""

    __tablename__ = "contact"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    channel: str = Field(max_length=20)
    at: datetime = _at(index=True)
    text: str = ""
    staff_id: int | None = Field(default=None, foreign_key="staff.id")  # the operator who joined it
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id")


class CallbackAttempt(SQLModel, table=True):
    """One phone callback (电话回访): result is a rating's name or `no_answer`."""

    __tablename__ = "callback_attempt"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    at: datetime = _at(index=True)
    result: str = Field(max_length=30)
    note: str | None = None


class Supervision(SQLModel, table=True):
    """督办 by hand: a dispatcher's note that the department sees and must acknowledge."""

    __tablename__ = "supervision"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    department_code: str | None = Field(default=None, max_length=40, index=True)
    at: datetime = _at()
    text: str
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    acknowledged_by: int | None = Field(default=None, foreign_key="staff.id")


class DeskCall(SQLModel, table=True):
    """A call taken at /desk: who took it, how it ended and how long it took (平均处理时长)."""

    __tablename__ = "desk_call"
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    outcome: str = Field(max_length=20)  # submitted / joined / transferred / direct_answer
    at: datetime = _at(index=True)
    seconds: float
