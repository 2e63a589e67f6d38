"""The daily digest per department: open, due today, overdue (on working days, at a set hour)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, case, func, select
from sqlmodel import Session, col

from tickets.models import Department, Ticket
from tickets.states import AWAITING_ANSWER_VALUES
from tickets.sweeps_outbox import Batch
from tickets.timelimits import Policy
from tickets.timeutil import ensure_aware

LISTED = 5  # overdue ticket numbers named in a digest


def digest_due(policy: Policy, now: datetime, hour: int) -> bool:
    """A digest is due on a working day from `hour` o'clock (so a late start still sends today's)."""
    local = policy.calendar.local(now)
    return policy.calendar.is_workday(local.date()) and local.hour >= hour


def department_digests(engine: Engine, policy: Policy, now: datetime, hour: int) -> int:
    """Record today's digest for every department with open tickets; once a day each."""
    now = ensure_aware(now)
    if not digest_due(policy, now, hour):
        return 0
    today = policy.calendar.local_day(now)
    day_end = policy.calendar.start_of(today + timedelta(days=1))
    with Session(engine) as session:
        figures = session.execute(
            select(
                col(Ticket.department_code),
                func.count(),
                func.sum(case((col(Ticket.answer_due) > now, case((col(Ticket.answer_due) < day_end, 1), else_=0)), else_=0)),
                func.sum(case((col(Ticket.answer_due) <= now, 1), else_=0)),
            )
            .where(col(Ticket.state).in_(AWAITING_ANSWER_VALUES), col(Ticket.department_code) != None)  # noqa: E711
            .group_by(col(Ticket.department_code))
        ).all()
        names = {d.code: d.name for d in session.execute(select(Department)).scalars()}
        batch = Batch(now)
        for code, open_count, due_today, overdue in figures:
            text = (f"【每日提醒】{names.get(code, code)} {today:%Y-%m-%d}\n在办工单 {open_count} 件，"
                    f"今日到期 {due_today or 0} 件，已超期 {overdue or 0} 件。")
            if overdue:
                text += "\n超期工单：" + "、".join(_oldest_overdue(session, code, now))
            batch.add(f"digest:{code}:{today.isoformat()}", "digest", "department", code, text)
        created = batch.record(session)
        session.commit()
    return created


def _oldest_overdue(session: Session, code: str, now: datetime) -> list[str]:
    query = (
        select(col(Ticket.number))
        .where(col(Ticket.state).in_(AWAITING_ANSWER_VALUES), col(Ticket.department_code) == code, col(Ticket.answer_due) <= now)
        .order_by(col(Ticket.answer_due))
        .limit(LISTED)
    )
    return list(session.execute(query).scalars())
