"""Human-readable ticket numbers: the city's local date and a serial, e.g. 20261123-0007."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import Connection, Engine, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from tickets.models import TicketCounter

# The table, not the mapped class: an ORM-enabled UPDATE … RETURNING goes through the ORM's bulk
# machinery, which costs several times the statement itself.
COUNTERS = TicketCounter.__table__  # type: ignore[attr-defined]
SEQUENCE_PREFIX = "ticket_serial_"

# The per-day sequences this process has seen exist, by database: one round trip a day to check.
_known: set[tuple[str, date]] = set()
_lock = threading.Lock()


def _take(connection: Connection | Session, day: date) -> int | None:
    result = connection.execute(
        update(COUNTERS).where(COUNTERS.c.day == day).values(last=COUNTERS.c.last + 1).returning(COUNTERS.c.last)
    )
    return result.scalar_one_or_none()  # type: ignore[no-any-return]


def sequence_name(day: date) -> str:
    return f"{SEQUENCE_PREFIX}{day:%Y%m%d}"


def next_number(session: Session, day: date) -> str:
    """The next serial of `day`.

    On PostgreSQL it comes from a sequence of the day's own (`ticket_serial_YYYYMMDD`): `nextval`
    takes no row lock and is never rolled back, so concurrent submissions from any number of
    workers never wait for each other, and it costs one statement inside the submission's own
    transaction. A submission that then rolls back leaves a gap in the day's serials (numbers
    identify tickets; statistics count rows). On SQLite, which has one writer anyway, the serial is
    taken from the `ticket_counter` row inside the caller's transaction and a rollback gives it back.
    """
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        ensure_sequence(bind, day)
        serial = session.execute(text(f"SELECT nextval('{sequence_name(day)}')")).scalar_one()
        return f"{day:%Y%m%d}-{serial:04d}"
    serial = _take(session, day)
    if serial is None:
        session.add(TicketCounter(day=day, last=1))
        session.flush()  # a concurrent first insert raises IntegrityError; intake retries
        serial = 1
    return f"{day:%Y%m%d}-{serial:04d}"


def ensure_sequence(engine: Engine, day: date) -> None:
    """Create the day's sequence once, in a transaction of its own (so that a rolled-back submission
    cannot take it away). It starts after the day's `ticket_counter` row, which holds the serials
    given before sequences were used (an upgrade in the middle of a day)."""
    key = (engine.url.render_as_string(hide_password=True), day)
    if key in _known:
        return
    with _lock:
        if key in _known:
            return
        name = sequence_name(day)
        for attempt in range(3):
            try:
                with engine.begin() as connection:
                    exists = connection.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
                    if exists is None:
                        last = connection.execute(COUNTERS.select().with_only_columns(COUNTERS.c.last)
                                                  .where(COUNTERS.c.day == day)).scalar()
                        connection.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {(last or 0) + 1}"))
                break
            except DBAPIError:  # two processes creating it at once: one wins, the other finds it next time
                if attempt == 2:
                    raise
        _known.add(key)


def forget_sequences() -> None:
    """Forget which sequences exist (tests drop them with the rest of a database's contents)."""
    with _lock:
        _known.clear()
