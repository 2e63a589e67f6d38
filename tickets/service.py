"""The service functions that adapters (bot, web, CLI, scheduler) call: one per transition.

Each opens a unit of work, loads the ticket and the actor, calls the transition, records the
notices the change calls for (in the same transaction) and commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, func, select

from tickets import notices, transitions
from tickets.actors import SYSTEM, Actor, citizen_actor
from tickets.desk_service import DeskMixin
from tickets.errors import InvalidInput, NotFound
from tickets.intake import (
    CitizenRef,
    Submission,
    arrival,
    citizen_row,
    create_ticket,
    find_existing,
)
from tickets.models import Citizen, Department, Notice, Reply, Staff, Ticket, TicketEvent
from tickets.outbox import enqueue
from tickets.routing import Classifier
from tickets.similar import (
    Embedder,
    SimilarSettings,
    SimilarTicket,
    VectorCache,
    rank,
    store_vector,
    vectors_for,
)
from tickets.states import FINAL_STATES, ActorKind, CloseReason, Rating, Role, State
from tickets.text import MAX_TEXT_CHARS
from tickets.timelimits import Policy
from tickets.timeutil import ensure_aware, utcnow
from tickets.uow import unit_of_work

Clock = Callable[[], datetime]


class VectorSink(Protocol):
    def put(self, ticket_id: int, text: str, now: datetime) -> None: ...

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmitResult:
    ticket: Ticket
    created: bool


class TicketService(DeskMixin):
    def __init__(
        self,
        engine: Engine,
        policy: Policy,
        classifier: Classifier,
        clock: Clock = utcnow,
        max_text_chars: int = MAX_TEXT_CHARS,
        embedder: Embedder | None = None,
        similar_settings: SimilarSettings | None = None,
        vector_sink: VectorSink | None = None,
    ) -> None:
        self.engine = engine
        self.embedder = embedder
        # Where new tickets' vectors go; None: written synchronously just after the intake commit
        # (the CLI, tests). The server hands them to a background writer (hotline/vector_writer.py).
        self.vector_sink = vector_sink
        self.similar_settings = similar_settings or SimilarSettings()
        self.vector_cache = VectorCache()
        self.policy = policy
        self.classifier = classifier
        self.clock = clock
        self.max_text_chars = max_text_chars
        self._department_names: dict[str, str] = {}

    # -- infrastructure -------------------------------------------------------------------
    def unit_of_work(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.engine)

    def _now(self, now: datetime | None) -> datetime:
        return ensure_aware(now) if now is not None else self.clock()

    def _ticket(self, session: Session, number: str, lock: bool = True) -> Ticket:
        query = select(Ticket).where(Ticket.number == number.strip())
        if lock and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        ticket = session.exec(query).first()
        if ticket is None:
            raise NotFound(f"no ticket numbered {number!r}")
        return ticket

    def _staff(self, session: Session, staff_id: int) -> Actor:
        staff = session.get(Staff, staff_id)
        if staff is None or not staff.active:
            raise NotFound(f"no active staff member with id {staff_id}")
        return Actor(
            kind=ActorKind.staff, id=staff.id, role=Role(staff.role), department_code=staff.department_code, name=staff.name
        )

    def _department(self, session: Session, code: str) -> Department:
        department = session.exec(select(Department).where(Department.code == code)).first()
        if department is None or not department.active:
            raise InvalidInput(f"unknown department code {code!r}")
        return department

    def _department_name(self, session: Session, code: str | None) -> str:
        if code is None:
            return "待分派"
        return self._active_departments(session).get(code, code)

    def _active_departments(self, session: Session) -> dict[str, str]:
        """Codes and names of active departments; read once, they change only at start-up."""
        if not self._department_names:
            rows = session.exec(select(Department).where(Department.active == True)).all()  # noqa: E712
            self._department_names = {d.code: d.name for d in rows}
        return self._department_names

    # -- intake ---------------------------------------------------------------------------
    def submit(self, submission: Submission, now: datetime | None = None) -> SubmitResult:
        """Open a ticket; the same (channel, external_message_id) always gives the same ticket."""
        moment = self._now(now)
        for attempt in range(5):
            try:
                with self.unit_of_work() as session:
                    existing, citizen = arrival(session, submission)
                    if existing is not None:
                        return SubmitResult(existing, created=False)
                    ticket = create_ticket(
                        session, submission, self.classifier, self.policy, moment, set(self._active_departments(session)),
                        self.max_text_chars, citizen_known=citizen,
                    )
                    if not submission.hold:
                        self._notify_new(session, ticket, moment)
                self._store_vector(ticket, moment)
                return SubmitResult(ticket, created=True)
            except IntegrityError:
                # A concurrent submission of the same message (or the first ticket of the day,
                # or a new citizen) won the race; read what it wrote.
                with self.unit_of_work() as session:
                    existing = find_existing(session, submission.channel, submission.external_message_id)
                    if existing is not None:
                        return SubmitResult(existing, created=False)
            except OperationalError:
                if attempt == 4:
                    raise
        raise RuntimeError("submission kept colliding; giving up")  # pragma: no cover

    def answer_directly(self, submission: Submission, entry_id: int, now: datetime | None = None,
                        staff_id: int | None = None) -> SubmitResult:
        """已解决: the citizen's consultation is recorded and closed as a direct answer (直接答复) with
        the entry that answered it, in one unit of work, so no department ever sees it. The same
        message again gives the same ticket. `staff_id`: the call-taker who answered it at /desk
        (the event names them); without it the citizen closed it themselves."""
        moment = self._now(now)
        held = replace(submission, hold=True, to_dispatcher=False)
        for _ in range(5):
            try:
                with self.unit_of_work() as session:
                    existing = find_existing(session, held.channel, held.external_message_id)
                    if existing is not None:
                        return SubmitResult(existing, created=False)
                    ticket = create_ticket(session, held, self.classifier, self.policy, moment,
                                           set(self._active_departments(session)), self.max_text_chars)
                    actor = self._staff(session, staff_id) if staff_id is not None else citizen_actor(ticket.citizen_id)
                    transitions.close_at_once(session, ticket, actor, moment, CloseReason.direct_answer,
                                              entry_id=entry_id)
                    return SubmitResult(ticket, created=True)
            except IntegrityError:
                continue
        raise RuntimeError("direct answer kept colliding; giving up")  # pragma: no cover

    def _store_vector(self, ticket: Ticket, now: datetime) -> None:
        """The new ticket's vector for similar search, after the commit so that intake never waits on
        or fails for it; a search encodes whatever is still missing."""
        if self.embedder is None or ticket.id is None:
            return
        if self.vector_sink is not None:
            self.vector_sink.put(ticket.id, ticket.text, now)
            return
        try:
            with self.unit_of_work() as session:
                store_vector(session, ticket.id, self.embedder, ticket.text, now)
        except Exception:  # noqa: BLE001 - a missing vector is filled in by the next search
            log.warning("could not store the vector of ticket %s", ticket.number, exc_info=True)

    def _notify_new(self, session: Session, ticket: Ticket, now: datetime) -> None:
        if ticket.state == State.assigned:
            self._notify_department(session, ticket, now, "assigned")
        else:
            scores: dict[str, float] = ticket.nlu.get("department_scores", {}) or {}
            ranked = sorted(scores, key=lambda c: -scores[c])[:3]
            candidates = [(code, self._department_name(session, code)) for code in ranked]
            enqueue(
                session,
                key=f"review:{ticket.id}:{ticket.returned_count}",
                kind="review",
                recipient_kind="dispatchers",
                recipient=None,
                ticket_id=ticket.id,
                text="【待分派】以下工单需要人工分派：\n"
                + notices.ticket_card(ticket, self.policy.calendar, self._department_name(session, ticket.department_code)),
                buttons=notices.dispatcher_buttons(ticket.number, candidates),
                now=now,
            )

    def _notify_department(self, session: Session, ticket: Ticket, now: datetime, why: str) -> None:
        name = self._department_name(session, ticket.department_code)
        heading = {"assigned": "【新工单】", "rerouted": "【改派工单】", "reopened": "【重办工单】"}[why]
        enqueue(
            session,
            key=f"{why}:{ticket.id}:{ticket.department_code}:{ticket.updated_at.isoformat()}",
            kind=why,
            recipient_kind="department",
            recipient=ticket.department_code,
            ticket_id=ticket.id,
            text=heading + "\n" + notices.ticket_card(ticket, self.policy.calendar, name),
            buttons=notices.department_buttons(ticket.number) if why != "reopened" else [],
            now=now,
        )

    # -- transitions ----------------------------------------------------------------------
    def assign(self, number: str, staff_id: int, department: str, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            self._department(session, department)
            transitions.assign(session, ticket, department, actor, moment, self.policy)
            self._notify_department(session, ticket, moment, "assigned")
            return ticket

    def accept(self, number: str, staff_id: int, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            transitions.accept(session, ticket, actor, moment)
            return ticket

    def answer(self, number: str, staff_id: int, text: str, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            reply = transitions.answer(session, ticket, actor, text, moment)
            session.flush()  # the reply's id names its notice
            name = self._department_name(session, ticket.department_code)
            enqueue(
                session,
                key=f"answer:{ticket.id}:{reply.id}",
                kind="answer",
                recipient_kind="citizen",
                recipient=str(ticket.citizen_id),
                ticket_id=ticket.id,
                text=notices.answer_text(ticket, reply, name),
                buttons=notices.rating_buttons(ticket.number),
                now=moment,
            )
            return ticket

    def return_ticket(self, number: str, staff_id: int, reason: str, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            transitions.return_ticket(session, ticket, actor, reason, moment)
            self._notify_new(session, ticket, moment)
            return ticket

    def reroute(self, number: str, staff_id: int, department: str, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            self._department(session, department)
            transitions.reroute(session, ticket, department, actor, moment, self.policy)
            self._notify_department(session, ticket, moment, "rerouted")
            return ticket

    def request_extension(
        self, number: str, staff_id: int, days: int, reason: str, now: datetime | None = None
    ) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            transitions.request_extension(session, ticket, actor, days, reason, moment, self.policy)
            enqueue(
                session,
                key=f"extension:{ticket.id}",
                kind="extension_request",
                recipient_kind="dispatchers",
                recipient=None,
                ticket_id=ticket.id,
                text=f"【延期申请】工单 {ticket.number} 申请延期 {days} 个工作日。理由：{reason}",
                buttons=[[{"text": "同意", "data": f"extok:{ticket.number}"}, {"text": "不同意", "data": f"extno:{ticket.number}"}]],
                now=moment,
            )
            return ticket

    def grant_extension(self, number: str, staff_id: int, now: datetime | None = None, note: str | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            transitions.grant_extension(session, ticket, actor, moment, self.policy, note)
            return ticket

    def refuse_extension(self, number: str, staff_id: int, now: datetime | None = None, note: str | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            transitions.refuse_extension(session, ticket, actor, moment, note)
            return ticket

    def rate(
        self, number: str, citizen_id: int, rating: Rating | str, comment: str | None = None, now: datetime | None = None
    ) -> Ticket:
        moment = self._now(now)
        try:
            value = Rating(rating)
        except ValueError as err:
            raise InvalidInput(f"unknown rating {rating!r}; expected one of {', '.join(Rating)}") from err
        with self.unit_of_work() as session:
            ticket = self._ticket(session, number)
            transitions.rate(session, ticket, citizen_actor(citizen_id), value, moment, self.policy, comment)
            if ticket.state == State.reopened:
                self._notify_department(session, ticket, moment, "reopened")
            return ticket

    def reopen(self, number: str, staff_id: int, note: str | None = None, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            transitions.reopen(session, ticket, actor, moment, self.policy, note)
            self._notify_department(session, ticket, moment, "reopened")
            return ticket

    def close(self, number: str, staff_id: int, note: str | None = None, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            transitions.close(session, ticket, actor, moment, note)
            return ticket

    def close_at_once(
        self,
        number: str,
        reason: CloseReason | str,
        *,
        staff_id: int | None = None,
        citizen_id: int | None = None,
        entry_id: int | None = None,
        service: str | None = None,
        note: str | None = None,
        now: datetime | None = None,
    ) -> Ticket:
        """Settle a `new` ticket at first contact (直接答复 or 紧急转办); by staff or by its citizen."""
        moment = self._now(now)
        try:
            why = CloseReason(reason)
        except ValueError as err:
            raise InvalidInput(f"unknown close reason {reason!r}") from err
        with self.unit_of_work() as session:
            ticket = self._ticket(session, number)
            actor = self._staff(session, staff_id) if staff_id is not None else citizen_actor(citizen_id or 0)
            transitions.close_at_once(session, ticket, actor, moment, why, entry_id=entry_id, service=service, note=note)
            return ticket

    def auto_close(self, number: str, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket = self._ticket(session, number)
            transitions.auto_close(session, ticket, SYSTEM, moment, self.policy)
            return ticket

    def invalidate(self, number: str, staff_id: int, reason: str, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            transitions.invalidate(session, ticket, actor, reason, moment)
            return ticket

    def merge(self, number: str, into: str, staff_id: int, now: datetime | None = None) -> Ticket:
        moment = self._now(now)
        with self.unit_of_work() as session:
            ticket, actor = self._ticket(session, number), self._staff(session, staff_id)
            target = self._ticket(session, into)
            transitions.merge(session, ticket, target, actor, moment)
            return ticket

    # -- queries --------------------------------------------------------------------------
    def similar(
        self, text: str | None = None, number: str | None = None, limit: int = 5, days: int | None = None,
        now: datetime | None = None, among: Sequence[str] | None = None,
    ) -> list[SimilarTicket]:
        """The open tickets of the last `days` (nlu.similar.days) most like `text` or like ticket
        `number` (itself excluded), best first, each flagged `duplicate` above the threshold.
        `among`: only these tickets (by number), e.g. a citizen's own."""
        if (text is None) == (number is None):
            raise InvalidInput("give either a text or a ticket number")
        if limit < 1 or (days is not None and days < 1):
            raise InvalidInput("limit and days must be at least 1")
        moment = self._now(now)
        with self.unit_of_work() as session:
            exclude = self._ticket(session, number, lock=False) if number is not None else None
            query = exclude.text if exclude is not None else (text or "").strip()
            if not query:
                raise InvalidInput("the text to compare is empty")
            return rank(session, query, self.embedder, self.similar_settings, moment, limit, days, exclude, among,
                        self.vector_cache)

    def vectors(self, numbers: Sequence[str]) -> dict[str, np.ndarray]:
        """The sentence vectors of these tickets by number (computed and stored where missing); empty
        without an encoder."""
        if self.embedder is None or not numbers:
            return {}
        with self.unit_of_work() as session:
            found = list(session.exec(select(Ticket).where(col(Ticket.number).in_(list(dict.fromkeys(numbers))))).all())
            rows = vectors_for(session, found, self.embedder, self.clock())
            return {t.number: rows[i] for i, t in enumerate(found)}

    def filed(self, channel: str, external_message_id: str) -> Ticket | None:
        """The ticket a message was filed as, if any (a channel whose answer was lost asks)."""
        with self.unit_of_work() as session:
            return find_existing(session, channel, external_message_id)

    def get(self, number: str) -> Ticket:
        with self.unit_of_work() as session:
            return self._ticket(session, number, lock=False)

    def events(self, number: str) -> list[TicketEvent]:
        with self.unit_of_work() as session:
            ticket = self._ticket(session, number, lock=False)
            query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)  # type: ignore[arg-type]
            return list(session.exec(query).all())

    def replies(self, number: str) -> list[Reply]:
        with self.unit_of_work() as session:
            ticket = self._ticket(session, number, lock=False)
            query = select(Reply).where(Reply.ticket_id == ticket.id).order_by(Reply.id)  # type: ignore[arg-type]
            return list(session.exec(query).all())

    def find(
        self,
        state: str | None = None,
        department: str | None = None,
        citizen_id: int | None = None,
        limit: int | None = None,
        open_only: bool = False,
    ) -> list[Ticket]:
        with self.unit_of_work() as session:
            query: Any = select(Ticket)
            if state:
                if state not in State.__members__:
                    raise InvalidInput(f"unknown state {state!r}; expected one of {', '.join(State)}")
                query = query.where(Ticket.state == state)
            if department:
                self._department(session, department)
                query = query.where(Ticket.department_code == department)
            if citizen_id is not None:
                query = query.where(Ticket.citizen_id == citizen_id)
            if open_only:
                query = query.where(col(Ticket.state).notin_([s.value for s in FINAL_STATES]))
            query = query.order_by(Ticket.id.desc())  # type: ignore[union-attr]
            if limit:
                query = query.limit(limit)
            return list(session.exec(query).all())

    def citizen_id(self, channel: str, external_id: str, phone: str | None = None) -> int:
        """The citizen behind a channel's user id, created on first contact."""
        with self.unit_of_work() as session:
            return citizen_row(session, CitizenRef(channel, external_id, phone=phone), self.clock())[0]

    def citizen_overview(self, channel: str, external_id: str, open_limit: int = 50) -> tuple[int, str | None, list[Ticket]]:
        """The citizen behind a channel's user id (created on first contact), the phone the hotline
        has for them and their open tickets, newest first: what a new message needs, in one unit of work."""
        with self.unit_of_work() as session:
            citizen, phone = citizen_row(session, CitizenRef(channel, external_id), self.clock())
            query = select(Ticket).where(Ticket.citizen_id == citizen, col(Ticket.state).notin_([s.value for s in FINAL_STATES]))
            return citizen, phone, list(session.exec(query.order_by(col(Ticket.id).desc()).limit(open_limit)).all())

    def citizen(self, citizen_id: int) -> Citizen | None:
        with self.unit_of_work() as session:
            return session.get(Citizen, citizen_id)

    def department_name(self, code: str | None) -> str:
        with self.unit_of_work() as session:
            return self._department_name(session, code)

    def departments(self) -> list[Department]:
        with self.unit_of_work() as session:
            return list(session.exec(select(Department).where(Department.active == True).order_by(Department.id)).all())  # type: ignore[arg-type]  # noqa: E712

    def may(self, action: str, number: str, *, staff_id: int | None = None, citizen_id: int | None = None) -> Ticket:
        """Check, without changing anything, that this person may make `action` now (raises the
        same refusal the transition would). Lets a channel ask for a reason only when it will count."""
        with self.unit_of_work() as session:
            ticket = self._ticket(session, number, lock=False)
            actor = self._staff(session, staff_id) if staff_id is not None else citizen_actor(citizen_id or 0)
            transitions.check(action, ticket, actor)
            return ticket

    def counts(self) -> list[tuple[str | None, str, int]]:
        """Number of tickets by (department code, state)."""
        with self.unit_of_work() as session:
            query = select(Ticket.department_code, Ticket.state, func.count()).group_by(Ticket.department_code, Ticket.state)
            return [(code, state, int(n)) for code, state, n in session.exec(query).all()]

    def citizen_notices(self, citizen_id: int, after_id: int = 0, limit: int = 50) -> list[Notice]:
        """Notices delivered to a citizen after `after_id` (the web chat shows them in its page)."""
        with self.unit_of_work() as session:
            query = (
                select(Notice)
                .where(Notice.recipient_kind == "citizen", Notice.recipient == str(citizen_id))
                .where(Notice.sent_at != None, Notice.id > after_id)  # type: ignore[operator]  # noqa: E711
                .order_by(Notice.id)  # type: ignore[arg-type]
                .limit(limit)
            )
            return list(session.exec(query).all())
