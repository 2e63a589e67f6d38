"""One conversation's updates handled one at a time, across every worker process: a web chat
session's requests (web/chat.py), a Telegram user's webhook updates (bot/telegram_adapter.py).

Each process first serialises a session's requests among its own coroutines (an asyncio lock,
striped), so it holds at most one database lock per session. On PostgreSQL it then takes a
session-level advisory lock keyed by the session, on a connection of a small pool of its own
(not the request's sessions, which come and go while the lock is held): a page whose message and
poll land on two workers, or a user whose two messages Telegram posts to two workers at once,
still has them one after the other. On SQLite there is one process, and the
asyncio lock is the whole story.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, text

from hotline.leader import CHAT_LOCK_CLASS

STRIPES = 64


def session_key(session: str) -> int:
    """A signed 32-bit key for the session (advisory locks take two int4 halves)."""
    return int.from_bytes(hashlib.sha256(session.encode()).digest()[:4], "big", signed=True)


class SessionLocks:
    def __init__(self, engine: Engine) -> None:
        self._stripes = [asyncio.Lock() for _ in range(STRIPES)]
        self._engine: Engine | None = None
        if engine.dialect.name == "postgresql":
            # The lock connections: at most one per session being handled in this process.
            # Sized for the sessions handled at once (one connection each for the request's length):
            # overflow connections are closed on return, a new backend for nearly every message.
            self._engine = create_engine(engine.url, pool_size=16, max_overflow=8, pool_timeout=60, pool_pre_ping=True,
                                         isolation_level="AUTOCOMMIT")

    def _take(self, key: int) -> Any:
        assert self._engine is not None
        connection = self._engine.connect()
        try:
            connection.execute(text("SELECT pg_advisory_lock(:c, :k)"), {"c": CHAT_LOCK_CLASS, "k": key})
        except BaseException:
            connection.close()
            raise
        return connection

    @staticmethod
    def _release(connection: Any, key: int) -> None:
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:c, :k)"), {"c": CHAT_LOCK_CLASS, "k": key})
        finally:
            connection.close()

    @asynccontextmanager
    async def stripe(self, session: str) -> AsyncIterator[None]:
        """This process's part only: the session's asyncio lock. The caller takes the database part
        with `acquire` and gives it back with `release` on a thread of its own choosing, folded into
        the database work it does there anyway (each thread hand-off costs CPU)."""
        async with self._stripes[session_key(session) % STRIPES]:
            yield

    def acquire(self, session: str) -> Any:
        """The database lock (blocking; inside `stripe`). None where there is none (SQLite)."""
        return None if self._engine is None else self._take(session_key(session))

    def release(self, held: Any, session: str) -> None:
        if held is not None:
            self._release(held, session_key(session))

    @asynccontextmanager
    async def hold(self, session: str) -> AsyncIterator[None]:
        key = session_key(session)
        async with self._stripes[key % STRIPES]:
            if self._engine is None:
                yield
                return
            connection = await asyncio.to_thread(self._take, key)
            try:
                yield
            finally:
                await asyncio.to_thread(self._release, connection, key)
