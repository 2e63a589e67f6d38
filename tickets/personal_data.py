"""The registry of tables that hold personal data, for the citizen's rights (个人信息保护法).

Every module that defines a table holding a citizen's personal data registers one holder, in one
line next to its table:

    personal_data.register("ticket_vector", export=export_vectors, erase=erase_vectors)

`export(session, scope)` returns that table's rows about the person as JSON-able dicts (`hotline
citizen export`); `erase(session, scope)` removes or anonymises them and returns how many rows it
changed. The same eraser serves a citizen's erasure (`scope.citizen` is set; every ticket of theirs
is in `scope.ticket_ids`) and the retention job (`scope.citizen` is None; only the expired tickets).
It must keep what the statistics count (tickets, their states, times and departments) and be safe
to run twice. Holders run in registration order; "citizen" (which renames the person) runs last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session


@dataclass
class Scope:
    """Whose data: a person (with all their tickets) or, for the retention job, some tickets."""

    now: datetime
    ticket_ids: list[int]
    citizen_id: int | None = None
    channel: str | None = None  # the person's channel and id there, as they were before erasure
    external_id: str | None = None
    files: list[str] = field(default_factory=list)  # files under HOTLINE_HOME to delete after the commit


Exporter = Callable[[Session, Scope], list[dict[str, Any]]]
Eraser = Callable[[Session, Scope], int]


@dataclass(frozen=True)
class Holder:
    name: str
    export: Exporter
    erase: Eraser
    last: bool = False


_holders: dict[str, Holder] = {}


def register(name: str, *, export: Exporter, erase: Eraser, last: bool = False) -> None:
    """Add (or replace: a module imported twice registers once) the holder of one table's personal data."""
    _holders[name] = Holder(name, export, erase, last)


def holders() -> list[Holder]:
    return sorted(_holders.values(), key=lambda holder: holder.last)
