"""Conversation state and processed update ids, in the project's database (not pickle files).

A restart or a second worker therefore sees the same conversations, and an update that Telegram
delivers twice (or that two workers both receive) is processed once: whoever inserts its id first
handles it.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Engine, UniqueConstraint, bindparam, delete, insert, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Field, Session, SQLModel, select

from tickets import personal_data
from tickets.timeutil import UTCDateTime, utcnow


class BotState(SQLModel, table=True):
    """One JSON document per (channel, kind, key): a user's conversation, a chat's data, …"""

    __tablename__ = "bot_state"
    __table_args__ = (UniqueConstraint("channel", "kind", "key", name="uq_bot_state"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    kind: str = Field(max_length=20)  # user, chat, bot, callback, conversation:<name>
    key: str = Field(max_length=120)
    data: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ProcessedUpdate(SQLModel, table=True):
    """An update (Telegram update_id, web chat message id) that has been taken for processing."""

    __tablename__ = "bot_processed_update"
    channel: str = Field(max_length=20, primary_key=True)
    update_id: str = Field(max_length=120, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))


class BotStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, channel: str, kind: str, key: str) -> Any:
        with Session(self.engine) as session:
            query = select(BotState.data).where(BotState.channel == channel, BotState.kind == kind, BotState.key == key)
            return session.exec(query).first()

    def load_all(self, channel: str, kind: str) -> dict[str, Any]:
        with Session(self.engine) as session:
            rows = session.exec(select(BotState).where(BotState.channel == channel, BotState.kind == kind)).all()
            return {row.key: row.data for row in rows}

    def save(self, channel: str, kind: str, key: str, data: Any, now: datetime | None = None) -> None:
        self.save_together(channel, [(kind, key, data)], now)

    def save_together(self, channel: str, documents: list[tuple[str, str, Any]], now: datetime | None = None,
                      attempts: int = 1) -> None:
        """Write (kind, key, data) documents in one transaction: all or none. A dropped connection is
        retried up to `attempts` times (the writes are upserts of whole documents: repeating is safe)."""
        for attempt in range(attempts):
            try:
                self._upsert(channel, documents, now or utcnow())
                return
            except OperationalError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * 2**attempt)

    def _upsert(self, channel: str, documents: list[tuple[str, str, Any]], now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(_upsert_statement(self.engine.dialect.name, len(documents)), {
                name: value for i, (kind, key, data) in enumerate(documents)
                for name, value in ((f"kind_{i}", kind), (f"key_{i}", key), (f"data_{i}", data))
            } | {"channel": channel, "now": now})

    def drop(self, channel: str, kind: str, key: str) -> None:
        with Session(self.engine) as session:
            session.execute(
                delete(BotState).where(BotState.channel == channel, BotState.kind == kind, BotState.key == key)  # type: ignore[arg-type]
            )
            session.commit()

    def claim_update(self, channel: str, update_id: str, now: datetime | None = None) -> bool:
        """True for the first claim of this update id, False for every later one."""
        with Session(self.engine) as session:
            try:
                session.execute(insert(ProcessedUpdate).values(channel=channel, update_id=update_id, at=now or utcnow()))
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    def claim_and_load(self, channel: str, update_id: str, documents: list[tuple[str, str]],
                       now: datetime | None = None) -> tuple[bool, dict[tuple[str, str], Any]]:
        """`claim_update`, and the (kind, key) documents read, in one transaction: one connection and
        two statements where a chat message took three of each."""
        claim, read = _statements(self.engine.dialect.name)
        with self.engine.begin() as connection:
            claimed = connection.execute(claim, {"channel": channel, "update_id": update_id, "at": now or utcnow()}).first()
            rows = connection.execute(read, {"channel": channel, "documents": documents}).all()
        return claimed is not None, {(row.kind, row.key): row.data for row in rows}

    def prune_updates(self, before: datetime) -> int:
        """Forget update ids older than `before` (Telegram never redelivers after a day)."""
        with Session(self.engine) as session:
            result = session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < before))  # type: ignore[arg-type]
            session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]


# The statements a chat message runs, built once (building and keying a statement on every call was
# a tenth of the ORM's share of a web chat ticket).
@functools.cache
def _statements(dialect: str) -> tuple[Any, Any]:
    updates, table = ProcessedUpdate.__table__, BotState.__table__  # type: ignore[attr-defined]
    insert_of = pg_insert if dialect == "postgresql" else sqlite_insert
    claim = insert_of(updates).values(channel=bindparam("channel"), update_id=bindparam("update_id"),
                                      at=bindparam("at")).on_conflict_do_nothing().returning(updates.c.update_id)
    read = select(table.c.kind, table.c.key, table.c.data).where(
        table.c.channel == bindparam("channel"), tuple_(table.c.kind, table.c.key).in_(bindparam("documents", expanding=True)))
    return claim, read


@functools.cache
def _upsert_statement(dialect: str, count: int) -> Any:
    """Whole documents written in one statement, whatever exists already."""
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - only these are supported
        raise RuntimeError(f"unsupported database {dialect}")
    table = BotState.__table__  # type: ignore[attr-defined]
    insert_of = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert_of(table).values([
        {"channel": bindparam("channel"), "kind": bindparam(f"kind_{i}"), "key": bindparam(f"key_{i}"),
         "data": bindparam(f"data_{i}", type_=table.c.data.type), "updated_at": bindparam("now", type_=table.c.updated_at.type)}
        for i in range(count)
    ])
    return stmt.on_conflict_do_update(index_elements=["channel", "kind", "key"],
                                      set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at})


def _state_filter(scope: personal_data.Scope) -> Any:
    # A person's rows are keyed by their account on the channel: the Telegram user and private chat,
    # the web chat's session (its transcript and conversation).
    return (BotState.channel == scope.channel) & (BotState.key == scope.external_id)


def export_state(session: Session, scope: personal_data.Scope) -> list[dict[str, Any]]:
    if scope.external_id is None:
        return []
    rows = session.exec(select(BotState).where(_state_filter(scope)).order_by(BotState.id)).all()  # type: ignore[arg-type]
    return [{"channel": r.channel, "kind": r.kind, "key": r.key, "data": r.data,
             "updated_at": r.updated_at.isoformat()} for r in rows]


def erase_state(session: Session, scope: personal_data.Scope) -> int:
    if scope.external_id is None:
        return 0
    rows = session.exec(select(BotState).where(_state_filter(scope))).all()
    for found in rows:
        session.delete(found)
    return len(rows)


personal_data.register("chat", export=export_state, erase=erase_state)
