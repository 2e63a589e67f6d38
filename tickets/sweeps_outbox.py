"""Recording many notices at once, and the keys that make every sweep notify exactly once.

A sweep's notice for one event (ticket, kind, round, level) goes to one or more recipients. The
first recipient's notice has the base key `kind:ticket:round[:level]`, every further recipient's
`base/recipient`; all are recorded in one transaction. The sweeps pick only tickets without a
notice under the base key (a lookup in the key's unique index), and the unique key makes the
insert a no-op when another run got there first.

The round identifies one run of a clock: the accept clock restarts when a returned ticket is
re-routed (`returned_count`), the answer clock also on a reopen (`reopened_count`) and moves on a
granted extension (`.x`), so a new clock gets new reminders and an old one never repeats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, case, cast, exists
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from tickets.models import Notice, Ticket
from tickets.outbox import Buttons


def _text(column: Any) -> ColumnElement[str]:
    return cast(column, String)


def accept_round(returned_count: int) -> str:
    return str(returned_count)


def answer_round(returned_count: int, reopened_count: int, extension_state: str | None) -> str:
    return f"{returned_count}.{reopened_count}" + (".x" if extension_state == "granted" else "")


ACCEPT_ROUND_SQL: ColumnElement[str] = _text(col(Ticket.returned_count))
ANSWER_ROUND_SQL: ColumnElement[str] = (
    _text(col(Ticket.returned_count)) + "." + _text(col(Ticket.reopened_count))
    + case((col(Ticket.extension_state) == "granted", ".x"), else_="")
)
CALLBACK_ROUND_SQL: ColumnElement[str] = _text(col(Ticket.reopened_count))


def base_key(kind: str, ticket_id: int, round_: str, level: int | None = None) -> str:
    return f"{kind}:{ticket_id}:{round_}" + (f":{level}" if level is not None else "")


def base_key_sql(kind: str, round_sql: ColumnElement[str], level: int | None = None) -> ColumnElement[str]:
    key = kind + ":" + _text(col(Ticket.id)) + ":" + round_sql
    return key + f":{level}" if level is not None else key


def not_yet_recorded(kind: str, round_sql: ColumnElement[str], level: int | None = None) -> ColumnElement[bool]:
    """SQL: the event's first notice (key = the base key) does not exist yet: one lookup in the
    notice key's unique index per candidate ticket."""
    return ~exists().where(col(Notice.key) == base_key_sql(kind, round_sql, level))


_FIELDS = ("key", "kind", "ticket_id", "recipient_kind", "recipient", "text", "buttons", "attachments")


@dataclass
class Batch:
    """Notices to record together; `record` inserts those whose key is new and counts them. A row is
    a list in _FIELDS' order, buttons and attachments as the JSON text their columns store (what
    SQLAlchemy's JSON type writes, json.dumps with its defaults): the catch-up sweep builds
    hundreds of thousands, and dicts cost it more than their texts."""

    now: datetime
    rows: list[list[Any]] = field(default_factory=list)
    _bases: set[str] = field(default_factory=set)

    def add(
        self,
        base: str,
        kind: str,
        recipient_kind: str,
        recipient: str | None,
        text: str,
        ticket_id: int | None = None,
        buttons: Buttons | None = None,
        attachments: list[str] | None = None,
    ) -> None:
        if base in self._bases:
            key = f"{base}/{recipient_kind}" if recipient is None else f"{base}/{recipient_kind}:{recipient}"
        else:
            key = base
            self._bases.add(base)
        self.rows.append([key, kind, ticket_id, recipient_kind, recipient, text,
                          json.dumps(buttons) if buttons else "[]", json.dumps(attachments) if attachments else "[]"])

    def record(self, session: Session) -> int:
        if not self.rows:
            return 0
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            created = self._record_postgres(session)
        else:
            created = self._record_sqlite(session)
        self.rows, self._bases = [], set()
        return created

    def _record_sqlite(self, session: Session) -> int:
        # Core (not ORM) insert: multi-row INSERT … ON CONFLICT DO NOTHING RETURNING, batched.
        rows = [{**dict(zip(_FIELDS, row, strict=True)), "now": self.now} for row in self.rows]
        return len(session.connection().execute(_SQLITE_INSERT, rows).all())

    def _record_postgres(self, session: Session) -> int:
        """One statement and one parameter for the whole batch: the rows as a JSON array, expanded
        on the server in the batch's order (so concurrent sweeps take the key locks in the same
        order). SQLAlchemy's multi-row VALUES made a statement of 11 placeholders a row that
        psycopg parsed anew for every batch, and arrays as parameters are dumped element by element
        in Python: either took longer than the database's work in the catch-up sweep. jsonb, not
        json: `->>` on a json value parses its text again for every field (eight a row), on jsonb
        it reads the binary form parsed once; the batch inserts in half the time."""
        result = session.connection().exec_driver_sql(
            _INSERT_FROM_JSON, {"rows": json.dumps(self.rows, ensure_ascii=False), "now": self.now})
        return len(result.all())


_TABLE: Any = Notice.__table__  # type: ignore[attr-defined]
# buttons and attachments are bound as the JSON text the row holds already (the columns' JSON type
# would encode it a second time).
_SQLITE_INSERT = sqlite_insert(_TABLE).values(
    {**{name: bindparam(name) for name in _FIELDS}, "buttons": bindparam("buttons", type_=String()),
     "attachments": bindparam("attachments", type_=String()),
     "created_at": bindparam("now", type_=_TABLE.c.created_at.type),
     "next_attempt_at": bindparam("now", type_=_TABLE.c.next_attempt_at.type), "attempts": 0}
).on_conflict_do_nothing(index_elements=["key"]).returning(_TABLE.c.id)

_INSERT_FROM_JSON = (
    "INSERT INTO notice (key, kind, ticket_id, recipient_kind, recipient, text, buttons, attachments, "
    "created_at, next_attempt_at, attempts) "
    "SELECT r->>0, r->>1, (r->>2)::integer, r->>3, r->>4, r->>5, (r->>6)::json, (r->>7)::json, %(now)s, %(now)s, 0 "
    "FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS u(r, ord) "
    "ORDER BY u.ord ON CONFLICT (key) DO NOTHING RETURNING id"
)
