"""Which process runs the scheduler (and Telegram long polling): the one holding the leader lock.

On PostgreSQL the lock is a session-level advisory lock held by a connection of its own, so it is
released the moment that connection ends: a killed process's socket closes at once; a machine
that vanishes is dropped by the server's TCP keepalives, which the lock connection sets to about
half a minute. Every process that is not the leader tries again every `retry_seconds`; the
leader checks its connection as often and steps down when it fails. Between the death of a
leader and its successor's first job there are at most keepalive time + `retry_seconds`.

Two leaders at once (a leader that has not yet noticed its connection died) do no harm beyond
duplicate work: every job records its notices under unique keys and delivery claims each notice
(tickets/delivery.py), which is what the lock is for: doing the work once, not correctness.

On SQLite there is one process (`hotline serve` refuses more workers), which leads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

LOCK_CLASS = 0x12345  # the first half of every advisory lock key the hotline takes
SCHEDULER_LOCK = 1  # second half: the scheduler's leadership
MIGRATION_LOCK = 2  # second half: `upgrade` (hotline/db.py), so one process migrates at a time
CHAT_LOCK_CLASS = 0x12346  # chat sessions (web/chat_locks.py): second half is the session's hash

KEEPALIVES: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
SERVER_KEEPALIVES = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5",
                     "SET tcp_keepalives_count = 3")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def leader_present(engine: Engine) -> bool:
    """Whether some process, anywhere, holds the scheduler's leader lock of this database."""
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = :c AND objid = :o AND objsubid = 2"
    )
    with engine.connect() as connection:
        return bool(connection.execute(query, {"c": LOCK_CLASS, "o": SCHEDULER_LOCK}).scalar())


class Leadership:
    """A thread that takes the leader lock when it can and calls `on_gain` / `on_lose`.

    The callbacks run on this thread; `on_gain` starts the scheduler (and polling), `on_lose`
    stops them. `stop()` steps down and joins."""

    def __init__(self, engine: Engine, on_gain: Callable[[], None], on_lose: Callable[[], None],
                 retry_seconds: float = 10) -> None:
        self.engine = engine
        self.on_gain = on_gain
        self.on_lose = on_lose
        self.retry_seconds = retry_seconds
        self.leading = False
        self._connection: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hotline-leadership", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        if not is_postgres(self.engine):
            self._gain()
            self._stop.wait()
            self._lose()
            return
        while not self._stop.is_set():
            try:
                if self.leading:
                    self._heartbeat()
                else:
                    self._try()
            except Exception as err:  # noqa: BLE001 - a lost database must not kill the thread
                log.warning("leadership: %s: %s", type(err).__name__, err)
                if self.leading:
                    self._lose()
                self._close()
            self._stop.wait(self.retry_seconds)
        if self.leading:
            self._lose()
        self._close()

    def _try(self) -> None:
        import psycopg  # noqa: PLC0415 - only PostgreSQL needs it

        if self._connection is None:
            self._connection = psycopg.connect(libpq_url(self.engine), autocommit=True,
                                               application_name="hotline-leader", **KEEPALIVES)
            for statement in SERVER_KEEPALIVES:  # so the server drops a vanished leader, releasing the lock
                self._connection.execute(statement)
        row = self._connection.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, SCHEDULER_LOCK)).fetchone()
        if row and row[0]:
            self._gain()

    def _heartbeat(self) -> None:
        self._connection.execute("SELECT 1").fetchone()

    def _gain(self) -> None:
        log.warning("leadership: this process (%s) leads: scheduler on", os.getpid())
        self.leading = True
        try:
            self.on_gain()
        except Exception:
            log.exception("leadership: starting the leader's work failed; stepping down")
            self._lose()  # whatever did start (the scheduler) stops before another process leads
            self._close()

    def _lose(self) -> None:
        self.leading = False
        log.warning("leadership: this process no longer leads: scheduler off")
        try:
            self.on_lose()
        except Exception:  # noqa: BLE001
            log.exception("leadership: stopping the leader's work failed")

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # it is gone either way
                self._connection.close()
            self._connection = None
