"""The desk's transitions (issue 14): repeat contacts, phone callbacks, a dispatcher's control of
an open ticket (type, urgency, 督办 by hand). Like tickets/transitions.py, each checks the table in
states.py, changes the ticket, writes its event row and flushes; the caller commits.

Corrections a person makes to the NLU's decisions are written here, as rows of their own, by the
transitions that make them (DESIGN.md, "Added with the hotline centre's desk")."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from tickets.actors import Actor
from tickets.corrections import record_correction
from tickets.errors import InvalidInput, TransitionNotAllowed
from tickets.models import Ticket
from tickets.models_desk import CallbackAttempt, Contact, Supervision
from tickets.states import CALLBACK_RESULTS, CloseReason, Rating, State, TicketType
from tickets.timelimits import Policy
from tickets.timeutil import ensure_aware
from tickets.transitions import MAX_NOTE_CHARS, _record, _required_text, check


def add_contact(session: Session, ticket: Ticket, actor: Actor, channel: str, text: str, now: datetime,
                citizen_id: int | None = None) -> Contact:
    """重复来电 / 追加诉求: the citizen's new words join the ticket; its state does not change."""
    check("add_contact", ticket, actor)
    now = ensure_aware(now)
    body = (text or "").strip()[:MAX_NOTE_CHARS]
    contact = Contact(ticket_id=ticket.id, channel=channel, at=now, text=body,  # type: ignore[arg-type]
                      staff_id=actor.id if actor.kind == "staff" else None,
                      citizen_id=citizen_id if citizen_id is not None else (actor.id if actor.kind == "citizen" else None))
    session.add(contact)
    _record(session, ticket, "add_contact", actor, now, ticket.state, note=f"{channel}：{body[:200]}")
    return contact


def contact_count(session: Session, ticket_id: int) -> int:
    """Contacts about a ticket: the first one that opened it and every repeat contact."""
    repeats = session.exec(select(func.count()).select_from(Contact).where(Contact.ticket_id == ticket_id)).one()
    return 1 + int(repeats)


def attempts(session: Session, ticket_id: int, since: datetime | None = None) -> list[CallbackAttempt]:
    query = select(CallbackAttempt).where(CallbackAttempt.ticket_id == ticket_id)
    if since is not None:
        query = query.where(col(CallbackAttempt.at) >= since)
    return list(session.exec(query.order_by(col(CallbackAttempt.id))).all())


def record_callback(session: Session, ticket: Ticket, actor: Actor, result: str, now: datetime, policy: Policy,
                    note: str | None = None) -> CallbackAttempt:
    """电话回访: a rating the citizen gave on the phone is their rating, recorded by the operator
    (满意/基本满意 close, 不满意 reopens as 重办); after the configured number of unanswered calls the
    ticket closes unrated (未评价), as it would at the end of the rating window."""
    if result not in CALLBACK_RESULTS:
        raise InvalidInput(f"unknown callback result {result!r}; expected one of {', '.join(CALLBACK_RESULTS)}")
    check("callback", ticket, actor)
    now = ensure_aware(now)
    text = (note or "").strip()[:MAX_NOTE_CHARS] or None
    assert ticket.answered_at is not None
    tried = len(attempts(session, ticket.id, since=ticket.answered_at)) + 1  # type: ignore[arg-type]
    attempt = CallbackAttempt(ticket_id=ticket.id, staff_id=actor.id, at=now, result=result, note=text)  # type: ignore[arg-type]
    session.add(attempt)
    before = ticket.state
    if result == "no_answer":
        if tried >= policy.limits.callback_attempts:
            ticket.state, ticket.closed_at, ticket.close_reason = State.closed, now, CloseReason.unrated
        label = f"未接通（第 {tried} 次）" + ("，未评价办结" if ticket.state == State.closed else "")
    else:
        rating = Rating(result)
        ticket.rating, ticket.rated_at, ticket.rating_comment = rating, now, text
        if rating is Rating.dissatisfied:
            ticket.state = State.reopened
            ticket.reopened_count += 1
            ticket.answer_due = policy.answer_due(now, ticket.type, ticket.department_code)
            ticket.extension_state, ticket.extension_days = None, None
        else:
            ticket.state, ticket.closed_at, ticket.close_reason = State.closed, now, CloseReason.rated
        label = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意，重办"}[result]
    _record(session, ticket, "callback", actor, now, before, note=label + (f"：{text}" if text else ""))
    return attempt


def retype(session: Session, ticket: Ticket, ticket_type: str, actor: Actor, now: datetime, policy: Policy) -> None:
    """改类型: the answer time limit is recomputed from when the department got the ticket."""
    check("retype", ticket, actor)
    if ticket_type not in TicketType.__members__:
        raise InvalidInput(f"unknown ticket type {ticket_type!r}; expected one of {', '.join(TicketType)}")
    if ticket_type == ticket.type:
        raise InvalidInput(f"ticket {ticket.number} is already a {ticket_type}")
    now = ensure_aware(now)
    before, old_due = ticket.type, ticket.answer_due
    ticket.type = ticket_type
    if ticket.assigned_at is not None and ticket.state != State.reopened:
        due = policy.answer_due(ticket.assigned_at, ticket_type, ticket.department_code)
        if ticket.extension_state == "granted" and ticket.extension_days:
            due = policy.extend(due, ticket.extension_days)
        ticket.answer_due = due
    deadline = ""
    if old_due != ticket.answer_due and ticket.answer_due is not None:
        zone = policy.calendar
        old = zone.local(old_due).strftime("%Y-%m-%d %H:%M") if old_due else "—"
        deadline = f"；答复时限 {old} -> {zone.local(ticket.answer_due).strftime('%Y-%m-%d %H:%M')}"
    _record(session, ticket, "retype", actor, now, ticket.state, note=f"{before} -> {ticket_type}{deadline}")
    record_correction(session, ticket, "type", before, ticket_type, actor, now)


def mark_urgent(session: Session, ticket: Ticket, actor: Actor, now: datetime, note: str | None = None) -> None:
    check("mark_urgent", ticket, actor)
    if ticket.urgent:
        raise TransitionNotAllowed("mark_urgent", ticket.number, "it is already marked urgent")
    ticket.urgent = True
    _record(session, ticket, "mark_urgent", actor, ensure_aware(now), ticket.state, note=(note or "").strip() or None)


def supervise(session: Session, ticket: Ticket, actor: Actor, text: str, now: datetime) -> Supervision:
    """督办 by hand, beside the scheduler's automatic escalation."""
    check("supervise", ticket, actor)
    now = ensure_aware(now)
    body = _required_text(text, "the supervision note (督办意见)")
    row = Supervision(ticket_id=ticket.id, staff_id=actor.id, department_code=ticket.department_code,  # type: ignore[arg-type]
                      at=now, text=body)
    session.add(row)
    _record(session, ticket, "supervise", actor, now, ticket.state, note=body[:200])
    return row


def acknowledge_supervision(session: Session, ticket: Ticket, actor: Actor, now: datetime) -> int:
    """The department has read every pending 督办 note of the ticket; returns how many."""
    check("acknowledge_supervision", ticket, actor)
    now = ensure_aware(now)
    pending = session.exec(select(Supervision).where(Supervision.ticket_id == ticket.id,
                                                     col(Supervision.acknowledged_at).is_(None))).all()
    if not pending:
        raise TransitionNotAllowed("acknowledge_supervision", ticket.number, "no supervision note is waiting")
    for row in pending:
        row.acknowledged_at, row.acknowledged_by = now, actor.id
        session.add(row)
    _record(session, ticket, "acknowledge_supervision", actor, now, ticket.state, note=f"{len(pending)} 条")
    return len(pending)
