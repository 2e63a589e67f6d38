"""The sweeps' notices written by PostgreSQL itself: one INSERT … SELECT per sweep (and 督办 level).

A scheduler back from downtime owes a notice to hundreds of thousands of tickets at once. Read
into Python, worded there and sent back, each notice cost more CPU in Python than in the database,
and the two took turns (docs/PROFILE.md). Here the database selects the tickets, words the texts
and records the notices under their unique keys in one statement, so nothing crosses the wire but
the count. It is the same work the Python path does, row for row:

- the wording comes from the same str.format templates (tickets/sweep_texts.py), compiled into SQL
  concatenations here, so it is written once;
- the recipients are a VALUES list built from the same directory (department heads, else the
  dispatchers with the same note, and for a 督办 the leaders), keyed as `Batch.add` keys them;
- the rows go in ticket order and then recipient order under ON CONFLICT (key) DO NOTHING, so two
  schedulers racing each other lock keys in the same order and record each notice once.

What a statement cannot word (a leaders' 督办 whose summary has no mask by the current masker: the
masker is Python) is left to the Python path, which runs after it over the same condition and finds
only what is still unrecorded. SQLite keeps the Python path: it cannot convert to the city's time
zone.
"""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from string import Formatter
from typing import Any

from sqlalchemy import (
    Boolean,
    Engine,
    Integer,
    String,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    union_all,
    values,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from tickets import notices
from tickets.models import Notice, Ticket
from tickets.sweep_texts import NO_HEAD, WHAT
from tickets.workcalendar import WorkCalendar

log = logging.getLogger(__name__)

_NOTICE: Any = Notice.__table__  # type: ignore[attr-defined]
_HEADLESS = "*no head*"  # the recipients' key of tickets whose department has no head (not a code: codes are identifiers)
_LAST = 1_000_000  # the leaders' place after every head
PARTS = 2  # statements run at once, each on its own connection


def available(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def render(template: str, **fields: Any) -> ColumnElement[str]:
    """SQL for `template.format(**fields)`, where a field is a str or an SQL expression (never NULL)."""
    parts: list[ColumnElement[str]] = []
    for text, name, spec, conversion in Formatter().parse(template):
        if text:
            parts.append(literal(text, String))
        if name is not None:
            if spec or conversion:
                raise ValueError(f"{template!r}: format a field in Python, not in the template ({name})")
            value = fields[name]
            parts.append(literal(value, String) if isinstance(value, str) else cast(value, String))
    return functools.reduce(operator.add, parts) if parts else literal("", String)


def local_minute(calendar: WorkCalendar, moment: Any) -> ColumnElement[str]:
    """notices.fmt_time in SQL: the moment in the city's time zone, to the minute; — for none."""
    return func.coalesce(func.to_char(func.timezone(calendar.tz.key, moment), "YYYY-MM-DD HH24:MI"), "—")


def department_name(names: Mapping[str, str]) -> ColumnElement[str]:
    """_Directory.name in SQL: the department's name, else its code, else 待分派."""
    code = col(Ticket.department_code)
    fallback = func.coalesce(func.nullif(code, ""), "待分派")
    return case(dict(names), value=code, else_=fallback) if names else fallback


def what(summary: Any) -> ColumnElement[str]:
    """sweep_texts.what in SQL: the ticket's number, type and, if any, "：" and the summary."""
    type_label = case({kind: label for kind, label in notices.TYPE_ZH.items()}, value=col(Ticket.type),
                      else_=col(Ticket.type))
    summary_part = case((func.coalesce(summary, "") != "", "：" + summary), else_="")
    return render(WHAT, number=col(Ticket.number), type=type_label, summary=summary_part)


def _recipients(heads: Mapping[str, Sequence[int]]) -> Any:
    """(key, place, kind, who, note): each department's heads, and the dispatchers with the note
    for a department without one."""
    rows: list[tuple[str, int, str, str | None, bool]] = []
    for code, ids in heads.items():
        rows += [(code, place, "staff", str(staff_id), False) for place, staff_id in enumerate(ids, 1)]
    rows.append((_HEADLESS, 1, "dispatchers", None, True))
    return values(column("key", String), column("place", Integer), column("kind", String), column("who", String),
                  column("note", Boolean), name="recipients").data(rows)


def record_to_heads(
    engine: Engine,
    now: datetime,
    kind: str,
    where: Sequence[ColumnElement[bool]],
    base: ColumnElement[str],
    heads: Mapping[str, Sequence[int]],
    text: ColumnElement[str],
    leaders_text: ColumnElement[str] | None = None,
) -> int:
    """Notices of `kind` for every ticket matching `where`: `text` to its department's head(s), or
    to the dispatchers with sweep_texts.NO_HEAD appended; `leaders_text`, if given, to the leaders too.
    Returns how many were recorded."""
    headed = [code for code, ids in heads.items() if ids]
    department = func.coalesce(col(Ticket.department_code), "")
    key = case((department.in_(headed), department), else_=_HEADLESS) if headed else literal(_HEADLESS, String)
    # each ticket's key and texts worded once, then joined to its recipients
    wanted = [col(Ticket.id).label("id"), base.label("base"), key.label("recipients"), text.label("text")]
    if leaders_text is not None:
        wanted.append(leaders_text.label("leaders_text"))
    recipients = _recipients(heads)

    def rows(part: ColumnElement[bool]) -> Any:
        candidates = select(*wanted).where(*where, part).cte("candidates")
        to_heads = select(
            case((recipients.c.place == 1, candidates.c.base),
                 else_=candidates.c.base + "/" + recipients.c.kind + func.coalesce(":" + recipients.c.who, "")),
            candidates.c.id, recipients.c.kind, recipients.c.who,
            case((recipients.c.note, candidates.c.text + NO_HEAD), else_=candidates.c.text), recipients.c.place,
        ).select_from(candidates.join(recipients, recipients.c.key == candidates.c.recipients))
        if leaders_text is None:
            return to_heads
        to_leaders = select(candidates.c.base + "/leaders", candidates.c.id, literal("leaders", String),
                            literal(None, String), candidates.c.leaders_text, literal(_LAST, Integer))
        return union_all(to_heads, to_leaders)

    return _insert(engine, now, kind, rows)


def record_to_department(
    engine: Engine, now: datetime, kind: str, where: Sequence[ColumnElement[bool]], base: ColumnElement[str],
    text: ColumnElement[str],
) -> int:
    """Notices of `kind` to the department of every ticket matching `where`; returns how many."""
    return _insert(engine, now, kind, lambda part: select(base, col(Ticket.id), literal("department", String),
                                                          col(Ticket.department_code), text, literal(1, Integer))
                   .where(*where, part))


def _insert(engine: Engine, now: datetime, kind: str, rows: Callable[[ColumnElement[bool]], Any]) -> int:
    """rows(part): (key, ticket id, recipient kind, recipient, text, place) of the tickets in `part`,
    recorded in ticket and place order, the order every run locks the keys in. The parts (tickets
    by id modulo PARTS) go in on connections of their own at once: one INSERT runs on one core, and
    most of a catch-up's time is the database's. Their keys differ, so they never wait on each
    other; each commits alone, and a part that fails is done by the next run."""
    statements = [_counted(now, kind, rows(col(Ticket.id) % PARTS == part)) for part in range(PARTS)]
    with ThreadPoolExecutor(PARTS, thread_name_prefix="sweep-part") as pool:
        futures = [pool.submit(_run, engine, statement) for statement in statements]
    errors = [error for future in futures if (error := future.exception()) is not None]
    for error in errors[1:]:
        log.error("a sweep part failed as well: %r", error)
    if errors:  # what the other parts recorded stays; the next run does the rest, each key once
        raise errors[0]
    return sum(future.result() for future in futures)


def _counted(now: datetime, kind: str, rows: Any) -> Any:
    moment = literal(now, _NOTICE.c.created_at.type)
    chosen = rows.subquery("chosen")
    key, ticket_id, recipient_kind, recipient, text, place = chosen.c
    inserted = (
        pg_insert(_NOTICE)
        .from_select(
            ["key", "kind", "ticket_id", "recipient_kind", "recipient", "text", "buttons", "attachments",
             "created_at", "next_attempt_at", "attempts"],
            select(key, literal(kind, String), ticket_id, recipient_kind, recipient, text,
                   literal_column("'[]'::json"), literal_column("'[]'::json"), moment, moment, literal(0, Integer))
            .order_by(ticket_id, place),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(_NOTICE.c.id)
        .cte("inserted")
    )
    return select(func.count()).select_from(inserted)


def _run(engine: Engine, statement: Any) -> int:
    with engine.begin() as connection:
        # the rows are sorted with their texts: a catch-up's level is tens of MB, which the default
        # 4 MB would sort on disk
        connection.execute(sql("SET LOCAL work_mem = '64MB'"))
        return int(connection.execute(statement).scalar_one())
