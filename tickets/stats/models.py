"""Snapshot tables of the statistics (docs/DESIGN.md, "Statistics snapshots").

A snapshot of local day D holds what happened on D, so a report sums a few rows per day
instead of reading every ticket of its period: `stats_delta` the day's contributions to the
figures, grouped by the day the tickets were received (cohort), department and type;
`stats_overdue` the tickets overdue at the end of D; `stats_hot` and `stats_intake` the day's
received messages grouped into issues, hours and channels. `stats_day` marks D as taken.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from tickets.models import Ticket, TicketEvent
from tickets.timeutil import UTCDateTime


class StatsDay(SQLModel, table=True):
    __tablename__ = "stats_day"
    day: date = Field(primary_key=True)
    taken_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class StatsDelta(SQLModel, table=True):
    __tablename__ = "stats_delta"
    __table_args__ = (Index("ix_stats_delta_day_cohort", "day", "cohort_day"),)
    id: int | None = Field(default=None, primary_key=True)
    day: date
    cohort_day: date
    department_code: str = Field(default="", max_length=40)  # "" before the ticket reaches a department
    type: str = Field(max_length=20)
    received: int = 0
    assigned: int = 0
    returned: int = 0
    accepted_in_time: int = 0
    answered: int = 0
    answered_on_time: int = 0
    closed: int = 0
    rated: int = 0
    satisfied: int = 0
    consultations: int = 0
    consultations_assigned: int = 0
    direct_answers: int = 0
    transferred: int = 0
    handling_hours: float = 0.0


class StatsOverdue(SQLModel, table=True):
    __tablename__ = "stats_overdue"
    __table_args__ = (Index("ix_stats_overdue_day_cohort", "day", "cohort_day"),)
    id: int | None = Field(default=None, primary_key=True)
    day: date
    ticket_id: int
    number: str = Field(max_length=20)
    cohort_day: date
    department_code: str = Field(default="", max_length=40)
    type: str = Field(max_length=20)
    days_overdue: float


class StatsHot(SQLModel, table=True):
    __tablename__ = "stats_hot"
    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    label: str = Field(max_length=80)
    department_code: str = Field(default="", max_length=40)
    count: int
    example: str
    numbers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class StatsIntake(SQLModel, table=True):
    __tablename__ = "stats_intake"
    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    hour: int
    channel: str = Field(max_length=20)
    count: int


# Overdue tickets at the end of a past day are found among the tickets still open and those
# changed since (updated_at >= that moment); this index keeps the latter cheap.
Index("ix_ticket_updated_at", Ticket.__table__.c.updated_at)  # type: ignore[attr-defined]

# The actions that take a ticket out of the statistics (DESIGN.md, "Statistics"). The desk's figures
# look for them among a period's events; a partial index holds only these few rows, so that lookup
# does not read the whole (ever-growing) event table, and costs nothing to the other events' writes.
DROPPING_ACTIONS = ("invalidate", "merge")
_event = TicketEvent.__table__.c  # type: ignore[attr-defined]
Index("ix_ticket_event_dropped", _event.at, postgresql_where=_event.action.in_(DROPPING_ACTIONS),
      sqlite_where=_event.action.in_(DROPPING_ACTIONS))
