"""Human-readable ticket numbers: the city's local date and a serial, e.g. 20261123-0007."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Engine, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session

from tickets.models import TicketCounter

# The table, not the mapped class: an ORM-enabled UPDATE … RETURNING goes through the ORM's bulk
# machinery, which costs several times the statement itself.
COUNTERS = TicketCounter.__table__  # type: ignore[attr-defined]


def _take(connection: Connection | Session, day: date) -> int | None:
    result = connection.execute(
        update(COUNTERS).where(COUNTERS.c.day == day).values(last=COUNTERS.c.last + 1).returning(COUNTERS.c.last)
    )
    return result.scalar_one_or_none()  # type: ignore[no-any-return]


def next_number(session: Session, day: date) -> str:
    """The next serial of `day`.

    On PostgreSQL it is taken in a short transaction of its own: the counter row's lock lasts one
    statement, not the whole submission, so concurrent submissions (several workers) do not queue
    behind each other's inserts and commits. A submission that then rolls back leaves a gap in the
    day's serials (numbers identify tickets; statistics count rows). On SQLite, which has one writer
    anyway, the serial is taken inside the caller's transaction and a rollback gives it back.
    """
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        with bind.begin() as connection:
            serial = _take(connection, day)
            if serial is None:  # the day's first ticket: create the row (once, whoever is first), then take
                connection.execute(pg_insert(COUNTERS).values(day=day, last=0).on_conflict_do_nothing(index_elements=["day"]))
                serial = _take(connection, day)
        assert serial is not None
        return f"{day:%Y%m%d}-{serial:04d}"
    serial = _take(session, day)
    if serial is None:
        session.add(TicketCounter(day=day, last=1))
        session.flush()  # a concurrent first insert raises IntegrityError; intake retries
        serial = 1
    return f"{day:%Y%m%d}-{serial:04d}"
