"""Delivering the outbox through a notifier port, with retries and backoff.

A notice is marked sent only after the notifier returned; one that fails stays pending with its
next attempt pushed back (1 min, 2, 4, … capped at an hour), so nothing is lost. A crash between
sending and marking can repeat one delivery (the one in flight: Telegram offers no exactly-once).

Claiming: a worker takes a small batch of due notices in one transaction, `SELECT … FOR UPDATE
SKIP LOCKED` on PostgreSQL (rows another worker is claiming are passed over, not waited for;
SQLite's BEGIN IMMEDIATE serialises the same transaction), and pushes their next attempt `CLAIM`
ahead, so no other worker sees them as due while it sends. A worker killed mid-batch leaves its
unsent claims to be picked up once the claim expires; a worker still sending when half the claim
has passed (a slow Telegram) gives the rest of its batch back rather than risk overlapping.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from tickets.models import Notice

log = logging.getLogger(__name__)
NOTICES = Notice.__table__  # type: ignore[attr-defined]

MAX_BACKOFF = timedelta(hours=1)
CLAIM = timedelta(minutes=1)


class DeliveryError(Exception):
    """The notice could not be delivered now; try again later."""


class Notifier(Protocol):
    def deliver(self, notice: Notice) -> None:
        """Send the notice to its recipients or raise DeliveryError."""


def backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(minutes=2 ** max(0, attempts - 1)))


def pending(engine: Engine, now: datetime, limit: int = 100) -> list[Notice]:
    with Session(engine) as session:
        query = (
            select(Notice)
            .where(Notice.sent_at == None, Notice.next_attempt_at <= now)  # noqa: E711
            .order_by(Notice.id)  # type: ignore[arg-type]
            .limit(limit)
        )
        return list(session.exec(query).all())


def claim(engine: Engine, now: datetime, limit: int, hold: timedelta = CLAIM) -> list[Notice]:
    """Take up to `limit` due notices for this worker; no other worker gets them while it sends."""
    with Session(engine, expire_on_commit=False) as session:
        query = (
            select(Notice)
            .where(Notice.sent_at == None, Notice.next_attempt_at <= now)  # noqa: E711
            .order_by(Notice.id)  # type: ignore[arg-type]
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        notices = list(session.exec(query).all())
        if notices:
            session.execute(
                update(Notice).where(Notice.id.in_([n.id for n in notices]))  # type: ignore[union-attr]
                .values(next_attempt_at=now + hold)
            )
        session.commit()
        return notices


BATCH = 50  # claimed at once: small, so a killed worker delays few notices by the claim


def _batches(engine: Engine, now: datetime, limit: int, hold: timedelta) -> Iterator[list[Notice]]:
    taken = 0
    while taken < limit:
        batch = claim(engine, now, min(BATCH, limit - taken), hold)
        if not batch:
            return
        taken += len(batch)
        yield batch


def _claim_ids(engine: Engine, ids: list[int], now: datetime, hold: timedelta) -> list[Notice]:
    """Claim these notices if still due (the ones another worker took meanwhile are skipped)."""
    with Session(engine, expire_on_commit=False) as session:
        query = (
            select(Notice)
            .where(Notice.id.in_(ids), Notice.sent_at == None, Notice.next_attempt_at <= now)  # type: ignore[union-attr]  # noqa: E711
            .order_by(Notice.id)  # type: ignore[arg-type]
            .with_for_update(skip_locked=True)
        )
        notices = list(session.exec(query).all())
        if notices:
            session.execute(update(Notice).where(Notice.id.in_([n.id for n in notices]))  # type: ignore[union-attr]
                            .values(next_attempt_at=now + hold))
        session.commit()
        return notices


def _finish(engine: Engine, notice: Notice, now: datetime, error: str | None) -> None:
    """Record the attempt: one UPDATE computed from the claimed row (no other worker touches a notice
    while it is claimed), where reading it back first cost a second statement per notice."""
    attempts = notice.attempts + 1
    values: dict[str, Any] = {"attempts": attempts}
    if error is None:
        values.update(sent_at=now, last_error=None)
    else:
        values.update(last_error=error[:500], next_attempt_at=now + backoff(attempts))
    with engine.begin() as connection:
        connection.execute(update(NOTICES).where(NOTICES.c.id == notice.id).values(**values))
    notice.attempts = attempts


def _give_back(engine: Engine, notices: list[Notice], now: datetime) -> None:
    with Session(engine) as session:
        session.execute(update(Notice).where(Notice.id.in_([n.id for n in notices]))  # type: ignore[union-attr]
                        .where(Notice.sent_at == None).values(next_attempt_at=now))  # type: ignore[arg-type]  # noqa: E711
        session.commit()


def deliver_pending(
    engine: Engine, notifier: Notifier, now: datetime, limit: int = 100, accept: Callable[[Notice], bool] | None = None,
    hold: timedelta = CLAIM,
) -> tuple[int, int]:
    """Deliver what is due. Returns (sent, failed). `accept` picks the notices this notifier handles;
    `hold` is how long a claim keeps other workers off (and delays a killed worker's batch)."""
    sent = failed = 0
    if accept is not None:  # the notices of another notifier must not be claimed (and delayed) by this one
        due = [n.id for n in pending(engine, now, limit) if accept(n)]
        batches: Iterable[list[Notice]] = [_claim_ids(engine, due, now, hold)] if due else []  # type: ignore[arg-type]
    else:
        batches = _batches(engine, now, limit, hold)
    for batch in batches:
        claimed = time.monotonic()
        for index, notice in enumerate(batch):
            if time.monotonic() - claimed > hold.total_seconds() / 2:
                _give_back(engine, batch[index:], now)
                return sent, failed
            if _send(engine, notifier, notice, now):
                sent += 1
            else:
                failed += 1
    return sent, failed


def _send(engine: Engine, notifier: Notifier, notice: Notice, now: datetime) -> bool:
    try:
        notifier.deliver(notice)
    except DeliveryError as err:
        log.warning("notice %s not delivered: %s", notice.key, err)
        _finish(engine, notice, now, str(err) or type(err).__name__)
        return False
    _finish(engine, notice, now, None)
    return True
