"""What staff may see of tickets: the workbench's queues and one ticket's page.

Visibility is a domain rule, like the transitions: dispatchers and leaders see every ticket,
department staff and heads only their own department's. A ticket that may not be seen raises
PermissionDenied("view", …), exactly as a refused transition does. The citizen's phone is shown
to the handling department and the dispatchers only. Everyone else who may see the ticket (the
leaders) reads a masked copy of everything on the page that a citizen or a department wrote: the
text, the place, the answers, the rating comment and every event note go through
tickets.masking.mask_personal, as the public's do, and attachments (photos, shared contacts and
locations) are withheld. Every view of the page is recorded (TicketAccess) for the leaders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from tickets import transitions
from tickets.actors import Actor
from tickets.errors import NotFound, PermissionDenied, TransitionNotAllowed
from tickets.masking import mask_personal
from tickets.models import Attachment, Citizen, Department, Reply, Staff, Ticket, TicketAccess, TicketEvent
from tickets.models_desk import CallbackAttempt, Contact, Supervision
from tickets.states import AWAITING_ANSWER, ActorKind, Role, State
from tickets.timeutil import utcnow

QUEUE_LIMIT = 200
# What the workbench offers, in the order its forms appear.
WORKBENCH_ACTIONS = ("accept", "answer", "return", "request_extension", "assign", "reroute", "grant_extension",
                     "refuse_extension", "close", "invalidate", "merge", "retype", "mark_urgent", "supervise",
                     "acknowledge_supervision", "callback")
# The hotline centre's own people see every ticket: operators take repeat calls and phone citizens back.
CENTRE_ROLES = (Role.dispatcher, Role.leader, Role.operator)


def actor_of(staff: Staff) -> Actor:
    return Actor(kind=ActorKind.staff, id=staff.id, role=Role(staff.role), department_code=staff.department_code,
                 name=staff.name)


def may_view(staff: Staff, ticket: Ticket) -> bool:
    if staff.role in CENTRE_ROLES:
        return True
    return staff.department_code is not None and staff.department_code == ticket.department_code


def sees_phone(staff: Staff, ticket: Ticket) -> bool:
    """Whether this person handles the ticket and so sees its personal data unmasked."""
    return staff.role in (Role.dispatcher, Role.operator) or (
        staff.role in (Role.staff, Role.head) and staff.department_code == ticket.department_code
        and not ticket.confidential  # 保密: the citizen asked that the department not see who they are
    )


sees_personal_data = sees_phone


def masked_ticket(ticket: Ticket) -> Ticket:
    """A detached copy of the ticket with every free text masked and the contact fields removed."""
    return Ticket(**{
        **ticket.model_dump(),
        "text": mask_personal(ticket.text), "summary": mask_personal(ticket.summary),
        "location": mask_personal(ticket.location) or None, "rating_comment": mask_personal(ticket.rating_comment) or None,
        "invalid_reason": mask_personal(ticket.invalid_reason) or None, "contact_phone": None, "entities": [],
    })


def masked_reply(reply: Reply) -> Reply:
    return Reply(**{**reply.model_dump(), "text": mask_personal(reply.text)})


def masked_event(event: TicketEvent) -> TicketEvent:
    return TicketEvent(**{**event.model_dump(), "note": mask_personal(event.note) or None})


def masked_contact(contact: Contact) -> Contact:
    """A repeat contact's words are the citizen's, as the ticket's text is."""
    return Contact(**{**contact.model_dump(), "text": mask_personal(contact.text)})


def masked_callback(attempt: CallbackAttempt) -> CallbackAttempt:
    """What the citizen said on the callback call, as the operator noted it."""
    return CallbackAttempt(**{**attempt.model_dump(), "note": mask_personal(attempt.note) or None})


def allowed_actions(ticket: Ticket, staff: Staff) -> frozenset[str]:
    """The workbench actions the domain would accept from this person now (forms to show).

    The domain checks again when a form is posted; this only keeps useless buttons off the page."""
    actor = actor_of(staff)
    allowed = set()
    for action in WORKBENCH_ACTIONS:
        try:
            transitions.check(action, ticket, actor)
        except TransitionNotAllowed:
            continue
        allowed.add(action)
    if ticket.extension_state is not None:
        allowed.discard("request_extension")
    if ticket.extension_state != "requested":
        allowed -= {"grant_extension", "refuse_extension"}
    if ticket.urgent:
        allowed.discard("mark_urgent")
    return frozenset(allowed)


@dataclass(frozen=True)
class QueueItem:
    ticket: Ticket
    note: str | None = None  # the latest return reason / extension request, where the queue needs it
    candidates: list[tuple[str, float]] = field(default_factory=list)  # NLU's likely departments


@dataclass(frozen=True)
class Queue:
    items: list[QueueItem]
    total: int


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    number: str
    staff_name: str
    staff_role: str
    department_code: str | None
    personal: bool


@dataclass(frozen=True)
class TicketPage:
    ticket: Ticket
    text: str  # the citizen's text (masked for those who may not see personal data)
    phone: str | None  # None when the viewer may not see it
    events: list[TicketEvent]
    replies: list[Reply]
    attachments: list[Attachment]
    staff_names: dict[int, str]
    allowed: frozenset[str]
    candidates: list[tuple[str, float]]
    merged_into: str | None
    merged_from: list[str]
    # The desk's rows (issue 14): repeat contacts, 督办 by hand, phone callbacks.
    contacts: list[Contact] = field(default_factory=list)
    supervisions: list[Supervision] = field(default_factory=list)
    callbacks: list[CallbackAttempt] = field(default_factory=list)

    @property
    def contact_count(self) -> int:
        return 1 + len(self.contacts)

    @property
    def pending_supervision(self) -> bool:
        return any(s.acknowledged_at is None for s in self.supervisions)


def candidates(ticket: Ticket, limit: int = 3) -> list[tuple[str, float]]:
    """The NLU's likeliest departments for this ticket, best first."""
    scores: dict[str, float] = (ticket.nlu or {}).get("department_scores", {}) or {}
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    return [(code, float(score)) for code, score in ranked[:limit]]


class TicketViews:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _latest_notes(self, session: Session, tickets: Sequence[Ticket], action: str) -> dict[int, str | None]:
        ids = [t.id for t in tickets]
        if not ids:
            return {}
        query = (select(TicketEvent).where(col(TicketEvent.ticket_id).in_(ids), TicketEvent.action == action)
                 .order_by(col(TicketEvent.id)))
        return {e.ticket_id: e.note for e in session.exec(query).all()}

    def _queue(self, session: Session, query: Any, order: Sequence[Any], note_action: str | None = None,
               masked: bool = False) -> Queue:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = list(session.exec(query.order_by(*order).limit(QUEUE_LIMIT)).all())
        notes = self._latest_notes(session, rows, note_action) if note_action else {}
        if masked:
            rows = [masked_ticket(t) for t in rows]
            notes = {k: mask_personal(v) or None for k, v in notes.items()}
        items = [QueueItem(t, notes.get(t.id or 0), candidates(t)) for t in rows]
        return Queue(items, int(total))

    def department_queue(self, department_code: str) -> Queue:
        """A department's tickets waiting for it, the earliest answer deadline (so the overdue) first."""
        with self._session() as session:
            query = select(Ticket).where(Ticket.department_code == department_code,
                                         col(Ticket.state).in_([s.value for s in AWAITING_ANSWER]))
            return self._queue(session, query, [col(Ticket.answer_due), col(Ticket.id)], "request_extension")

    def review_queue(self) -> Queue:
        """Tickets waiting for a dispatcher (new, or sent back by a department), urgent first."""
        with self._session() as session:
            query = select(Ticket).where(col(Ticket.state).in_([State.new.value, State.returned.value]))
            return self._queue(session, query, [col(Ticket.urgent).desc(), col(Ticket.created_at), col(Ticket.id)],
                               "return")

    def emergency_queue(self) -> Queue:
        """Urgent tickets not yet with a department: the dispatchers' emergency queue (紧急队列)."""
        with self._session() as session:
            query = select(Ticket).where(col(Ticket.state).in_([State.new.value, State.returned.value]),
                                         col(Ticket.urgent).is_(True))
            return self._queue(session, query, [col(Ticket.created_at), col(Ticket.id)], "return")

    def extension_requests(self) -> Queue:
        with self._session() as session:
            query = select(Ticket).where(Ticket.extension_state == "requested",
                                         col(Ticket.state).in_([State.accepted.value, State.reopened.value]))
            return self._queue(session, query, [col(Ticket.answer_due), col(Ticket.id)], "request_extension")

    def answered(self) -> Queue:
        """Answered tickets waiting for the citizen's rating (a dispatcher may 办结 them)."""
        with self._session() as session:
            query = select(Ticket).where(Ticket.state == State.answered.value)
            return self._queue(session, query, [col(Ticket.answered_at), col(Ticket.id)])

    def overdue(self, now: datetime, masked: bool = False) -> Queue:
        """Every ticket past its answer deadline and still waiting for its department (masked: for leaders)."""
        with self._session() as session:
            query = select(Ticket).where(col(Ticket.state).in_([s.value for s in AWAITING_ANSWER]),
                                         col(Ticket.answer_due) < now)
            return self._queue(session, query, [col(Ticket.answer_due), col(Ticket.id)], masked=masked)

    def open_counts(self) -> list[tuple[str, str, dict[str, int]]]:
        """Open tickets per department and state: (code, name, {state: count}), busiest first."""
        with self._session() as session:
            query = (select(Ticket.department_code, Ticket.state, func.count())
                     .where(col(Ticket.state).in_([s.value for s in AWAITING_ANSWER]))
                     .group_by(Ticket.department_code, Ticket.state))
            names = {d.code: d.name for d in session.exec(select(Department)).all()}
            counts: dict[str, dict[str, int]] = {}
            for code, state, n in session.exec(query).all():
                counts.setdefault(code or "", {})[state] = int(n)
        rows = [(code, names.get(code, code), by_state) for code, by_state in counts.items()]
        return sorted(rows, key=lambda row: -sum(row[2].values()))

    def search(self, staff: Staff, text: str, limit: int = 50) -> list[Ticket]:
        """Tickets whose number contains `text`, among those this person may see."""
        needle = text.strip()
        if not needle:
            return []
        with self._session() as session:
            query = select(Ticket).where(col(Ticket.number).contains(needle))
            if staff.role not in CENTRE_ROLES:
                query = query.where(Ticket.department_code == (staff.department_code or ""))
            found = list(session.exec(query.order_by(col(Ticket.id).desc()).limit(limit)).all())
        return [t if sees_personal_data(staff, t) else masked_ticket(t) for t in found]

    def page(self, number: str, staff: Staff, now: datetime | None = None) -> TicketPage:
        """One ticket as this person may see it (masked unless they handle it), the view recorded;
        PermissionDenied for another department's ticket."""
        with self._session() as session:
            ticket = session.exec(select(Ticket).where(Ticket.number == number.strip())).first()
            if ticket is None:
                raise NotFound(f"no ticket numbered {number!r}")
            if not may_view(staff, ticket):
                raise PermissionDenied("view", ticket.number, f"{actor_of(staff).label} may not see another "
                                       "department's ticket")
            events = list(session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                       .order_by(col(TicketEvent.id))).all())
            replies = list(session.exec(select(Reply).where(Reply.ticket_id == ticket.id).order_by(col(Reply.id))).all())
            attachments = list(session.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)
                                            .order_by(col(Attachment.id))).all())
            ids = {e.actor_id for e in events if e.actor_kind == ActorKind.staff and e.actor_id} | {
                r.staff_id for r in replies if r.staff_id}
            names = {s.id: s.name for s in session.exec(select(Staff).where(col(Staff.id).in_(ids))).all()} if ids else {}
            into = session.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None
            merged_from = list(session.exec(select(Ticket.number).where(Ticket.merged_into_id == ticket.id)).all())
            contacts = list(session.exec(select(Contact).where(Contact.ticket_id == ticket.id).order_by(col(Contact.id))).all())
            supervisions = list(session.exec(select(Supervision).where(Supervision.ticket_id == ticket.id)
                                             .order_by(col(Supervision.id))).all())
            callbacks = list(session.exec(select(CallbackAttempt).where(CallbackAttempt.ticket_id == ticket.id)
                                          .order_by(col(CallbackAttempt.id))).all())
            phone = None
            personal = sees_personal_data(staff, ticket)
            if personal:
                citizen = session.get(Citizen, ticket.citizen_id)
                phone = ticket.contact_phone or (citizen.phone if citizen else None)
            assert ticket.id is not None and staff.id is not None
            session.add(TicketAccess(ticket_id=ticket.id, staff_id=staff.id, at=now or utcnow(), personal=personal))
            session.commit()
        if not personal:
            ticket = masked_ticket(ticket)
            events, replies, attachments = [masked_event(e) for e in events], [masked_reply(r) for r in replies], []
            contacts, callbacks = [masked_contact(c) for c in contacts], [masked_callback(c) for c in callbacks]
        return TicketPage(
            ticket=ticket,
            text=ticket.text,
            phone=phone,
            events=events,
            replies=replies,
            attachments=attachments,
            staff_names={k: v for k, v in names.items() if k is not None},
            allowed=allowed_actions(ticket, staff),
            candidates=candidates(ticket),
            merged_into=into.number if into else None,
            merged_from=merged_from,
            contacts=contacts,
            supervisions=supervisions,
            callbacks=callbacks,
        )

    def access_log(self, staff: Staff, number: str = "", limit: int = 200) -> list[AccessRow]:
        """Who viewed which ticket's page and when, newest first (the centre's leaders only)."""
        if staff.role != Role.leader:
            raise PermissionDenied("view", number or "access log", "only the centre's leaders read the access log")
        with self._session() as session:
            query = (select(TicketAccess, Ticket.number, Staff)
                     .join(Ticket, col(Ticket.id) == TicketAccess.ticket_id)
                     .join(Staff, col(Staff.id) == TicketAccess.staff_id))
            if number.strip():
                query = query.where(Ticket.number == number.strip())
            rows = session.exec(query.order_by(col(TicketAccess.at).desc(), col(TicketAccess.id).desc())
                                .limit(limit)).all()
            return [AccessRow(access.at, ticket_number, person.name, person.role, person.department_code,
                              access.personal) for access, ticket_number, person in rows]

    def attachment(self, attachment_id: int, staff: Staff) -> Attachment:
        """An attachment, if its ticket may be seen by this person."""
        with self._session() as session:
            found = session.get(Attachment, attachment_id)
            ticket = session.get(Ticket, found.ticket_id) if found else None
            if found is None or ticket is None:
                raise NotFound(f"no attachment {attachment_id}")
            if not sees_personal_data(staff, ticket):  # leaders read the masked page: no photos or contacts
                raise PermissionDenied("view", ticket.number, "an attachment is seen only by those handling the ticket")
            return found
