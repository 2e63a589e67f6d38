"""Rate limits shared by every worker: counters in the database, one row per key and window.

A limit held in a process's memory lets N workers accept N times the limit and forgets everything at
a restart, so each hit is one atomic upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING) that SQLite
and PostgreSQL both run without a read-then-write race. Windows are fixed (the minute, the hour):
a burst at a window's edge may reach twice the limit, which is enough to stop a flood.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, select


class RateCounter(SQLModel, table=True):
    __tablename__ = "rate_counter"
    key: str = Field(max_length=160, primary_key=True)  # "chat:addr:203.0.113.5", "login:user:wang", …
    window: int = Field(sa_column=Column(BigInteger, primary_key=True))  # the window's start, epoch seconds
    count: int = 0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends (0 when allowed)


class Limits:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def hit(self, key: str, limit: int, seconds: int, now: datetime) -> Verdict:
        """Count one event under `key`; allowed while the window's count stays within `limit`."""
        return self.hit_all([(key, limit, seconds)], now)[0]

    def hit_all(self, checks: Sequence[tuple[str, int, int]], now: datetime) -> list[Verdict]:
        """Count one event under each (key, limit, seconds) in one statement and one transaction (a
        chat message passes two limits; each on its own cost a connection and a commit)."""
        windows = {key[:160]: _window(now, seconds) for key, _, seconds in checks}
        params: dict[str, Any] = {}
        for i, (key, (start, _)) in enumerate(windows.items()):
            params[f"key_{i}"], params[f"window_{i}"] = key, start
        with self.engine.begin() as connection:
            counts = {key: int(count) for key, count in
                      connection.execute(_hit_statement(self.engine.dialect.name, len(windows)), params)}
        verdicts = []
        for key, limit, _ in checks:
            count, retry = counts[key[:160]], windows[key[:160]][1]
            verdicts.append(Verdict(count <= limit, count, 0 if count <= limit else retry))
        return verdicts

    def count(self, key: str, seconds: int, now: datetime) -> Verdict:
        """The window's count so far, without counting (a login checks before it verifies)."""
        start, retry = _window(now, seconds)
        with Session(self.engine) as session:
            found = session.exec(
                select(RateCounter.count).where(RateCounter.key == key[:160], RateCounter.window == start)
            ).first()
        return Verdict(True, int(found or 0), retry)

    def prune(self, now: datetime, older_than_seconds: int = 86_400) -> int:
        """Forget windows that ended long ago (the scheduler's daily clean-up)."""
        with Session(self.engine) as session:
            result = session.execute(
                delete(RateCounter).where(RateCounter.window < int(now.timestamp()) - older_than_seconds)  # type: ignore[arg-type]
            )
            session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]


@functools.cache
def _hit_statement(dialect: str, count: int) -> Any:
    """Built once per dialect and number of keys: an atomic upsert of `count` counters."""
    table = RateCounter.__table__  # type: ignore[attr-defined]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values([{"key": bindparam(f"key_{i}"), "window": bindparam(f"window_{i}"), "count": 1}
                                 for i in range(count)])
    return stmt.on_conflict_do_update(index_elements=["key", "window"], set_={"count": table.c["count"] + 1}).returning(
        table.c.key, table.c["count"])


def _window(now: datetime, seconds: int) -> tuple[int, int]:
    moment = now.timestamp()
    start = int(moment // seconds * seconds)
    return start, max(1, math.ceil(start + seconds - moment))


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the nearest address in
    X-Forwarded-For that is not one of the trusted proxies (anything further left the client wrote)."""
    networks = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    address = peer or "unknown"
    if not forwarded_for or not is_trusted(address):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address  # a malformed hop: do not believe the rest
        address = hop
    return address
