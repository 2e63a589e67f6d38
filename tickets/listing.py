"""The workbench's ticket list for a real centre (issue 14): any number of tickets, a page at a
time, filtered by state, department, type, channel, overdue and date, searched by number, phone
or words. Department staff see only their department's tickets, as everywhere else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, func, or_, select

from tickets.errors import InvalidInput
from tickets.models import Citizen, Staff, Ticket
from tickets.phones import is_phone, normalise_phone
from tickets.states import AWAITING_ANSWER_VALUES, State, TicketType
from tickets.views import CENTRE_ROLES
from tickets.workcalendar import WorkCalendar

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    state: str = ""
    department: str = ""
    type: str = ""
    channel: str = ""
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""


@dataclass(frozen=True)
class Page:
    tickets: list[Ticket]
    total: int
    page: int
    pages: int


def list_tickets(engine: Engine, calendar: WorkCalendar, staff: Staff, filters: Filters, now: datetime,
                 page: int = 1, size: int = PAGE_SIZE) -> Page:
    query: Any = select(Ticket)
    if staff.role not in CENTRE_ROLES:
        query = query.where(Ticket.department_code == (staff.department_code or ""))
    if filters.state:
        if filters.state not in State.__members__:
            raise InvalidInput(f"unknown state {filters.state!r}")
        query = query.where(Ticket.state == filters.state)
    if filters.type:
        if filters.type not in TicketType.__members__:
            raise InvalidInput(f"unknown ticket type {filters.type!r}")
        query = query.where(Ticket.type == filters.type)
    if filters.department:
        query = query.where(Ticket.department_code == filters.department)
    if filters.channel:
        query = query.where(Ticket.channel == filters.channel)
    if filters.overdue:
        query = query.where(col(Ticket.state).in_(AWAITING_ANSWER_VALUES), col(Ticket.answer_due) < now)
    if filters.date_from:
        query = query.where(col(Ticket.created_at) >= calendar.start_of(filters.date_from))
    if filters.date_to:
        query = query.where(col(Ticket.created_at) < calendar.start_of(filters.date_to + timedelta(days=1)))
    needle = filters.q.strip()
    if needle:
        terms = [col(Ticket.number).contains(needle), col(Ticket.text).contains(needle)]
        if is_phone(needle):
            phone = normalise_phone(needle)
            callers = select(col(Citizen.id)).where(col(Citizen.phone) == phone)
            terms += [col(Ticket.contact_phone) == phone, col(Ticket.citizen_id).in_(callers)]
        query = query.where(or_(*terms))
    page = max(1, page)
    with Session(engine, expire_on_commit=False) as session:
        total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
        rows = session.exec(query.order_by(col(Ticket.id).desc()).offset((page - 1) * size).limit(size)).all()
    return Page(list(rows), total, page, max(1, -(-total // size)))
