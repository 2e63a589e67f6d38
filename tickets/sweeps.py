"""The scheduler's sweeps over tickets: reminders, 督办 escalation, callback and auto-close.

Each sweep is a function of (engine, policy, now, settings). It selects, with one indexed range
query, only the tickets that crossed a threshold and have no notice for it yet, and records the
notices under unique keys (sweeps_outbox.py): running a sweep twice, also from two processes at
once, records each notice once. A scheduler that was down catches up on its next run with one
notice per ticket and kind: a ticket already past its deadline gets the escalation, not the
reminder, and a ticket several levels overdue gets only its current level. On PostgreSQL the
database words and records the notices of the unbounded sweeps itself (sweeps_sql.py) and the
Python path here records what is left.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, false, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from tickets import notices, sweeps_sql, transitions
from tickets.actors import SYSTEM
from tickets.masked_summaries import masked_summary
from tickets.masking import MASKING_VERSION
from tickets.models import Department, Staff, Ticket
from tickets.states import AWAITING_ANSWER_VALUES, Role, State, TicketType
from tickets.sweep_texts import (
    ACCEPT_OVERDUE,
    ACCEPT_REMINDER,
    ANSWER_REMINDER,
    NO_HEAD,
    OVERDUE,
    overdue_heading,
    overdue_late,
    what,
)
from tickets.sweeps_outbox import (
    ACCEPT_ROUND_SQL,
    ANSWER_ROUND_SQL,
    CALLBACK_ROUND_SQL,
    Batch,
    accept_round,
    answer_round,
    base_key,
    base_key_sql,
    not_yet_recorded,
)
from tickets.timelimits import Policy
from tickets.timeutil import ensure_aware
from tickets.workcalendar import WorkCalendar

log = logging.getLogger(__name__)

BATCH = 1000
SET_BASED = True  # PostgreSQL words and records the notices it can itself (sweeps_sql); False: all in Python
MAX_LEVEL = 1000  # a guard: 2 working days a level, this is years overdue


@dataclass(frozen=True)
class SweepSettings:
    """What config.yml's `scheduler` section says about the sweeps."""

    escalate_every_days: float = 2  # one more 督办 level for every further N working days overdue
    answer_reminder_days: float = 1  # remind this many working days before the answer deadline
    callback_after_hours: float = 24  # the 回访 asks the citizen to rate this long after the answer


def working_moment_before(calendar: WorkCalendar, end: datetime, days: float) -> datetime:
    """The latest moment t with `days` working days of working time between t and `end`."""
    remaining = timedelta(days=days)
    cursor = calendar.local(end)
    while True:
        day = cursor.date()
        if cursor == calendar.start_of(day):
            day -= timedelta(days=1)
        day_start = calendar.start_of(day)
        if calendar.is_workday(day):
            available = cursor - day_start
            if remaining <= available:
                return cursor - remaining
            remaining -= available
        cursor = day_start


# -- shared pieces ------------------------------------------------------------------------------
_COLUMNS = (
    col(Ticket.id), col(Ticket.number), col(Ticket.type), col(Ticket.department_code), col(Ticket.summary), col(Ticket.citizen_id),
    col(Ticket.accept_due), col(Ticket.answer_due), col(Ticket.answered_at), col(Ticket.returned_count), col(Ticket.reopened_count),
    col(Ticket.extension_state), col(Ticket.summary_masked), col(Ticket.summary_masked_by),
)


def _candidates(engine: Engine, where: Sequence[ColumnElement[bool]]) -> Iterator[list[Row[Any]]]:
    """The matching tickets, read in one query (over the range index; no ORDER BY/LIMIT that would
    make the planner walk the primary key), then handed out in batches, each recorded in a
    transaction of its own (on the recorder's thread, while the next batch is built)."""
    with engine.connect() as connection:  # Core rows: the ORM's row processing cost the catch-up a tenth
        query: Any = select(*_COLUMNS).where(*where)
        rows: list[Row[Any]] = list(connection.execute(query).all())
    rows.sort(key=lambda row: row.id)  # the same order in every process: no lock-order deadlocks
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]


def _record(engine: Engine, batch: Batch) -> int:
    with Session(engine) as session:
        created = batch.record(session)
        session.commit()
        return created


class _Recorder:
    """Records a sweep's batches on a thread of its own, in order, while the sweep builds the next:
    the database inserts one batch while Python writes the texts of the next (in the catch-up each
    took about half the time). Two batches wait at most, so memory stays bounded."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.created = 0
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sweep-recorder", daemon=True)
        self._thread.start()

    def add(self, batch: Batch) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(batch)

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None:  # after a failure, drain without writing: the sweep raises it
                try:
                    self.created += _record(self.engine, batch)
                except BaseException as error:  # noqa: BLE001 - handed to the sweep's thread
                    self._error = error

    def close(self) -> int:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.created


def _record_each(engine: Engine, now: datetime, where: Sequence[ColumnElement[bool]],
                 notice: Callable[[Batch, Row[Any]], None]) -> int:
    """Every ticket matching `where` gets its notices from `notice(batch, row)`; returns how many
    were new. Batches are recorded on the recorder's thread while the next is built."""
    recorder = _Recorder(engine)
    try:
        for rows in _candidates(engine, where):
            batch = Batch(now)
            for row in rows:
                notice(batch, row)
            recorder.add(batch)
    except BaseException:
        with suppress(BaseException):  # the sweep's own error is the one to report
            recorder.close()
        raise
    return recorder.close()


def _set_based(engine: Engine) -> bool:
    return SET_BASED and sweeps_sql.available(engine)


@dataclass
class _Directory:
    """Department names and heads, read once per sweep."""

    names: dict[str, str]
    heads: dict[str, list[int]]

    @classmethod
    def load(cls, engine: Engine) -> _Directory:
        with Session(engine) as session:
            names = {d.code: d.name for d in session.execute(select(Department)).scalars()}
            heads: dict[str, list[int]] = {}
            query = select(Staff).where(col(Staff.role) == Role.head, col(Staff.active) == True).order_by(col(Staff.id))  # noqa: E712
            for staff in session.execute(query).scalars():
                heads.setdefault(staff.department_code or "", []).append(staff.id)
        return cls(names, heads)

    def name(self, code: str | None) -> str:
        return self.names.get(code or "", code or "待分派")

    def add_heads(self, batch: Batch, base: str, kind: str, row: Row[Any], text: str) -> None:
        """To the department's head(s); a department without a head: to the dispatchers."""
        heads = self.heads.get(row.department_code or "", [])
        for head in heads:
            batch.add(base, kind, "staff", str(head), text, ticket_id=row.id)
        if not heads:
            batch.add(base, kind, "dispatchers", None, text + NO_HEAD, ticket_id=row.id)


def _what(row: Row[Any], summary: str | None = None) -> str:
    return what(row.number, row.type, row.summary if summary is None else summary)


# -- accept clock --------------------------------------------------------------------------------
def accept_reminders(engine: Engine, policy: Policy, now: datetime) -> int:
    """Half the accept limit has passed without 签收: remind the department (once per assignment)."""
    now = ensure_aware(now)
    cutoff = policy.calendar.add_working_days(now, policy.limits.accept_days / 2)
    where = [col(Ticket.state) == State.assigned, col(Ticket.accept_due) > now, col(Ticket.accept_due) <= cutoff,
             not_yet_recorded("accept_reminder", ACCEPT_ROUND_SQL)]

    def notice(batch: Batch, row: Row[Any]) -> None:
        base = base_key("accept_reminder", row.id, accept_round(row.returned_count))
        text = ACCEPT_REMINDER.format(what=_what(row), accept_due=notices.fmt_time(policy.calendar, row.accept_due))
        batch.add(base, "accept_reminder", "department", row.department_code, text, ticket_id=row.id,
                  buttons=notices.department_buttons(row.number))

    return _record_each(engine, now, where, notice)


def accept_escalations(engine: Engine, policy: Policy, now: datetime) -> int:
    """The accept limit expired without 签收: tell the department head(s)."""
    now = ensure_aware(now)
    people = _Directory.load(engine)
    where = [col(Ticket.state) == State.assigned, col(Ticket.accept_due) <= now,
             not_yet_recorded("accept_overdue", ACCEPT_ROUND_SQL)]

    def notice(batch: Batch, row: Row[Any]) -> None:
        base = base_key("accept_overdue", row.id, accept_round(row.returned_count))
        text = ACCEPT_OVERDUE.format(what=_what(row), department=people.name(row.department_code),
                                     accept_due=notices.fmt_time(policy.calendar, row.accept_due))
        people.add_heads(batch, base, "accept_overdue", row, text)

    if _set_based(engine):
        text = sweeps_sql.render(ACCEPT_OVERDUE, what=sweeps_sql.what(col(Ticket.summary)),
                                 department=sweeps_sql.department_name(people.names),
                                 accept_due=sweeps_sql.local_minute(policy.calendar, col(Ticket.accept_due)))
        return sweeps_sql.record_to_heads(engine, now, "accept_overdue", where,
                                          base_key_sql("accept_overdue", ACCEPT_ROUND_SQL), people.heads, text)
    return _record_each(engine, now, where, notice)


# -- answer clock --------------------------------------------------------------------------------
def _short_limits(policy: Policy, lead_days: float) -> ColumnElement[bool]:
    """SQL: tickets whose whole answer limit is no longer than the reminder lead (no reminder:
    the new-ticket notice already gave the deadline), from the per-type and per-department limits."""
    limits = policy.limits
    conditions: list[ColumnElement[bool]] = []
    for ticket_type in TicketType:
        overrides = {code: o[ticket_type] for code, o in limits.department_answer_days.items() if ticket_type in o}
        if limits.answer_days[ticket_type] <= lead_days:
            longer = [code for code, days in overrides.items() if days > lead_days]
            conditions.append(and_(col(Ticket.type) == ticket_type, col(Ticket.department_code).notin_(longer)))
        else:
            shorter = [code for code, days in overrides.items() if days <= lead_days]
            if shorter:
                conditions.append(and_(col(Ticket.type) == ticket_type, col(Ticket.department_code).in_(shorter)))
    return or_(false(), *conditions)


def answer_reminders(engine: Engine, policy: Policy, now: datetime, settings: SweepSettings) -> int:
    """One working day (configurable) before the answer deadline: remind the department."""
    now = ensure_aware(now)
    lead = settings.answer_reminder_days
    cutoff = policy.calendar.add_working_days(now, lead)
    where = [col(Ticket.state).in_(AWAITING_ANSWER_VALUES), col(Ticket.answer_due) > now, col(Ticket.answer_due) <= cutoff,
             ~_short_limits(policy, lead), not_yet_recorded("answer_reminder", ANSWER_ROUND_SQL)]

    def notice(batch: Batch, row: Row[Any]) -> None:
        base = base_key("answer_reminder", row.id, answer_round(row.returned_count, row.reopened_count,
                                                                row.extension_state))
        text = ANSWER_REMINDER.format(what=_what(row), lead=f"{lead:g}",
                                      answer_due=notices.fmt_time(policy.calendar, row.answer_due))
        batch.add(base, "answer_reminder", "department", row.department_code, text, ticket_id=row.id)

    if _set_based(engine):
        text = sweeps_sql.render(ANSWER_REMINDER, what=sweeps_sql.what(col(Ticket.summary)), lead=f"{lead:g}",
                                 answer_due=sweeps_sql.local_minute(policy.calendar, col(Ticket.answer_due)))
        return sweeps_sql.record_to_department(engine, now, "answer_reminder", where,
                                               base_key_sql("answer_reminder", ANSWER_ROUND_SQL), text)
    return _record_each(engine, now, where, notice)


def _oldest_overdue(engine: Engine, now: datetime) -> datetime | None:
    with Session(engine) as session:
        query = select(func.min(col(Ticket.answer_due))).where(
            col(Ticket.state).in_(AWAITING_ANSWER_VALUES), col(Ticket.answer_due) <= now
        )
        oldest = session.execute(query).scalar()
    if oldest is not None and oldest.tzinfo is None:  # min() bypasses the column type on SQLite
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=now.tzinfo)
    return oldest


def overdue_escalations(engine: Engine, policy: Policy, now: datetime, settings: SweepSettings) -> int:
    """督办: at the answer deadline a notice to the department head(s) and the leaders; one more
    level for every further `escalate_every_days` working days. A ticket gets its current level
    only, so a scheduler that was down for days sends one notice per ticket, not one per level."""
    now = ensure_aware(now)
    oldest = _oldest_overdue(engine, now)
    if oldest is None:
        return 0
    people = _Directory.load(engine)
    step = settings.escalate_every_days
    created = 0
    upper = now  # level L holds the tickets with upper(L+1) < answer_due <= upper(L)
    for level in range(1, MAX_LEVEL + 1):
        lower = working_moment_before(policy.calendar, now, level * step)
        where = [col(Ticket.state).in_(AWAITING_ANSWER_VALUES), col(Ticket.answer_due) <= upper, col(Ticket.answer_due) > lower,
                 not_yet_recorded("overdue", ANSWER_ROUND_SQL, level)]

        def notice(batch: Batch, row: Row[Any], level: int = level) -> None:
            round_ = answer_round(row.returned_count, row.reopened_count, row.extension_state)
            base = base_key("overdue", row.id, round_, level)
            heads_text, leaders_text = _overdue_texts(row, policy, people, level, step)
            people.add_heads(batch, base, "overdue", row, heads_text)
            batch.add(base, "overdue", "leaders", None, leaders_text, ticket_id=row.id)

        if _set_based(engine):  # a summary without a current mask needs the masker (Python): left to _record_each
            fields: dict[str, Any] = {"heading": overdue_heading(level), "late": overdue_late(level, step),
                                      "department": sweeps_sql.department_name(people.names),
                                      "answer_due": sweeps_sql.local_minute(policy.calendar, col(Ticket.answer_due))}
            current = and_(col(Ticket.summary_masked_by) == MASKING_VERSION, col(Ticket.summary_masked) != None)  # noqa: E711
            created += sweeps_sql.record_to_heads(
                engine, now, "overdue", [*where, current],
                base_key_sql("overdue", ANSWER_ROUND_SQL, level), people.heads,
                sweeps_sql.render(OVERDUE, what=sweeps_sql.what(col(Ticket.summary)), **fields),
                leaders_text=sweeps_sql.render(OVERDUE, what=sweeps_sql.what(col(Ticket.summary_masked)), **fields))
            where = [*where, or_(col(Ticket.summary_masked_by) == None,  # noqa: E711 - the rest, NULLs included
                                 col(Ticket.summary_masked_by) != MASKING_VERSION, col(Ticket.summary_masked) == None)]  # noqa: E711
        created += _record_each(engine, now, where, notice)
        if lower < oldest:
            break
        upper = lower
    return created


def _overdue_texts(row: Row[Any], policy: Policy, people: _Directory, level: int, step: float) -> tuple[str, str]:
    """The 督办's text for the department head(s), and for the leaders, who read tickets masked
    everywhere (tickets.views), in their Telegram 督办 too: the rest of the text is the system's
    wording, the summary is the citizen's."""
    fields = {"heading": overdue_heading(level), "late": overdue_late(level, step),
              "department": people.name(row.department_code),
              "answer_due": notices.fmt_time(policy.calendar, row.answer_due)}
    masked = masked_summary(row.summary, row.summary_masked, row.summary_masked_by)
    return OVERDUE.format(what=_what(row), **fields), OVERDUE.format(what=_what(row, masked), **fields)


# -- callback and auto-close ---------------------------------------------------------------------
def callbacks(engine: Engine, policy: Policy, now: datetime, settings: SweepSettings) -> int:
    """回访: an answered ticket asks its citizen to rate, once per answer, while the window is open."""
    now = ensure_aware(now)
    window = timedelta(days=policy.limits.callback_days)
    asked_after = timedelta(hours=settings.callback_after_hours)
    if asked_after >= window:
        return 0
    where = [col(Ticket.state) == State.answered, col(Ticket.answered_at) <= now - asked_after,
             col(Ticket.answered_at) > now - window, not_yet_recorded("callback", CALLBACK_ROUND_SQL)]

    def notice(batch: Batch, row: Row[Any]) -> None:
        base = base_key("callback", row.id, str(row.reopened_count))
        due = notices.fmt_time(policy.calendar, policy.callback_due(row.answered_at))
        text = (f"【回访】您的工单 {row.number} 已于 {notices.fmt_time(policy.calendar, row.answered_at)} 答复，"
                f"请对办理结果进行评价。{due} 前未评价的，工单将按“未评价”办结。")
        batch.add(base, "callback", "citizen", str(row.citizen_id), text, ticket_id=row.id,
                  buttons=notices.rating_buttons(row.number))

    return _record_each(engine, now, where, notice)


def auto_close(engine: Engine, policy: Policy, now: datetime) -> int:
    """No rating within the callback window: close as 未评价 through the transition, in batches;
    rows are locked (PostgreSQL: SKIP LOCKED; SQLite: one writer), so two runs close each once."""
    now = ensure_aware(now)
    cutoff = now - timedelta(days=policy.limits.callback_days)
    closed = 0
    while True:
        with Session(engine) as session:
            query: Any = (select(Ticket).where(col(Ticket.state) == State.answered, col(Ticket.answered_at) <= cutoff)
                          .order_by(col(Ticket.id)).limit(BATCH // 4))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            tickets = list(session.execute(query).scalars())
            if not tickets:
                return closed
            batch = Batch(now)
            for ticket in tickets:
                transitions.auto_close(session, ticket, SYSTEM, now, policy)
                base = base_key("closed_unrated", ticket.id, str(ticket.reopened_count))
                text = f"您的工单 {ticket.number} 已办结（未评价）。如仍有问题，欢迎再次来电或留言。"
                batch.add(base, "closed_unrated", "citizen", str(ticket.citizen_id), text, ticket_id=ticket.id)
            batch.record(session)
            session.commit()
            closed += len(tickets)


SWEEPS = ("accept_reminders", "accept_escalations", "answer_reminders", "overdue", "callbacks", "auto_close")


def run_sweeps(
    engine: Engine, policy: Policy, now: datetime, settings: SweepSettings, only: Sequence[str] | None = None
) -> dict[str, int]:
    """Every ticket sweep as of `now` (or the named ones); returns how many notices / closures each made."""
    steps = {
        "accept_reminders": lambda: accept_reminders(engine, policy, now),
        "accept_escalations": lambda: accept_escalations(engine, policy, now),
        "answer_reminders": lambda: answer_reminders(engine, policy, now, settings),
        "overdue": lambda: overdue_escalations(engine, policy, now, settings),
        "callbacks": lambda: callbacks(engine, policy, now, settings),
        "auto_close": lambda: auto_close(engine, policy, now),
    }
    return {name: steps[name]() for name in SWEEPS if only is None or name in only}
