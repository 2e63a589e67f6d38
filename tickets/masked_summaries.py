"""Ticket summaries masked once, ahead of the notices that quote them to leaders.

Every 督办 goes to the leaders as well as to the department, and leaders read tickets masked
(tickets.views); masking a summary costs about a millisecond of CPU (jieba's part-of-speech pass
for names). A scheduler back from downtime owes hundreds of thousands of 督办 at once; masking
each then dominated the catch-up (docs/PROFILE.md). So the regular sweep masks the summaries of
tickets awaiting an answer as they arrive, a few hundred every few minutes, and stores them with
the masker's version; the 督办 uses a stored one when its version is current and masks on the fly
otherwise (a ticket filed since the last sweep, or after a change to the masker).

Only tickets awaiting an answer are masked ahead: they are the ones a 督办 can quote. The candidates
are read through the (state, answer_due) index, so a run costs a scan of the open tickets' index
entries and nothing for closed ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, or_, select, update
from sqlmodel import Session, col

from tickets.masking import MASKING_VERSION, mask_personal
from tickets.models import Ticket
from tickets.states import AWAITING_ANSWER_VALUES

BATCH = 500

_TABLE: Any = Ticket.__table__  # type: ignore[attr-defined]
# Guarded by the summary it was computed from: an erasure that rewrote the summary in between wins.
_STORE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("ticket_id"), _TABLE.c.summary == bindparam("source"))
    .values(summary_masked=bindparam("masked"), summary_masked_by=MASKING_VERSION)
)


def masked_summary(summary: str, stored: str | None, stored_by: int | None) -> str:
    """The summary as a leader may read it: the stored mask if the current masker made it."""
    return stored if stored is not None and stored_by == MASKING_VERSION else mask_personal(summary)


def unmasked(session: Session, limit: int) -> list[Any]:
    """Tickets awaiting an answer whose summary has no mask by the current masker, newest first."""
    query = (
        select(col(Ticket.id), col(Ticket.summary))
        .where(col(Ticket.state).in_(AWAITING_ANSWER_VALUES),
               or_(col(Ticket.summary_masked_by) == None, col(Ticket.summary_masked_by) != MASKING_VERSION))  # noqa: E711
        .order_by(col(Ticket.id).desc())
        .limit(limit)
    )
    return list(session.execute(query).all())


def store(session: Session, rows: Sequence[tuple[int, str, str]]) -> None:
    """(ticket id, summary it was computed from, masked summary): one executemany UPDATE."""
    session.connection().execute(_STORE, [{"ticket_id": i, "source": s, "masked": m} for i, s, m in rows])


def mask_summaries(engine: Engine, limit: int = 20_000) -> int:
    """Mask and store up to `limit` summaries of tickets awaiting an answer; returns how many. The
    rest (after an upgrade or a masker change, more than a run's share) follow on later runs, and
    the 督办 masks on the fly meanwhile."""
    with Session(engine) as session:
        rows = unmasked(session, limit)
    done = 0
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        with Session(engine) as session:
            store(session, [(row.id, row.summary, mask_personal(row.summary)) for row in chunk])
            session.commit()
        done += len(chunk)
    return done
