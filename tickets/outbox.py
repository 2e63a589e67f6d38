"""Recording notices in the outbox (transactional: in the same transaction as the change)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from tickets.models import Notice

Buttons = list[list[dict[str, str]]]
# The table, not the mapped class: an insert of the class goes through the ORM's bulk-insert
# machinery, which cost more than the rest of a ticket's intake together.
NOTICES = Notice.__table__  # type: ignore[attr-defined]
COLUMNS = ("key", "kind", "ticket_id", "recipient_kind", "recipient", "text", "buttons", "attachments", "created_at",
           "next_attempt_at", "attempts")


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    recipient_kind: str,
    recipient: str | None,
    text: str,
    now: datetime,
    ticket_id: int | None = None,
    buttons: Buttons | None = None,
    attachments: list[str] | None = None,
) -> bool:
    """Record a notice unless one with the same key exists. Returns True when it was new."""
    values: dict[str, Any] = {
        "key": key,
        "kind": kind,
        "ticket_id": ticket_id,
        "recipient_kind": recipient_kind,
        "recipient": recipient,
        "text": text,
        "buttons": buttons or [],
        "attachments": attachments or [],
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }
    # The ticket it names must be written first: flushed explicitly, then the statement runs on the
    # session's connection (the session's execute() cost half as much again as the statement).
    session.flush()
    connection = session.connection()
    result = connection.execute(_insert(connection.dialect.name), values)
    return bool(result.rowcount)  # type: ignore[attr-defined]


@functools.cache
def _insert(dialect: str) -> Any:
    """Built once: a notice recorded unless its key exists (building the statement on every call cost
    as much as running it)."""
    params = {column.name: bindparam(column.name, type_=column.type) for column in NOTICES.columns
              if column.name in COLUMNS}
    if dialect == "postgresql":
        return pg_insert(NOTICES).values(params).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        return sqlite_insert(NOTICES).values(params).on_conflict_do_nothing(index_elements=["key"])
    return insert(NOTICES).values(params)  # pragma: no cover - only SQLite and PostgreSQL are supported
