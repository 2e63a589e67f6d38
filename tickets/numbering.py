"""Human-readable ticket numbers: the city's local date and a serial, e.g. 20261123-0007."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from tickets.models import Ticket, TicketCounter

# The table, not the mapped class: an ORM-enabled UPDATE … RETURNING goes through the ORM's bulk
# machinery, which costs several times the statement itself.
COUNTERS = TicketCounter.__table__  # type: ignore[attr-defined]
TICKETS = Ticket.__table__  # type: ignore[attr-defined]
SEQUENCE_PREFIX = "ticket_serial_"

# The per-day sequences this process has seen exist, by database: one round trip a day to check.
_known: set[tuple[str, date]] = set()
# The sequence of each database's ticket ids (SERIAL's own, `ticket_id_seq`), looked up with them.
_id_sequences: dict[str, str] = {}
_lock = threading.Lock()


def _take(connection: Connection | Session, day: date) -> int | None:
    result = connection.execute(
        update(COUNTERS).where(COUNTERS.c.day == day).values(last=COUNTERS.c.last + 1).returning(COUNTERS.c.last)
    )
    return result.scalar_one_or_none()  # type: ignore[no-any-return]


# SQLite's next rowid for a table without AUTOINCREMENT (the primary key's index answers it).
_NEXT_ID = select(func.coalesce(func.max(TICKETS.c.id), 0) + 1)


def sequence_name(day: date) -> str:
    return f"{SEQUENCE_PREFIX}{day:%Y%m%d}"


def next_ticket(session: Session, day: date) -> tuple[int, str]:
    """A new ticket's id and number (the next serial of `day`), taken before its row is written:
    intake then applies the submission's transitions to the pending ticket and writes it once, in
    its final state, in the same flush as its events (an INSERT, then an UPDATE once assigned, cost
    a second flush and statement every submission).

    On PostgreSQL both come from sequences in one statement: the day's own (`ticket_serial_YYYYMMDD`)
    and the id column's. `nextval` takes no row lock and is never rolled back, so concurrent
    submissions from any number of workers never wait for each other; a submission that then rolls
    back leaves a gap in the day's serials and ids (numbers identify tickets; statistics count
    rows). On SQLite, which has one writer anyway, the serial is taken from the `ticket_counter` row
    inside the caller's transaction (a rollback gives it back) and the id is the one SQLite would
    give the row itself, one above the largest: the transaction holds the write lock from its
    BEGIN IMMEDIATE (hotline/db.py), and a writer without it collides on the key, which intake retries.
    """
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        ids = ensure_sequence(bind, day)
        serial, ticket_id = session.connection().execute(
            text(f"SELECT nextval('{sequence_name(day)}'), nextval('{ids}')")).one()
        return int(ticket_id), f"{day:%Y%m%d}-{serial:04d}"
    serial = _take(session, day)
    if serial is None:
        session.add(TicketCounter(day=day, last=1))
        session.flush()  # a concurrent first insert raises IntegrityError; intake retries
        serial = 1
    ticket_id = session.connection().execute(_NEXT_ID).scalar_one()
    return int(ticket_id), f"{day:%Y%m%d}-{serial:04d}"


def ensure_sequence(engine: Engine, day: date) -> str:
    """Create the day's sequence once, in a transaction of its own (so that a rolled-back submission
    cannot take it away). It starts after the day's `ticket_counter` row, which holds the serials
    given before sequences were used (an upgrade in the middle of a day). Returns the name of the
    ticket id column's sequence, looked up in the same transaction."""
    database = engine.url.render_as_string(hide_password=True)
    key = (database, day)
    if key in _known:
        return _id_sequences[database]
    with _lock:
        if key in _known:
            return _id_sequences[database]
        name = sequence_name(day)
        for attempt in range(3):
            try:
                with engine.begin() as connection:
                    exists = connection.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
                    if exists is None:
                        last = connection.execute(COUNTERS.select().with_only_columns(COUNTERS.c.last)
                                                  .where(COUNTERS.c.day == day)).scalar()
                        connection.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {(last or 0) + 1}"))
                    _id_sequences[database] = connection.execute(
                        text("SELECT pg_get_serial_sequence('ticket', 'id')")).scalar_one()
                break
            except DBAPIError:  # two processes creating it at once: one wins, the other finds it next time
                if attempt == 2:
                    raise
        _known.add(key)
        return _id_sequences[database]


def forget_sequences() -> None:
    """Forget which sequences exist (tests drop them with the rest of a database's contents)."""
    with _lock:
        _known.clear()
        _id_sequences.clear()
