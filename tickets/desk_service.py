"""Service functions of the hotline centre's desk (issue 14), mixed into TicketService: repeat
contacts, phone callbacks, the dispatchers' control of open tickets, callers looked up by phone,
and the handling time of calls. Each opens a unit of work, calls one transition (desk_transitions)
and records the notices it calls for."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlmodel import Session, col, func, or_, select

from tickets import desk_transitions as desk
from tickets import notices
from tickets.actors import Actor, citizen_actor
from tickets.errors import InvalidInput
from tickets.intake import CITIZENS, CitizenRef, citizen_id
from tickets.models import Citizen, Staff, Ticket
from tickets.models_desk import CallbackAttempt, Contact, DeskCall, Supervision
from tickets.outbox import enqueue
from tickets.phones import normalise_phone
from tickets.states import OPEN_STATES, State
from tickets.timelimits import Policy

PHONE_CHANNEL = "phone"
DESK_OUTCOMES = ("submitted", "joined", "transferred", "direct_answer")
MAX_CALL_SECONDS = 4 * 3600  # a call "open" longer than this was left open, not handled


@dataclass(frozen=True)
class Caller:
    phone: str
    name: str | None
    confidential: bool
    open: list[Ticket]
    earlier: list[Ticket]


@dataclass(frozen=True)
class DueCallback:
    ticket: Ticket
    phone: str | None
    due_at: datetime
    attempts: int


@dataclass(frozen=True)
class HandlingTime:
    staff_id: int
    name: str
    calls: int
    mean_seconds: float


class DeskMixin:
    if TYPE_CHECKING:
        policy: Policy

        def unit_of_work(self) -> AbstractContextManager[Session]: ...
        def _now(self, now: datetime | None) -> datetime: ...
        def _ticket(self, session: Session, number: str, lock: bool = True) -> Ticket: ...
        def _staff(self, session: Session, staff_id: int) -> Actor: ...
        def _department_name(self, session: Session, code: str | None) -> str: ...

        clock: Callable[[], datetime]

    # -- callers by phone -----------------------------------------------------------------
    def phone_citizen_id(self, phone: str, name: str | None = None) -> int:
        """The caller behind a phone number (channel `phone`), created on their first call."""
        number = normalise_phone(phone)
        with self.unit_of_work() as session:
            citizen = citizen_id(session, CitizenRef(PHONE_CHANNEL, number, name=name, phone=number), self.clock())
            if name:  # a name given on a later call fills one the first call did not have
                session.execute(update(CITIZENS).where(CITIZENS.c.id == citizen, or_(CITIZENS.c.name.is_(None), CITIZENS.c.name == ""))
                                .values(name=name))
            return citizen

    def _by_phone(self, session: Session, number: str) -> tuple[list[Citizen], list[Ticket]]:
        citizens = list(session.exec(select(Citizen).where(or_(Citizen.phone == number, (Citizen.channel == PHONE_CHANNEL) & (Citizen.external_id == number)))).all())
        ids = [c.id for c in citizens]
        query = select(Ticket).where(or_(Ticket.contact_phone == number, col(Ticket.citizen_id).in_(ids)))
        return citizens, list(session.exec(query.order_by(col(Ticket.id).desc()).limit(200)).all())

    def tickets_by_phone(self, phone: str) -> list[Ticket]:
        """Every ticket of the caller with this number (theirs, or giving it as the contact phone), newest first."""
        number = normalise_phone(phone)
        with self.unit_of_work() as session:
            return self._by_phone(session, number)[1]

    def caller(self, phone: str) -> Caller:
        number = normalise_phone(phone)
        with self.unit_of_work() as session:
            citizens, found = self._by_phone(session, number)
        name = next((c.name for c in citizens if c.name), None)
        still_open = [t for t in found if t.state in OPEN_STATES or t.state == State.answered]
        return Caller(number, name, any(t.confidential for t in found), still_open,
                      [t for t in found if t not in still_open])

    # -- repeat contacts ------------------------------------------------------------------
    def add_contact(self, number: str, text: str, channel: str, *, staff_id: int | None = None,
                    citizen_id: int | None = None, now: datetime | None = None) -> Contact:
        """A repeat contact joins the ticket (by a call-taker, or the citizen's own yes); its department is told."""
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket = self._ticket(session, number)
            actor = self._staff(session, staff_id) if staff_id is not None else citizen_actor(citizen_id or 0)
            contact = desk.add_contact(session, ticket, actor, channel, text, moment, citizen_id=citizen_id)
            session.flush()
            if ticket.department_code:
                enqueue(session, key=f"contact:{contact.id}", kind="contact", recipient_kind="department",
                        recipient=ticket.department_code, ticket_id=ticket.id,
                        text=f"【重复来电】工单 {ticket.number} 的群众再次来电/来信（第 {desk.contact_count(session, ticket.id)} 次）："  # type: ignore[arg-type]
                        f"\n{contact.text or '（无补充内容）'}", buttons=[], now=moment)
            return contact

    def contacts(self, number: str) -> list[Contact]:
        with self.unit_of_work() as session:
            ticket = self._ticket(session, number, lock=False)
            return list(session.exec(select(Contact).where(Contact.ticket_id == ticket.id).order_by(col(Contact.id))).all())

    def contact_count(self, number: str) -> int:
        with self.unit_of_work() as session:
            return desk.contact_count(session, self._ticket(session, number, lock=False).id)  # type: ignore[arg-type]

    # -- phone callbacks ------------------------------------------------------------------
    def record_callback(self, number: str, staff_id: int, result: str, note: str | None = None,
                        now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            desk.record_callback(session, ticket, actor, result, moment, self.policy, note)
            if ticket.state == State.reopened:
                name = self._department_name(session, ticket.department_code)
                enqueue(session, key=f"reopened:{ticket.id}:{ticket.department_code}:{moment.isoformat()}",
                        kind="reopened", recipient_kind="department", recipient=ticket.department_code,
                        ticket_id=ticket.id, text="【重办工单】（电话回访不满意）\n"
                        + notices.ticket_card(ticket, self.policy.calendar, name), buttons=[], now=moment)
            return ticket

    def callback_attempts(self, number: str) -> list[CallbackAttempt]:
        with self.unit_of_work() as session:
            return desk.attempts(session, self._ticket(session, number, lock=False).id)  # type: ignore[arg-type]

    def callbacks_due(self, now: datetime | None = None) -> list[DueCallback]:
        """Answered tickets not yet rated whose callback is due: at once for a caller who can only
        be reached by phone, `callback_after_hours` after the answer for everyone else."""
        moment = self._now(now)
        after = timedelta(hours=self.policy.limits.callback_after_hours)
        with self.unit_of_work() as session:
            rows = session.exec(select(Ticket, Citizen).join(Citizen, col(Citizen.id) == Ticket.citizen_id)
                                .where(Ticket.state == State.answered.value)).all()
            due: list[DueCallback] = []
            for ticket, citizen in rows:
                assert ticket.answered_at is not None
                at = ticket.answered_at if ticket.channel == PHONE_CHANNEL else ticket.answered_at + after
                if at > moment:
                    continue
                tried = len(desk.attempts(session, ticket.id, since=ticket.answered_at))  # type: ignore[arg-type]
                due.append(DueCallback(ticket, ticket.contact_phone or citizen.phone, at, tried))
        return sorted(due, key=lambda d: (d.due_at, d.ticket.id or 0))

    # -- dispatchers in control -----------------------------------------------------------
    def retype(self, number: str, staff_id: int, ticket_type: str, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            desk.retype(session, ticket, ticket_type, actor, moment, self.policy)
            return ticket

    def mark_urgent(self, number: str, staff_id: int, note: str | None = None, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            desk.mark_urgent(session, ticket, actor, moment, note)
            if ticket.department_code and ticket.state != State.new:
                enqueue(session, key=f"urgent:{ticket.id}", kind="urgent", recipient_kind="department",
                        recipient=ticket.department_code, ticket_id=ticket.id,
                        text=f"【紧急】工单 {ticket.number} 已被派单员标记为紧急，请优先办理。", buttons=[], now=moment)
            return ticket

    def supervise(self, number: str, staff_id: int, text: str, now: datetime | None = None) -> Supervision:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            row = desk.supervise(session, ticket, actor, text, moment)
            session.flush()
            enqueue(session, key=f"supervise:{row.id}", kind="supervise", recipient_kind="department",
                    recipient=ticket.department_code, ticket_id=ticket.id,
                    text=f"【督办】工单 {ticket.number}：{row.text}\n请在工作台确认已阅。", buttons=[], now=moment)
            return row

    def acknowledge_supervision(self, number: str, staff_id: int, now: datetime | None = None) -> int:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            return desk.acknowledge_supervision(session, ticket, actor, moment)

    def supervisions(self, number: str) -> list[Supervision]:
        with self.unit_of_work() as session:
            ticket = self._ticket(session, number, lock=False)
            return list(session.exec(select(Supervision).where(Supervision.ticket_id == ticket.id)
                                     .order_by(col(Supervision.id))).all())

    # -- calls at the desk ----------------------------------------------------------------
    def record_call(self, staff_id: int, outcome: str, seconds: float, number: str | None = None,
                    now: datetime | None = None) -> DeskCall:
        """How long a call took from opening it at /desk to its outcome (平均处理时长)."""
        if outcome not in DESK_OUTCOMES:
            raise InvalidInput(f"unknown call outcome {outcome!r}")
        moment = self._now(now)
        with self.unit_of_work() as session:
            actor = self._staff(session, staff_id)
            ticket = self._ticket(session, number, lock=False) if number else None
            call = DeskCall(staff_id=actor.id, ticket_id=ticket.id if ticket else None, outcome=outcome,  # type: ignore[arg-type]
                            at=moment, seconds=max(0.0, min(float(seconds), MAX_CALL_SECONDS)))
            session.add(call)
            return call

    def handling_times(self, since: datetime | None = None) -> list[HandlingTime]:
        """Calls and mean handling time per operator, slowest first."""
        with self.unit_of_work() as session:
            query: Any = (select(DeskCall.staff_id, Staff.name, func.count(), func.avg(DeskCall.seconds))
                          .join(Staff, col(Staff.id) == DeskCall.staff_id).group_by(col(DeskCall.staff_id), col(Staff.name)))
            if since is not None:
                query = query.where(col(DeskCall.at) >= since)
            rows = session.exec(query).all()
        return sorted((HandlingTime(int(sid), name, int(n), float(avg)) for sid, name, n, avg in rows),
                      key=lambda h: -h.mean_seconds)


