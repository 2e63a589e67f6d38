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
    # Invalid and merged tickets drop out as of the period's end, so a past week never changes.
    dropped = select(col(TicketEvent.ticket_id)).where(col(TicketEvent.action).in_(("invalidate", "merge")),
                                                  col(TicketEvent.at) < end)
    received = and_(col(Ticket.created_at) >= start, col(Ticket.created_at) < end, col(Ticket.id).not_in(dropped))
    with Session(engine) as session:
        first = session.execute(select(func.count()).select_from(Ticket).where(received)).scalar_one()
        transferred = session.execute(select(func.count()).select_from(Ticket).where(
            received, col(Ticket.close_reason) == CloseReason.transferred.value)).scalar_one()
        repeats = session.execute(select(func.count()).select_from(Contact).where(
            col(Contact.at) >= start, col(Contact.at) < end)).scalar_one()
        answered_query = select(col(Ticket.id)).where(received, col(Ticket.first_answered_at) < end)
        answered = session.execute(select(func.count()).select_from(answered_query.subquery())).scalar_one()
        called = session.execute(select(func.count(func.distinct(CallbackAttempt.ticket_id))).where(
            col(CallbackAttempt.ticket_id).in_(answered_query), col(CallbackAttempt.at) < end)).scalar_one()
    contacts = int(first) + int(repeats)
    return {"transferred": int(transferred), "contacts": contacts, "repeat_rate": ratio(int(repeats), contacts),
            "callbacks": int(called), "callback_rate": ratio(int(called), int(answered))}
