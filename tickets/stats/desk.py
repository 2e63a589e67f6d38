"""The desk's figures (issue 14, DESIGN.md's JSON names): emergency transfers, repeat contacts and
phone callbacks, computed live for a period over the tickets received in it (city-wide)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlmodel import Session, col

from tickets.models import Ticket, TicketEvent
from tickets.models_desk import CallbackAttempt, Contact
from tickets.states import CloseReason
from tickets.stats.figures import ratio
from tickets.stats.models import DROPPING_ACTIONS
from tickets.stats.periods import Period
from tickets.timelimits import Policy
from tickets.timeutil import ensure_aware


def desk_figures(engine: Engine, policy: Policy, period: Period, now: datetime) -> dict[str, Any]:
    """`transferred`; `contacts` (first contacts and repeat contacts in the period) and `repeat_rate`
    = repeat contacts / contacts; `callbacks` (answered tickets with a callback attempt) and
    `callback_rate` = callbacks / answered."""
    calendar = policy.calendar
    start = calendar.start_of(period.first)
    end = min(calendar.start_of(period.last + timedelta(days=1)), ensure_aware(now))
    if end <= start:
        return {"transferred": 0, "contacts": 0, "repeat_rate": None, "callbacks": 0, "callback_rate": None}
    # Invalid and merged tickets drop out as of the period's end, so a past week never changes. A
    # ticket's events (and callbacks) come after its creation, so for the tickets received in the
    # period only events from the period's start on can matter: bounding them keeps these look-ups
    # to the period (ix_ticket_event_dropped) however long the history is.
    dropped = select(col(TicketEvent.ticket_id)).where(col(TicketEvent.action).in_(DROPPING_ACTIONS),
                                                  col(TicketEvent.at) >= start, col(TicketEvent.at) < end)
    received = and_(col(Ticket.created_at) >= start, col(Ticket.created_at) < end, col(Ticket.id).not_in(dropped))
    answered_before_end = col(Ticket.first_answered_at) < end
    with Session(engine) as session:
        # One pass over the period's tickets for the three counts.
        first, transferred, answered = session.execute(select(
            func.count(), func.count().filter(col(Ticket.close_reason) == CloseReason.transferred.value),
            func.count().filter(answered_before_end),
        ).select_from(Ticket).where(received)).one()
        repeats = session.execute(select(func.count()).select_from(Contact).where(
            col(Contact.at) >= start, col(Contact.at) < end)).scalar_one()
        # From the period's callbacks to their tickets (a join, not IN (answered tickets): SQLite
        # would first list every ticket answered in the period).
        called = session.execute(
            select(func.count(func.distinct(CallbackAttempt.ticket_id)))
            .join(Ticket, col(Ticket.id) == col(CallbackAttempt.ticket_id))
            .where(col(CallbackAttempt.at) >= start, col(CallbackAttempt.at) < end, received, answered_before_end)
        ).scalar_one()
    contacts = int(first) + int(repeats)
    return {"transferred": int(transferred), "contacts": contacts, "repeat_rate": ratio(int(repeats), contacts),
            "callbacks": int(called), "callback_rate": ratio(int(called), int(answered))}
