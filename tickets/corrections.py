"""Corrections the NLU learns from (DESIGN.md): a person said the model was wrong about a ticket.

One row per corrected field, written by the transition or intake step that makes the correction, in
the same unit of work: a dispatcher routing a `new` ticket elsewhere than the model proposed, a
re-route after 退单, a change of type, the citizen's own choice on the confirmation card. Each row
becomes exactly one labelled example (the ticket's text with the corrected label) when the model is
retrained with `hotline nlu train --from-db`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, Session, SQLModel, col, select

from tickets import personal_data
from tickets.actors import Actor
from tickets.models import Ticket
from tickets.timeutil import UTCDateTime

FIELDS = ("type", "department", "topic")


class NluCorrection(SQLModel, table=True):
    __tablename__ = "nlu_correction"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    field: str = Field(max_length=20)  # type / department / topic
    from_value: str | None = Field(default=None, max_length=40)  # what the model (or the last person) said
    to_value: str = Field(max_length=40)
    actor_kind: str = Field(max_length=20)
    actor_id: int | None = None
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


def record_correction(
    session: Session, ticket: Ticket, field: str, old: str | None, new: str | None, actor: Actor, now: datetime
) -> NluCorrection | None:
    """A row when a person's value differs from the one before; None when they agreed (a
    confirmation teaches the model nothing new) or gave no value."""
    if field not in FIELDS:
        raise ValueError(f"unknown corrected field {field!r}; expected one of {', '.join(FIELDS)}")
    if not new or new == old:
        return None
    row = NluCorrection(ticket_id=ticket.id,  # type: ignore[arg-type]
                        field=field, from_value=old, to_value=new, actor_kind=actor.kind, actor_id=actor.id, at=now)
    session.add(row)
    return row


def export_corrections(session: Session, scope: personal_data.Scope) -> list[dict[str, Any]]:
    if not scope.ticket_ids:
        return []
    query = select(NluCorrection).where(col(NluCorrection.ticket_id).in_(scope.ticket_ids)).order_by(col(NluCorrection.id))
    return [{**row.model_dump(exclude={"at"}), "at": row.at.isoformat()} for row in session.exec(query).all()]


# A correction holds labels only (type, department, topic); the text it teaches with is the ticket's,
# which the ticket's eraser masks: the rows stay, so retraining keeps the lesson without the person.
personal_data.register("nlu_corrections", export=export_corrections, erase=lambda session, scope: 0)
