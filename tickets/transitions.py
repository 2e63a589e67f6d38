"""One function per ticket transition (DESIGN.md). Each checks the table in states.py and the
actor's right, changes the ticket and writes an event row. Nothing else changes a ticket's state.

The functions flush but never commit: the caller's unit of work decides.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from tickets.actors import Actor
from tickets.corrections import record_correction
from tickets.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from tickets.models import Reply, Ticket, TicketEvent
from tickets.states import (
    EMERGENCY_SERVICES,
    STATE_LABELS_ZH,
    TRANSITIONS,
    ActorKind,
    CloseReason,
    Rating,
    Role,
    State,
    Who,
)
from tickets.text import clean, visible
from tickets.timelimits import Policy
from tickets.timeutil import ensure_aware

MAX_NOTE_CHARS = 2000


def _may(who: Who, ticket: Ticket, actor: Actor) -> bool:
    if who is Who.system:
        return actor.kind is ActorKind.system
    if who is Who.dispatcher:
        return actor.kind is ActorKind.staff and actor.role is Role.dispatcher
    if who is Who.department:
        return (
            actor.kind is ActorKind.staff
            and actor.role in (Role.staff, Role.head)
            and actor.department_code is not None
            and actor.department_code == ticket.department_code
        )
    if who is Who.citizen:
        return actor.kind is ActorKind.citizen and actor.id == ticket.citizen_id
    if who is Who.operator:
        return actor.kind is ActorKind.staff and actor.role is Role.operator
    return False


def check(action: str, ticket: Ticket, actor: Actor) -> None:
    """Raise unless `actor` may make `action` on `ticket` now."""
    rule = TRANSITIONS[action]
    if ticket.state not in rule.sources:
        allowed = ", ".join(sorted(rule.sources))
        raise TransitionNotAllowed(
            action,
            ticket.number,
            f"it is {ticket.state} ({STATE_LABELS_ZH[State(ticket.state)]}); {action} needs one of: {allowed}",
        )
    if not any(_may(who, ticket, actor) for who in rule.who):
        allowed_who = " or ".join(sorted(rule.who))
        raise PermissionDenied(
            action, ticket.number, f"{actor.label} may not; only {allowed_who} of this ticket may"
        )


def _record(
    session: Session,
    ticket: Ticket,
    action: str,
    actor: Actor,
    now: datetime,
    from_state: str | None,
    note: str | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        at=now,
        action=action,
        actor_kind=actor.kind,
        actor_id=actor.id,
        department_code=ticket.department_code,
        from_state=from_state,
        to_state=ticket.state,
        note=note,
    )
    ticket.updated_at = now
    session.add(ticket)
    session.add(event)
    return event


def _move(
    session: Session, ticket: Ticket, action: str, actor: Actor, now: datetime, note: str | None = None
) -> TicketEvent:
    rule = TRANSITIONS[action]
    before = ticket.state
    if rule.target is not None:
        ticket.state = rule.target
    return _record(session, ticket, action, actor, now, before, note)


def _required_text(value: str | None, what: str) -> str:
    text = clean(value or "").strip()
    if not visible(text):  # a zero-width space alone is no answer
        raise InvalidInput(f"{what} must not be empty")
    return text[:MAX_NOTE_CHARS]


def record_submission(session: Session, ticket: Ticket, actor: Actor, now: datetime) -> TicketEvent:
    """The first event of every ticket: it was received (受理)."""
    return _record(session, ticket, "submit", actor, now, None)


def assign(
    session: Session, ticket: Ticket, department_code: str, actor: Actor, now: datetime, policy: Policy
) -> TicketEvent:
    check("assign", ticket, actor)
    now = ensure_aware(now)
    if actor.kind is not ActorKind.system:  # a person routed it: where the model pointed is the "from"
        record_correction(session, ticket, "department", (ticket.nlu or {}).get("department"), department_code, actor, now)
    ticket.department_code = department_code
    _start_clock(ticket, now, policy)
    return _move(session, ticket, "assign", actor, now, note=department_code)


def _start_clock(ticket: Ticket, now: datetime, policy: Policy) -> None:
    ticket.assigned_at = now
    ticket.accept_due = policy.accept_due(now)
    ticket.answer_due = policy.answer_due(now, ticket.type, ticket.department_code)
    ticket.accepted_at = None
    ticket.extension_state = None
    ticket.extension_days = None


def accept(session: Session, ticket: Ticket, actor: Actor, now: datetime) -> None:
    check("accept", ticket, actor)
    now = ensure_aware(now)
    ticket.accepted_at = now
    if ticket.accepted_on_time is None:  # the first department's response is the one counted
        ticket.accepted_on_time = ticket.accept_due is None or now <= ticket.accept_due
    _move(session, ticket, "accept", actor, now)


def answer(session: Session, ticket: Ticket, actor: Actor, text: str, now: datetime) -> Reply:
    check("answer", ticket, actor)
    body = _required_text(text, "the answer")
    now = ensure_aware(now)
    ticket.answered_at = now
    if ticket.first_answered_at is None:
        ticket.first_answered_at = now
        ticket.answered_on_time = ticket.answer_due is None or now <= ticket.answer_due
    reply = Reply(ticket_id=ticket.id,  # type: ignore[arg-type]
                  staff_id=actor.id, department_code=ticket.department_code, at=now, text=body)
    session.add(reply)
    _move(session, ticket, "answer", actor, now, note=body[:200])
    return reply


def return_ticket(session: Session, ticket: Ticket, actor: Actor, reason: str, now: datetime) -> None:
    check("return", ticket, actor)
    note = _required_text(reason, "the reason for returning (退单理由)")
    ticket.returned_count += 1
    _move(session, ticket, "return", actor, ensure_aware(now), note=note)


def reroute(
    session: Session, ticket: Ticket, department_code: str, actor: Actor, now: datetime, policy: Policy
) -> None:
    check("reroute", ticket, actor)
    now = ensure_aware(now)
    previous = ticket.department_code
    record_correction(session, ticket, "department", previous, department_code, actor, now)
    ticket.department_code = department_code
    _start_clock(ticket, now, policy)
    _move(session, ticket, "reroute", actor, now, note=f"{previous} -> {department_code}")


def request_extension(
    session: Session, ticket: Ticket, actor: Actor, days: int, reason: str, now: datetime, policy: Policy
) -> None:
    check("request_extension", ticket, actor)
    if ticket.extension_state is not None:
        raise TransitionNotAllowed(
            "request_extension", ticket.number, f"an extension was already asked for ({ticket.extension_state})"
        )
    if not 1 <= days <= policy.limits.max_extension_days:
        raise InvalidInput(f"extension must be 1 to {policy.limits.max_extension_days} working days, not {days}")
    note = _required_text(reason, "the reason for the extension")
    ticket.extension_state = "requested"
    ticket.extension_days = days
    _move(session, ticket, "request_extension", actor, ensure_aware(now), note=f"{days}d: {note}")


def _decide_extension(action: str, ticket: Ticket) -> None:
    if ticket.extension_state != "requested":
        raise TransitionNotAllowed(action, ticket.number, "no extension request is pending")


def grant_extension(
    session: Session, ticket: Ticket, actor: Actor, now: datetime, policy: Policy, note: str | None = None
) -> None:
    check("grant_extension", ticket, actor)
    _decide_extension("grant_extension", ticket)
    assert ticket.answer_due is not None and ticket.extension_days is not None
    ticket.answer_due = policy.extend(ticket.answer_due, ticket.extension_days)
    ticket.extension_state = "granted"
    _move(session, ticket, "grant_extension", actor, ensure_aware(now), note=note)


def refuse_extension(session: Session, ticket: Ticket, actor: Actor, now: datetime, note: str | None = None) -> None:
    check("refuse_extension", ticket, actor)
    _decide_extension("refuse_extension", ticket)
    ticket.extension_state = "refused"
    _move(session, ticket, "refuse_extension", actor, ensure_aware(now), note=note)


def rate(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    rating: Rating,
    now: datetime,
    policy: Policy,
    comment: str | None = None,
) -> None:
    """The citizen's rating: 满意/基本满意 close the ticket, 不满意 reopens it (重办)."""
    now = ensure_aware(now)
    if rating is Rating.dissatisfied:
        check("reopen", ticket, actor)
        ticket.rating, ticket.rated_at, ticket.rating_comment = rating, now, (comment or None)
        reopen(session, ticket, actor, now, policy, note=comment or "不满意")
        return
    check("rate", ticket, actor)
    ticket.rating, ticket.rated_at, ticket.rating_comment = rating, now, (comment or None)
    ticket.closed_at = now
    ticket.close_reason = "rated"
    _move(session, ticket, "rate", actor, now, note=rating)


def reopen(
    session: Session, ticket: Ticket, actor: Actor, now: datetime, policy: Policy, note: str | None = None
) -> None:
    """重办: same department, a new answer time limit from now."""
    check("reopen", ticket, actor)
    now = ensure_aware(now)
    ticket.reopened_count += 1
    ticket.answer_due = policy.answer_due(now, ticket.type, ticket.department_code)
    ticket.extension_state = None
    ticket.extension_days = None
    _move(session, ticket, "reopen", actor, now, note=note)


def close(session: Session, ticket: Ticket, actor: Actor, now: datetime, note: str | None = None) -> None:
    check("close", ticket, actor)
    now = ensure_aware(now)
    ticket.closed_at = now
    ticket.close_reason = "dispatcher"
    _move(session, ticket, "close", actor, now, note=note)


def auto_close(session: Session, ticket: Ticket, actor: Actor, now: datetime, policy: Policy) -> None:
    """No rating within the callback window: closed as 未评价 (unrated, not satisfied)."""
    check("auto_close", ticket, actor)
    now = ensure_aware(now)
    assert ticket.answered_at is not None
    due = policy.callback_due(ticket.answered_at)
    if now < due:
        raise TransitionNotAllowed("auto_close", ticket.number, f"the citizen may still rate until {due.isoformat()}")
    ticket.closed_at = now
    ticket.close_reason = "unrated"
    _move(session, ticket, "auto_close", actor, now, note="未评价")


def invalidate(session: Session, ticket: Ticket, actor: Actor, reason: str, now: datetime) -> None:
    check("invalidate", ticket, actor)
    ticket.invalid_reason = _required_text(reason, "the reason (无效原因)")
    _move(session, ticket, "invalidate", actor, ensure_aware(now), note=ticket.invalid_reason)


def merge(session: Session, ticket: Ticket, into: Ticket, actor: Actor, now: datetime) -> None:
    check("merge", ticket, actor)
    if into.id == ticket.id:
        raise InvalidInput(f"ticket {ticket.number} cannot be merged into itself")
    if into.state in (State.invalid, State.merged):
        raise TransitionNotAllowed("merge", ticket.number, f"target {into.number} is {into.state}")
    ticket.merged_into_id = into.id
    _move(session, ticket, "merge", actor, ensure_aware(now), note=into.number)


def close_at_once(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    reason: CloseReason,
    *,
    entry_id: int | None = None,
    service: str | None = None,
    note: str | None = None,
) -> None:
    """A `new` ticket settled at first contact: answered from the knowledge base (`direct_answer`,
    with the entry's id) or handed to an emergency service (`transferred`, with 110/119/120 and why).
    The citizen may close their own ticket only as answered; transfers are the centre's call."""
    check("close_at_once", ticket, actor)
    now = ensure_aware(now)
    if reason is CloseReason.direct_answer:
        if entry_id is None:
            raise InvalidInput("a direct answer (直接答复) needs the knowledge-base entry it gave")
        ticket.kb_entry_id = entry_id
        text = note.strip()[:MAX_NOTE_CHARS] if note and note.strip() else f"知识库条目 #{entry_id}"
    elif reason is CloseReason.transferred:
        if actor.kind is ActorKind.citizen:
            raise PermissionDenied("close_at_once", ticket.number, "only the hotline centre transfers an emergency")
        if service not in EMERGENCY_SERVICES:
            raise InvalidInput(f"unknown emergency service {service!r}; expected one of {', '.join(EMERGENCY_SERVICES)}")
        ticket.transferred_to = service
        text = f"转{service}：{_required_text(note, 'the reason for the transfer (转办原因)')}"
    else:
        raise InvalidInput(f"close reason {reason!r} is not a first-contact outcome")
    ticket.closed_at = now
    ticket.close_reason = reason
    _move(session, ticket, "close_at_once", actor, now, note=text)
