"""What the public may see (政务公开): resolved cases with the department's answer, masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlmodel import Session

from tickets.masking import mask_personal
from tickets.models import Department, Reply, Ticket
from tickets.states import TYPE_LABELS_ZH, State, TicketType


@dataclass(frozen=True)
class PublicCase:
    number: str
    type_label: str
    department: str
    question: str
    answer: str
    received_at: datetime
    answered_at: datetime


def resolved_cases(engine: Engine, since: datetime, until: datetime, limit: int = 50) -> list[PublicCase]:
    """Tickets closed in [since, until) with their last answer; names, phones, IDs and house numbers masked.

    Cases the citizen was not satisfied with are not closed (they were reopened) and do not appear."""
    with Session(engine) as session:
        query = (
            select(Ticket, Department.name)  # type: ignore[call-overload]
            .join(Department, Department.code == Ticket.department_code, isouter=True)  # type: ignore[arg-type]
            .where(Ticket.state == State.closed, Ticket.closed_at >= since, Ticket.closed_at < until)  # type: ignore[arg-type, operator]
            .order_by(Ticket.closed_at.desc(), Ticket.id.desc())  # type: ignore[union-attr, attr-defined, arg-type]
            .limit(limit)
        )
        rows = list(session.execute(query))
        ids = [ticket.id for ticket, _ in rows]
        answers: dict[int, Reply] = {}
        if ids:
            for reply in session.execute(select(Reply).where(Reply.ticket_id.in_(ids)).order_by(Reply.at)).scalars():  # type: ignore[attr-defined, arg-type]
                answers[reply.ticket_id] = reply  # the last answer wins
    return [
        PublicCase(
            number=ticket.number,
            type_label=TYPE_LABELS_ZH.get(TicketType(ticket.type), ticket.type),
            department=name or "",
            question=mask_personal(ticket.text),
            answer=mask_personal(answers[ticket.id].text) if ticket.id in answers else "",
            received_at=ticket.created_at,
            answered_at=ticket.answered_at or ticket.closed_at,
        )
        for ticket, name in rows
    ]
