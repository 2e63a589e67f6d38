"""Intake: a citizen's message becomes a ticket, routed when the classifier is sure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, bindparam, update
from sqlalchemy import text as textual
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from tickets import transitions
from tickets.actors import SYSTEM, citizen_actor
from tickets.corrections import record_correction
from tickets.errors import InvalidInput
from tickets.models import Attachment, Citizen, Message, Ticket, TicketEvent
from tickets.numbering import next_ticket
from tickets.routing import Classifier, Prediction
from tickets.states import State, TicketType
from tickets.text import MAX_TEXT_CHARS, normalise, summarise
from tickets.timelimits import Policy
from tickets.timeutil import ensure_aware

CITIZENS = Citizen.__table__  # type: ignore[attr-defined]
TICKETS = Ticket.__table__  # type: ignore[attr-defined]
MESSAGES = Message.__table__  # type: ignore[attr-defined]
EVENTS = TicketEvent.__table__  # type: ignore[attr-defined]
# Built once: every submission runs them (building a statement per call cost about as much as running it).
_CITIZEN = select(CITIZENS.c.id, CITIZENS.c.phone).where(CITIZENS.c.channel == bindparam("channel"),
                                                         CITIZENS.c.external_id == bindparam("external_id"))
_NEW_CITIZEN = {
    postgres: insert_of(CITIZENS).values(
        channel=bindparam("channel"), external_id=bindparam("external_id"), name=bindparam("name"),
        phone=bindparam("phone"), created_at=bindparam("created_at", type_=CITIZENS.c.created_at.type),
    ).on_conflict_do_nothing().returning(CITIZENS.c.id, CITIZENS.c.phone)
    for postgres, insert_of in ((True, pg_insert), (False, sqlite_insert))
}
# The new ticket, its first events and its message (see _write_new): every column but the ids of
# the events and the message.
_COLUMNS = {
    "ticket": tuple(column.name for column in TICKETS.columns),
    "event": tuple(column.name for column in EVENTS.columns if column.name != "id"),
    "message": tuple(column.name for column in MESSAGES.columns if column.name != "id"),
}
_TABLES = {"ticket": TICKETS, "event": EVENTS, "message": MESSAGES}
_NEW_ROWS: dict[tuple[str, int], list[Any]] = {}


def _insert_sql(dialect: Dialect, what: str, rows: int) -> tuple[str, list[Any]]:
    """`INSERT INTO table (columns) VALUES (…), …` for `rows` rows of `what` with typed parameters
    named `what_row_column`."""
    table, names, quote = _TABLES[what], _COLUMNS[what], dialect.identifier_preparer.quote
    values = ", ".join("(" + ", ".join(f":{what}_{row}_{name}" for name in names) + ")" for row in range(rows))
    parameters = [bindparam(f"{what}_{row}_{name}", type_=table.c[name].type) for row in range(rows) for name in names]
    return f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) VALUES {values}", parameters


def _new_rows(dialect: Dialect, events: int) -> list[Any]:
    """The statements that write a new ticket, its `events` first events and its message, built once.

    Text, not `insert()`: SQLAlchemy compiles a multi-row `insert().values([...])` anew on every
    call (it has no cache key), which cost 0.6 ms a submission; the parameters keep their columns'
    types. The events are one multi-row INSERT, so their ids keep their order. On PostgreSQL the
    events' INSERT is a data-modifying WITH clause of the message's: one round trip for both. The
    ticket's stays a statement of its own: with it, the statement would have more parameters than
    psycopg caches the parsing of (50), which cost more than the round trip saved. SQLite has no
    data-modifying WITH: three statements."""
    key = (dialect.name, events)
    if key not in _NEW_ROWS:
        (ticket, ticket_parameters), (event, event_parameters), (message, message_parameters) = (
            _insert_sql(dialect, "ticket", 1), _insert_sql(dialect, "event", events), _insert_sql(dialect, "message", 1))
        if dialect.name == "postgresql":
            _NEW_ROWS[key] = [textual(ticket).bindparams(*ticket_parameters),
                              textual(f"WITH new_events AS ({event}) {message}").bindparams(*event_parameters,
                                                                                             *message_parameters)]
        else:
            _NEW_ROWS[key] = [textual(sql).bindparams(*parameters) for sql, parameters in
                              ((ticket, ticket_parameters), (event, event_parameters), (message, message_parameters))]
    return _NEW_ROWS[key]


_EXISTING = select(TICKETS.c.id).where(TICKETS.c.channel == bindparam("channel"),
                                       TICKETS.c.external_message_id == bindparam("external_message_id"))
_CITIZEN_WHERE = (CITIZENS.c.channel == bindparam("citizen_channel"), CITIZENS.c.external_id == bindparam("external_id"))
_ARRIVAL = select(_EXISTING.scalar_subquery(), select(CITIZENS.c.id).where(*_CITIZEN_WHERE).scalar_subquery(),
                  select(CITIZENS.c.phone).where(*_CITIZEN_WHERE).scalar_subquery())


@dataclass(frozen=True)
class CitizenRef:
    channel: str
    external_id: str
    name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Submission:
    """What the citizen sent, plus what they confirmed or corrected in the conversation."""

    channel: str
    external_message_id: str
    citizen: CitizenRef
    text: str
    ticket_type: str | None = None  # the citizen's correction of the classifier
    department: str | None = None
    phone: str | None = None
    location: str | None = None
    attachments: Sequence[tuple[str, str]] = ()  # (kind, ref)
    to_dispatcher: bool = False  # the citizen did not know the department: a dispatcher routes it
    # Stays `new`, unrouted and unannounced: it is settled at first contact in the same unit of work
    # (a direct answer from the knowledge base, an emergency transfer); the department predicted or
    # chosen is kept for the statistics of direct answers.
    hold: bool = False
    # The knowledge-base entry the bot offered and the citizen found no answer in (没解决): the
    # department sees it on the ticket.
    kb_offered: int | None = None
    confidential: bool = False  # 保密: name and phone hidden from the department


def citizen_row(session: Session, ref: CitizenRef, now: datetime,
                known: tuple[int, str | None] | None = None) -> tuple[int, str | None]:
    """The citizen's id and phone, created on first contact (a phone given and different from the
    one on record replaces it). Plain statements, no ORM object: every message, submission and call
    asks. The insert ignores a concurrent first contact's row and reads it instead. They run on the
    session's connection: no ORM object is involved (citizens are never ORM-created), and the
    session's own execute() cost half as much again as the statement (its autoflush check and ORM
    execution hooks). `known`: the id and phone already read in this transaction (`arrival`)."""
    params = {"channel": ref.channel, "external_id": ref.external_id}
    connection = session.connection()
    row = known or connection.execute(_CITIZEN, params).first()
    if row is None:
        created = connection.execute(_NEW_CITIZEN[connection.dialect.name == "postgresql"],
                                     {**params, "name": ref.name, "phone": ref.phone, "created_at": now}).first()
        found, phone = created or connection.execute(_CITIZEN, params).one()
        return int(found), phone
    found, phone = row
    if ref.phone and phone != ref.phone:
        connection.execute(update(CITIZENS).where(CITIZENS.c.id == found).values(phone=ref.phone))
        return int(found), ref.phone
    return int(found), phone


def citizen_id(session: Session, ref: CitizenRef, now: datetime) -> int:
    return citizen_row(session, ref, now)[0]


def arrival(session: Session, submission: Submission) -> tuple[Ticket | None, tuple[int, str | None] | None]:
    """The ticket this message was already filed as, if any, and the id and phone of its citizen if
    the hotline knows them: one statement (two index probes) where `find_existing` and `citizen_row`
    took a round trip each, for every submission."""
    existing, citizen, phone = session.connection().execute(_ARRIVAL, {
        "channel": submission.channel, "external_message_id": submission.external_message_id,
        "citizen_channel": submission.citizen.channel, "external_id": submission.citizen.external_id}).one()
    return (session.get(Ticket, existing) if existing is not None else None,
            (int(citizen), phone) if citizen is not None else None)


def find_existing(session: Session, channel: str, external_message_id: str) -> Ticket | None:
    # The id first: a new message (nearly every call) then costs one index probe, no ORM query (on
    # the session's connection: tickets are written with plain statements, never left pending).
    found = session.connection().execute(_EXISTING, {"channel": channel, "external_message_id": external_message_id}).scalar()
    return session.get(Ticket, found) if found is not None else None


def _entity(prediction: Prediction, label: str) -> str | None:
    for entity in prediction.entities:
        if entity.get("label") == label:
            return str(entity.get("text"))
    return None


def _nlu_record(prediction: Prediction) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": prediction.type,
        "type_confidence": prediction.type_confidence,
        "department": prediction.department,
        "department_confidence": prediction.department_confidence,
        "needs_review": prediction.needs_review,
    }
    for extra in ("type_scores", "department_scores", "backend"):
        if hasattr(prediction, extra):
            record[extra] = getattr(prediction, extra)
    return record


def _write_new(session: Session, ticket: Ticket, events: list[TicketEvent], message: dict[str, Any]) -> None:
    """Write the new ticket, in the state its intake transitions left it, the events they recorded
    and the citizen's message with plain INSERTs (_new_rows). The unit of work's flush of the same
    rows cost a third of a submission's CPU (and before the id was taken first, a second flush to
    UPDATE the ticket just inserted). The objects leave the session's pending set; the ticket comes
    back into it as a persistent object, as a flush would have left it, so that the rest of the unit
    of work may still change it (a direct answer closes it, the demo moves it on). The events are
    not read again: they stay unattached."""
    for pending in (ticket, *events):
        if pending in session:
            session.expunge(pending)
    values = {f"ticket_0_{name}": getattr(ticket, name) for name in _COLUMNS["ticket"]}
    for row, event in enumerate(events):
        values.update({f"event_{row}_{name}": getattr(event, name) for name in _COLUMNS["event"]})
    values.update({f"message_0_{name}": value for name, value in message.items()})
    connection = session.connection()
    for statement in _new_rows(connection.dialect, len(events)):
        connection.execute(statement, values)
    make_transient_to_detached(ticket)
    session.add(ticket)


def create_ticket(
    session: Session,
    submission: Submission,
    classifier: Classifier,
    policy: Policy,
    now: datetime,
    known_departments: set[str],
    max_chars: int = MAX_TEXT_CHARS,
    citizen_known: tuple[int, str | None] | None = None,
) -> Ticket:
    """Insert the ticket in the caller's transaction. Duplicates raise IntegrityError at flush.
    `citizen_known`: the citizen's id and phone as `arrival` read them."""
    now = ensure_aware(now)
    text = normalise(submission.text, max_chars)
    if submission.ticket_type is not None and submission.ticket_type not in TicketType.__members__:
        raise InvalidInput(f"unknown ticket type {submission.ticket_type!r}; expected one of {', '.join(TicketType)}")
    if submission.department is not None and submission.department not in known_departments:
        raise InvalidInput(f"unknown department code {submission.department!r}")
    prediction = classifier.classify(text)
    citizen = citizen_row(session, submission.citizen, now, citizen_known)[0]
    ticket_type = submission.ticket_type or prediction.type
    department = None if submission.to_dispatcher else (submission.department or prediction.department)
    if department not in known_departments:
        department = None
    # A citizen's explicit choice of department settles the routing; otherwise trust the model
    # only when it is sure.
    # An urgent ticket goes to the dispatchers' emergency queue, never straight to a department.
    routed = (department is not None and not prediction.urgent
              and (submission.department is not None or not prediction.needs_review))
    ticket_id, number = next_ticket(session, policy.calendar.local_day(now))
    ticket = Ticket(
        id=ticket_id,
        number=number,
        channel=submission.channel,
        external_message_id=submission.external_message_id,
        citizen_id=citizen,
        type=ticket_type,
        department_code=department if routed or (submission.hold and department) else None,
        topic=prediction.topic,
        text=text,
        summary=summarise(text),
        entities=list(prediction.entities),
        nlu={**_nlu_record(prediction), **({"kb_offered": submission.kb_offered} if submission.kb_offered else {})},
        type_confidence=prediction.type_confidence,
        department_confidence=prediction.department_confidence,
        needs_review=not routed,
        urgent=prediction.urgent,
        confidential=submission.confidential,
        contact_phone=submission.phone or _entity(prediction, "phone") or submission.citizen.phone,
        location=submission.location or _entity(prediction, "place"),
        state=State.new,
        created_at=now,
        updated_at=now,
    )
    events = [transitions.record_submission(session, ticket, citizen_actor(citizen), now)]
    if routed and not submission.hold:
        assert department is not None
        events.append(transitions.assign(session, ticket, department, SYSTEM, now, policy))
    # The message is append-only and never read back in this transaction: a row, not an ORM object.
    message = {"citizen_id": citizen, "ticket_id": ticket_id, "channel": submission.channel, "direction": "in",
               "kind": "text", "text": text, "at": now}
    _write_new(session, ticket, events, message)  # a duplicate (channel, external_message_id) raises IntegrityError here
    # The citizen's own choices on the confirmation card, where they differ from the model's.
    record_correction(session, ticket, "type", prediction.type, submission.ticket_type, citizen_actor(citizen), now)
    record_correction(session, ticket, "department", prediction.department, submission.department,
                      citizen_actor(citizen), now)
    for kind, ref in submission.attachments:
        session.add(Attachment(ticket_id=ticket_id, kind=kind, ref=ref, at=now))
    return ticket
