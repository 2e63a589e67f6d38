"""Delivering the outbox through a notifier port, with retries and backoff.

A notice is marked sent only after the notifier returned; one that fails stays pending with its
next attempt pushed back (1 min, 2, 4, … capped at an hour), so nothing is lost. A crash between
sending and marking can repeat one delivery; `deliver_pending` claims a notice by bumping its
next attempt first, so two workers never send the same notice at the same time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from tickets.models import Notice

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
CLAIM = timedelta(minutes=5)


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


def _claim(engine: Engine, notice: Notice, now: datetime) -> bool:
    """Take the notice for this worker: only one claimant sees its update succeed."""
    with Session(engine) as session:
        result = session.execute(
            update(Notice)
            .where(Notice.id == notice.id, Notice.sent_at == None)  # type: ignore[arg-type]  # noqa: E711
            .where(Notice.next_attempt_at == notice.next_attempt_at)  # type: ignore[arg-type]
            .values(next_attempt_at=now + CLAIM)
        )
        session.commit()
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _finish(engine: Engine, notice_id: int, now: datetime, error: str | None) -> None:
    with Session(engine) as session:
        notice = session.get(Notice, notice_id)
        assert notice is not None
        notice.attempts += 1
        if error is None:
            notice.sent_at = now
            notice.last_error = None
        else:
            notice.last_error = error[:500]
            notice.next_attempt_at = now + backoff(notice.attempts)
        session.add(notice)
        session.commit()


def deliver_pending(
    engine: Engine, notifier: Notifier, now: datetime, limit: int = 100, accept: Callable[[Notice], bool] | None = None
) -> tuple[int, int]:
    """Deliver what is due. Returns (sent, failed). `accept` picks the notices this notifier handles."""
    sent = failed = 0
    for notice in pending(engine, now, limit):
        if accept is not None and not accept(notice):
            continue
        if not _claim(engine, notice, now):
            continue
        try:
            notifier.deliver(notice)
        except DeliveryError as err:
            log.warning("notice %s not delivered: %s", notice.key, err)
            _finish(engine, notice.id, now, str(err) or type(err).__name__)  # type: ignore[arg-type]
            failed += 1
            continue
        _finish(engine, notice.id, now, None)  # type: ignore[arg-type]
        sent += 1
    return sent, failed
