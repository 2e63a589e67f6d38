"""The nightly snapshot: what happened on one local day, stored once so that reports read a few
rows per day instead of every ticket of their period (docs/DESIGN.md, "Statistics snapshots").

take_snapshot is idempotent: it replaces the day's rows in one transaction, so running it twice,
or again after data of that day was corrected, leaves one correct snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tickets.stats.daily import compute_window, overdue_at
from tickets.stats.figures import COUNT_FIELDS
from tickets.stats.hot import vocabulary
from tickets.stats.models import StatsDay, StatsDelta, StatsHot, StatsIntake, StatsOverdue
from tickets.timelimits import Policy
from tickets.timeutil import ensure_aware, utcnow

log = logging.getLogger(__name__)
SNAPSHOT_TABLES = (StatsDelta, StatsOverdue, StatsHot, StatsIntake)


@dataclass(frozen=True)
class SnapshotResult:
    day: date
    groups: int
    overdue: int
    taken: bool


def take_snapshot(
    engine: Engine, policy: Policy, day: date, words: Sequence[str] = (), now: datetime | None = None
) -> SnapshotResult:
    """Store local day `day`'s contributions, its overdue list at midnight, hot issues and intake.

    Refuses a day that has not ended yet at `now` (its figures would still change); without `now`
    the caller (the nightly job, which only passes past days) is trusted. Pass config.yml's
    department keywords as `words` so that hot-issue labels match the live computation's."""
    calendar = policy.calendar
    start, end = calendar.start_of(day), calendar.start_of(day + timedelta(days=1))
    moment = ensure_aware(now) if now is not None else utcnow()
    if now is not None and moment < end:
        raise ValueError(f"{day} has not ended yet at {moment.isoformat()}: nothing to snapshot")
    with Session(engine) as session:
        stats = compute_window(session, calendar, start, end, vocabulary(words))
        overdue = overdue_at(session, policy, end)
        try:
            session.execute(delete(StatsDay).where(StatsDay.day == day))  # type: ignore[arg-type, unused-ignore]
            session.add(StatsDay(day=day, taken_at=moment))
            session.flush()  # a concurrent snapshot of the same day waits here, then fails
        except IntegrityError:
            session.rollback()
            log.info("snapshot of %s taken concurrently by another run", day)
            return SnapshotResult(day, 0, 0, taken=False)
        for table in SNAPSHOT_TABLES:
            session.execute(delete(table).where(table.day == day))  # type: ignore[attr-defined, arg-type]
        for (cohort, dept, ticket_type), counts in stats.groups.items():
            values = {name: getattr(counts, name) for name in COUNT_FIELDS}
            if any(values.values()):
                session.add(StatsDelta(day=day, cohort_day=cohort, department_code=dept, type=ticket_type, **values))
        session.add_all(
            StatsOverdue(day=day, ticket_id=o.ticket_id, number=o.number, cohort_day=o.cohort_day,
                         department_code=o.department_code, type=o.type, days_overdue=o.days_overdue)
            for o in overdue
        )
        session.add_all(
            StatsHot(day=day, label=h.label, department_code=h.department_code, count=h.count, example=h.example,
                     numbers=h.numbers)
            for h in stats.hot.values()
        )
        session.add_all(
            StatsIntake(day=day, hour=hour, channel=channel, count=count)
            for (hour, channel), count in stats.intake.items()
        )
        session.commit()
    return SnapshotResult(day, len(stats.groups), len(overdue), taken=True)


def snapshot_days(engine: Engine) -> set[date]:
    with Session(engine) as session:
        return set(session.execute(select(StatsDay.day)).scalars())  # type: ignore[call-overload]


def take_missing_snapshots(
    engine: Engine, policy: Policy, now: datetime, days_back: int = 14, words: Sequence[str] = ()
) -> list[SnapshotResult]:
    """Snapshot every ended day of the last `days_back` that has none (catch-up after downtime)."""
    yesterday = policy.calendar.local_day(now) - timedelta(days=1)
    have = snapshot_days(engine)
    days = [yesterday - timedelta(days=n) for n in range(days_back - 1, -1, -1)]
    return [take_snapshot(engine, policy, d, words, now) for d in days if d not in have]
