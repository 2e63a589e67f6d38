"""A citizen's rights over their data, and its retention (个人信息保护法).

- `export_citizen`: everything held about one person, from every registered holder
  (tickets.personal_data), as one JSON-able dict keyed by holder name.
- `erase_citizen`: the person's personal data removed or anonymised. Tickets stay (masked by
  tickets.masking, the function every public view uses), with their states, times, departments
  and ratings, so that statistics do not change; the person's name, phone, account id, messages
  and chat state go.
- `anonymise_expired`: the retention job. Tickets closed (or invalid / merged) longer ago than
  the retention period get the same anonymisation, once (`anonymised_at` marks them).

The tables of this package register here; bot/store.py and any later table register beside
their own models.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_
from sqlmodel import Session, SQLModel, col, select

from tickets import personal_data
from tickets.errors import NotFound
from tickets.masking import MASKING_VERSION, mask_personal
from tickets.models import (
    Attachment,
    Citizen,
    Message,
    Notice,
    Reply,
    Ticket,
    TicketAccess,
    TicketEvent,
    TicketVector,
)
from tickets.personal_data import Scope
from tickets.states import State

ERASED_PREFIX = "erased-"  # a citizen's account id after erasure: a later message makes a new citizen
BATCH = 200  # tickets anonymised per transaction
KEEP_MESSAGE_ID = frozenset({"open311"})


def row(model: SQLModel) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in model.model_dump().items()}


def _masked(text: str | None) -> str | None:
    return mask_personal(text) or None if text is not None else None


# -- the holders of this package's tables ---------------------------------------------------------
def _citizen_rows(session: Session, scope: Scope) -> list[dict[str, Any]]:
    found = session.get(Citizen, scope.citizen_id) if scope.citizen_id else None
    return [row(found)] if found else []


def _erase_citizen_row(session: Session, scope: Scope) -> int:
    found = session.get(Citizen, scope.citizen_id) if scope.citizen_id else None
    if found is None or found.external_id.startswith(ERASED_PREFIX):
        return 0
    found.name, found.phone, found.external_id = None, None, f"{ERASED_PREFIX}{found.id}"
    session.add(found)
    return 1


def _tickets(session: Session, scope: Scope) -> list[Ticket]:
    if not scope.ticket_ids:
        return []
    return list(session.exec(select(Ticket).where(col(Ticket.id).in_(scope.ticket_ids)).order_by(col(Ticket.id))).all())


def _erase_tickets(session: Session, scope: Scope) -> int:
    changed = 0
    for ticket in _tickets(session, scope):
        if ticket.anonymised_at is not None:
            continue
        ticket.text = mask_personal(ticket.text)
        ticket.summary = mask_personal(ticket.summary)
        ticket.summary_masked, ticket.summary_masked_by = ticket.summary, MASKING_VERSION
        ticket.location = _masked(ticket.location)
        ticket.rating_comment = _masked(ticket.rating_comment)
        ticket.invalid_reason = _masked(ticket.invalid_reason)
        ticket.contact_phone = None
        ticket.entities = []
        # The channel's message id can name the account (the web chat's carries its session's digest):
        # replaced, still unique, so the (channel, message id) key stays valid. An Open311 token is the
        # request's public id, which its client looks it up by, and names no one: kept.
        if ticket.channel not in KEEP_MESSAGE_ID:
            ticket.external_message_id = f"{ERASED_PREFIX}{ticket.id}"
        ticket.anonymised_at = scope.now
        session.add(ticket)
        changed += 1
    return changed


def _ratings(session: Session, scope: Scope) -> list[dict[str, Any]]:
    return [{"number": t.number, "rating": t.rating, "comment": t.rating_comment,
             "rated_at": t.rated_at.isoformat() if t.rated_at else None} for t in _tickets(session, scope) if t.rating]


def _contacts(session: Session, scope: Scope) -> list[dict[str, Any]]:
    found = [{"source": "citizen", "phone": c["phone"]} for c in _citizen_rows(session, scope) if c.get("phone")]
    return found + [{"source": t.number, "phone": t.contact_phone} for t in _tickets(session, scope) if t.contact_phone]


def _by_ticket(model: Any) -> personal_data.Exporter:
    def export(session: Session, scope: Scope) -> list[dict[str, Any]]:
        if not scope.ticket_ids:
            return []
        query = select(model).where(col(model.ticket_id).in_(scope.ticket_ids)).order_by(col(model.id))
        return [row(found) for found in session.exec(query).all()]
    return export


def _mask_column(model: Any, column: str) -> personal_data.Eraser:
    def erase(session: Session, scope: Scope) -> int:
        if not scope.ticket_ids:
            return 0
        changed = 0
        for found in session.exec(select(model).where(col(model.ticket_id).in_(scope.ticket_ids))).all():
            masked = _masked(getattr(found, column))
            if masked != getattr(found, column):
                setattr(found, column, masked if masked is not None or column != "text" else "")
                session.add(found)
                changed += 1
        return changed
    return erase


def _erase_attachments(session: Session, scope: Scope) -> int:
    if not scope.ticket_ids:
        return 0
    found = session.exec(select(Attachment).where(col(Attachment.ticket_id).in_(scope.ticket_ids))).all()
    for attachment in found:
        if attachment.ref.startswith("uploads/"):
            scope.files.append(attachment.ref)
        session.delete(attachment)
    return len(found)


def _messages(session: Session, scope: Scope) -> list[dict[str, Any]]:
    if scope.citizen_id is None:
        return []
    query = select(Message).where(Message.citizen_id == scope.citizen_id).order_by(col(Message.id))
    return [row(found) for found in session.exec(query).all()]


def _erase_messages(session: Session, scope: Scope) -> int:
    """A person's erasure deletes their messages; the retention job masks those of its tickets."""
    if scope.citizen_id is not None:
        found = session.exec(select(Message).where(Message.citizen_id == scope.citizen_id)).all()
        for message in found:
            session.delete(message)
        return len(found)
    return _mask_column(Message, "text")(session, scope)


def _notice_filter(scope: Scope) -> Any:
    mine = and_(col(Notice.recipient_kind) == "citizen", col(Notice.recipient) == str(scope.citizen_id))
    about = col(Notice.ticket_id).in_(scope.ticket_ids) if scope.ticket_ids else None
    if scope.citizen_id is None:
        return about
    return mine if about is None else or_(mine, about)


def _notices(session: Session, scope: Scope) -> list[dict[str, Any]]:
    if scope.citizen_id is None:
        return []
    query = select(Notice).where(Notice.recipient_kind == "citizen", Notice.recipient == str(scope.citizen_id))
    return [row(found) for found in session.exec(query.order_by(col(Notice.id))).all()]


def _erase_notices(session: Session, scope: Scope) -> int:
    where = _notice_filter(scope)
    if where is None:
        return 0
    changed = 0
    for notice in session.exec(select(Notice).where(where)).all():
        masked = mask_personal(notice.text)
        if masked != notice.text:
            notice.text = masked
            session.add(notice)
            changed += 1
    return changed


def _vectors(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Which sentence vectors are held for the person's tickets (the vector itself is not readable data)."""
    if not scope.ticket_ids:
        return []
    query = select(TicketVector).where(col(TicketVector.ticket_id).in_(scope.ticket_ids))
    return [{"ticket_id": v.ticket_id, "encoder": v.encoder, "created_at": v.created_at.isoformat()}
            for v in session.exec(query).all()]


def _erase_vectors(session: Session, scope: Scope) -> int:
    """A vector of the original text could give some of it back: deleted; the similar-message search
    fills a missing vector again, from the masked text."""
    if not scope.ticket_ids:
        return 0
    found = session.exec(select(TicketVector).where(col(TicketVector.ticket_id).in_(scope.ticket_ids))).all()
    for vector in found:
        session.delete(vector)
    return len(found)


def _access(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Who among the staff viewed the person's tickets (kept on erasure: it records the staff, not them)."""
    return _by_ticket(TicketAccess)(session, scope)


personal_data.register("tickets", export=lambda s, scope: [row(t) for t in _tickets(s, scope)], erase=_erase_tickets)
personal_data.register("events", export=_by_ticket(TicketEvent), erase=_mask_column(TicketEvent, "note"))
personal_data.register("replies", export=_by_ticket(Reply), erase=_mask_column(Reply, "text"))
personal_data.register("attachments", export=_by_ticket(Attachment), erase=_erase_attachments)
personal_data.register("ticket_vectors", export=_vectors, erase=_erase_vectors)
personal_data.register("ratings", export=_ratings, erase=lambda s, scope: 0)  # ticket columns: erased with tickets
personal_data.register("contacts", export=_contacts, erase=lambda s, scope: 0)  # ticket and citizen columns
personal_data.register("messages", export=_messages, erase=_erase_messages)
personal_data.register("notices", export=_notices, erase=_erase_notices)
personal_data.register("access_log", export=_access, erase=lambda s, scope: 0)
personal_data.register("citizen", export=_citizen_rows, erase=_erase_citizen_row, last=True)


# -- the rights and the retention job ----------------------------------------------------------------
def find_citizen(engine: Engine, ref: str) -> Citizen:
    """The citizen a CLI argument names: their id (42) or channel and account (telegram:123456, web:SESSION)."""
    with Session(engine) as session:
        channel, colon, external = ref.strip().partition(":")
        if colon:
            query = select(Citizen).where(Citizen.channel == channel, Citizen.external_id == external)
            found = session.exec(query).first()
        else:
            found = session.get(Citizen, int(channel)) if channel.isdigit() else None
        if found is None:
            raise NotFound(f"no citizen {ref!r} (give the citizen's id, or CHANNEL:ACCOUNT such as telegram:123456)")
        return found


def _scope_of(session: Session, citizen: Citizen, now: datetime) -> Scope:
    ids = [i for i in session.exec(select(Ticket.id).where(Ticket.citizen_id == citizen.id)).all() if i is not None]
    return Scope(now, ids, citizen.id, citizen.channel, citizen.external_id)


def export_citizen(engine: Engine, citizen_id: int, now: datetime) -> dict[str, Any]:
    """Everything held about the person, by holder name (citizen, tickets, events, …)."""
    with Session(engine) as session:
        citizen = session.get(Citizen, citizen_id)
        if citizen is None:
            raise NotFound(f"no citizen {citizen_id}")
        scope = _scope_of(session, citizen, now)
        held: dict[str, Any] = {"exported_at": now.isoformat(), "citizen_id": citizen_id}
        for holder in personal_data.holders():
            held[holder.name] = holder.export(session, scope)
        return held


def erase_citizen(engine: Engine, citizen_id: int, now: datetime) -> tuple[dict[str, int], list[str]]:
    """Erase the person's data in one transaction: rows changed per holder, and files to delete."""
    with Session(engine) as session:
        citizen = session.get(Citizen, citizen_id)
        if citizen is None:
            raise NotFound(f"no citizen {citizen_id}")
        scope = _scope_of(session, citizen, now)
        changed = {holder.name: holder.erase(session, scope) for holder in personal_data.holders()}
        session.commit()
        return changed, scope.files


def expired_tickets(session: Session, cutoff: datetime, limit: int) -> list[int]:
    """Tickets finished before `cutoff` and not yet anonymised, oldest first."""
    finished = or_(and_(col(Ticket.state) == State.closed.value, col(Ticket.closed_at) < cutoff),
                   and_(col(Ticket.state).in_([State.invalid.value, State.merged.value]), col(Ticket.updated_at) < cutoff))
    query = (select(Ticket.id).where(finished, col(Ticket.anonymised_at).is_(None))
             .order_by(col(Ticket.id)).limit(limit))
    return [i for i in session.exec(query).all() if i is not None]


def anonymise_expired(engine: Engine, now: datetime, retention_days: int) -> tuple[int, list[str]]:
    """The retention job: anonymise every ticket finished more than `retention_days` before `now`.

    Runs in batches, each its own transaction; a ticket already anonymised is skipped, so running
    twice (or in two processes) changes nothing more. Returns the tickets done and files to delete."""
    cutoff = now - timedelta(days=retention_days)
    done, files = 0, list[str]()
    while True:
        with Session(engine) as session:
            ids = expired_tickets(session, cutoff, BATCH)
            if not ids:
                return done, files
            scope = Scope(now, ids)
            for holder in personal_data.holders():
                holder.erase(session, scope)
            session.commit()
        done += len(ids)
        files += scope.files
