"""Human-readable ticket numbers: the city's local date and a serial, e.g. 20261123-0007."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlmodel import Session

from tickets.models import TicketCounter

# The table, not the mapped class: an ORM-enabled UPDATE … RETURNING goes through the ORM's bulk
# machinery, which costs several times the statement itself.
COUNTERS = TicketCounter.__table__  # type: ignore[attr-defined]


def next_number(session: Session, day: date) -> str:
    """Take the next serial of `day` inside the caller's transaction.

    The UPDATE takes the counter row's lock, so concurrent submissions queue instead of
    colliding; a rolled-back submission gives its serial back.
    """
    result = session.execute(
        update(COUNTERS).where(COUNTERS.c.day == day).values(last=COUNTERS.c.last + 1).returning(COUNTERS.c.last)
    )
    serial = result.scalar_one_or_none()
    if serial is None:
        session.add(TicketCounter(day=day, last=1))
        session.flush()  # a concurrent first insert raises IntegrityError; intake retries
        serial = 1
    return f"{day:%Y%m%d}-{serial:04d}"
