"""What tickets contributed to the figures in a window of time, read from tickets and events.

Each ticket's events are replayed once into dated contributions (`contributions`): +1 received
when it is created; +1 assigned to a department at each assign/reroute; +1 returned at each
退单; +1 accepted_in_time at the first acceptance if it was on time; +1 answered (and
answered_on_time, and its working hours) at the first answer; closed +1 at every answer and
-1 at every reopen; rated +1 at the first rating; satisfied +1 at a 满意/基本满意 rating.
An invalidated or merged ticket takes all of its contributions back at that moment. Summing the
contributions dated before a moment T gives every figure "as of T", so a past week's numbers
never change, and a day's sum can be stored once (snapshots) and added up later.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from tickets.masking import mask_personal
from tickets.models import Ticket, TicketEvent
from tickets.states import AWAITING_ANSWER_VALUES, State
from tickets.stats.figures import Counts
from tickets.stats.hot import HotIssue, issue_label
from tickets.text import summarise
from tickets.timelimits import Policy
from tickets.workcalendar import WorkCalendar

CHUNK = 2000
GroupKey = tuple[date, str, str]  # cohort day, department code ("" = none yet), type
Contribution = tuple[datetime, str, str, float]  # when, department, field, value


@dataclass
class WindowStats:
    """The contributions of a window, grouped; plus the messages received in it."""

    groups: dict[GroupKey, Counts] = field(default_factory=lambda: defaultdict(Counts))
    hot: dict[str, HotIssue] = field(default_factory=dict)
    intake: Counter[tuple[int, str]] = field(default_factory=Counter)


@dataclass(frozen=True)
class OverdueTicket:
    ticket_id: int
    number: str
    cohort_day: date
    department_code: str
    type: str
    days_overdue: float


def contributions(ticket: Any, events: Sequence[Any], calendar: WorkCalendar) -> list[Contribution]:
    """The dated contributions of one ticket, from its events in order (see the module doc)."""
    out: list[Contribution] = [(ticket.created_at, "", "received", 1)]
    consultation = ticket.type == "consultation"
    if consultation:
        out.append((ticket.created_at, "", "consultations", 1))
    accepted = answered = rated = False
    for event in events:
        dept, action, at = event.department_code or "", event.action, event.at
        if action in ("assign", "reroute"):
            out.append((at, dept, "assigned", 1))
            if consultation:
                out.append((at, dept, "consultations_assigned", 1))
        elif action == "close_at_once":
            # Settled at first contact: closed for the city (no department's key), and counted for
            # the department it would have gone to as a direct answer or a transfer.
            out.append((at, "", "closed", 1))
            out.append((at, dept, "transferred" if getattr(ticket, "close_reason", None) == "transferred" else "direct_answers", 1))
        elif action == "return":
            out.append((at, dept, "returned", 1))
        elif action == "accept" and not accepted:
            accepted = True
            if ticket.accepted_on_time:
                out.append((at, dept, "accepted_in_time", 1))
        elif action == "answer":
            out.append((at, dept, "closed", 1))
            if not answered:
                answered = True
                out.append((at, dept, "answered", 1))
                out.append((at, dept, "handling_hours", calendar.working_hours_between(ticket.created_at, at)))
                if ticket.answered_on_time:
                    out.append((at, dept, "answered_on_time", 1))
        elif action == "reopen":
            out.append((at, dept, "closed", -1))
            if event.actor_kind == "citizen" and not rated:  # 不满意 reopens the ticket
                rated = True
                out.append((at, dept, "rated", 1))
        elif action == "rate":
            if not rated:
                rated = True
                out.append((at, dept, "rated", 1))
            out.append((at, dept, "satisfied", 1))
        elif action in ("invalidate", "merge"):
            totals: dict[tuple[str, str], float] = defaultdict(float)
            for _, d, name, value in out:
                totals[(d, name)] += value
            out.extend((at, d, name, -value) for (d, name), value in totals.items() if value)
            break
    return out


T: Any = Ticket.__table__.c  # type: ignore[attr-defined]
E: Any = TicketEvent.__table__.c  # type: ignore[attr-defined]
_TICKET_COLUMNS = (T.id, T.number, T.type, T.created_at, T.accepted_on_time, T.answered_on_time, T.department_code,
                   T.state, T.answer_due, T.updated_at, T.close_reason)
_EVENT_COLUMNS = (E.ticket_id, E.at, E.action, E.actor_kind, E.department_code, E.to_state, E.note)


def _events_by_ticket(session: Session, ids: Sequence[int], before: datetime | None = None) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    for start in range(0, len(ids), CHUNK):
        query = select(*_EVENT_COLUMNS).where(E.ticket_id.in_(ids[start:start + CHUNK]))
        if before is not None:
            query = query.where(E.at < before)
        for row in session.execute(query.order_by(E.ticket_id, E.at, E.id)):
            found[row.ticket_id].append(row)
    return found


def _tickets(session: Session, ids: Sequence[int]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        query = select(*_TICKET_COLUMNS).where(T.id.in_(ids[start:start + CHUNK]))
        rows.extend(session.execute(query))
    return rows


def compute_window(
    session: Session, calendar: WorkCalendar, since: datetime, until: datetime, words: Sequence[str] = ()
) -> WindowStats:
    """Contributions dated in [since, until), grouped by cohort day, department and type; and the
    hot issues, hours and channels of the messages received in the window."""
    stats = WindowStats()
    touched = select(E.ticket_id).where(E.at >= since, E.at < until).distinct()
    ids = sorted(session.execute(touched).scalars())
    events = _events_by_ticket(session, ids)
    for ticket in _tickets(session, ids):
        cohort = calendar.local_day(ticket.created_at)
        for at, dept, name, value in contributions(ticket, events.get(ticket.id, []), calendar):
            if since <= at < until:
                counts = stats.groups[(cohort, dept, ticket.type)]
                setattr(counts, name, getattr(counts, name) + value)
    _received(session, calendar, since, until, words, stats)
    return stats


def _received(
    session: Session, calendar: WorkCalendar, since: datetime, until: datetime, words: Sequence[str], stats: WindowStats
) -> None:
    query = (
        select(T.number, T.text, T.channel, T.created_at, T.department_code, T.state)
        .where(T.created_at >= since, T.created_at < until)
        .order_by(T.created_at)
    )
    for row in session.execute(query):
        stats.intake[(calendar.local(row.created_at).hour, row.channel)] += 1
        if row.state == State.invalid or not words:
            continue
        label = issue_label(row.text, words)
        if label is None:
            continue
        issue = stats.hot.setdefault(label, HotIssue(label, row.department_code or ""))
        # Only a label's first example is kept: mask (the tagger costs ~1 ms) that one only, then cut.
        issue.add(1, issue.example or summarise(mask_personal(row.text[:400]), 80), [row.number])


def overdue_at(
    session: Session, policy: Policy, moment: datetime, cohort: tuple[datetime, datetime] | None = None
) -> list[OverdueTicket]:
    """Tickets that at `moment` were waiting for their department's answer past its deadline."""
    calendar = policy.calendar
    awaiting = AWAITING_ANSWER_VALUES
    unchanged = and_(T.state.in_(awaiting), T.answer_due < moment, T.updated_at < moment)
    changed_since = and_(T.updated_at >= moment, T.created_at < moment)
    query = select(*_TICKET_COLUMNS).where(or_(unchanged, changed_since))
    if cohort is not None:
        query = query.where(T.created_at >= cohort[0], T.created_at < cohort[1])
    rows = list(session.execute(query))
    replay_ids = [r.id for r in rows if r.updated_at >= moment]
    events = _events_by_ticket(session, replay_ids, before=moment) if replay_ids else {}
    found: list[OverdueTicket] = []
    for row in rows:
        if row.updated_at >= moment:
            state, due, dept = _as_of(row, events.get(row.id, []), policy)
        else:
            state, due, dept = row.state, row.answer_due, row.department_code
        if state in awaiting and due is not None and due < moment:
            found.append(OverdueTicket(row.id, row.number, calendar.local_day(row.created_at), dept or "", row.type,
                                       round(calendar.working_days_between(due, moment), 1)))
    return sorted(found, key=lambda o: (-o.days_overdue, o.number))


def _as_of(ticket: Any, events: Iterable[Any], policy: Policy) -> tuple[str | None, datetime | None, str | None]:
    """State, answer deadline and department of a ticket replayed from its earlier events."""
    state: str | None = None
    due: datetime | None = None
    dept: str | None = None
    pending_days = 0
    for event in events:
        state, dept = event.to_state or state, event.department_code
        if event.action in ("assign", "reroute", "reopen"):
            due = policy.answer_due(event.at, ticket.type, event.department_code)
        elif event.action == "request_extension":
            head = (event.note or "").split("d:", 1)[0]
            pending_days = int(head) if head.isdigit() else 0
        elif event.action == "grant_extension" and due is not None:
            due = policy.extend(due, pending_days)
    return state, due, dept
