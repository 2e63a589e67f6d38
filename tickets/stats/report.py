"""The one function that computes the leadership report (docs/DESIGN.md, "The numbers leadership
reads"). Past days come from snapshots; days without one, and today, from the live tables."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, select
from sqlmodel import Session

from tickets.masking import mask_personal
from tickets.models import Department
from tickets.states import TicketType
from tickets.stats.daily import GroupKey, OverdueTicket, WindowStats, compute_window, overdue_at
from tickets.stats.desk import desk_figures
from tickets.stats.figures import Counts
from tickets.stats.hot import HotIssue, group_issues, merge_by_meaning, vocabulary
from tickets.stats.kb import kb_figures
from tickets.stats.models import StatsDay, StatsDelta, StatsHot, StatsIntake, StatsOverdue
from tickets.stats.periods import Period
from tickets.timelimits import Policy
from tickets.timeutil import ensure_aware

HOT_ISSUES = 10


@dataclass(frozen=True)
class HotMeaning:
    """Sentence vectors of tickets by number (handed in by the wiring, which owns the encoder) and the
    cosine of two groups' centroids above which they are one issue."""

    vectors: Callable[[Sequence[str]], Mapping[str, np.ndarray]]
    threshold: float


@dataclass(frozen=True)
class Ranking:
    response: float = 0.10
    closure: float = 0.45
    satisfaction: float = 0.45
    bottom: int = 3


@dataclass
class PeriodData:
    groups: dict[GroupKey, Counts] = field(default_factory=lambda: defaultdict(Counts))
    overdue: list[OverdueTicket] = field(default_factory=list)
    hot: dict[str, HotIssue] = field(default_factory=dict)
    intake: Counter[tuple[int, str]] = field(default_factory=Counter)
    as_of: datetime | None = None
    from_snapshots: int = 0
    live_days: int = 0

    def merge(self, window: WindowStats, first: date, last: date) -> None:
        for (cohort, dept, ticket_type), counts in window.groups.items():
            if first <= cohort <= last:
                self.groups[(cohort, dept, ticket_type)].add(counts)
        for label, issue in window.hot.items():
            self.hot.setdefault(label, HotIssue(label, issue.department_code)).add(issue.count, issue.example,
                                                                                 issue.numbers)
        self.intake.update(window.intake)


def load_period(engine: Engine, policy: Policy, period: Period, now: datetime, words: Sequence[str] = ()) -> PeriodData:
    """Contributions of the period's tickets as of min(end of period, now), and its overdue list."""
    calendar = policy.calendar
    now = ensure_aware(now)
    start, end = calendar.start_of(period.first), calendar.start_of(period.last + timedelta(days=1))
    data = PeriodData(as_of=min(end, now))
    if now <= start:
        return data
    vocab = vocabulary(words)
    with Session(engine) as session:
        days_query = select(StatsDay.day).where(StatsDay.day >= period.first, StatsDay.day <= period.last)  # type: ignore[call-overload]
        taken = set(session.execute(days_query).scalars())
        day = period.first
        while day <= period.last and calendar.start_of(day) < now:
            day_end = calendar.start_of(day + timedelta(days=1))
            if day in taken and day_end <= now:
                data.from_snapshots += 1
            else:
                window = compute_window(session, calendar, calendar.start_of(day), min(day_end, now), vocab)
                data.merge(window, period.first, period.last)
                data.live_days += 1
            day += timedelta(days=1)
        stored = sorted(d for d in taken if calendar.start_of(d + timedelta(days=1)) <= now)
        if stored:
            _read_snapshots(session, stored, period, data)
        if end <= now and period.last in taken:
            rows = session.execute(select(StatsOverdue).where(
                StatsOverdue.day == period.last,  # type: ignore[arg-type]
                StatsOverdue.cohort_day >= period.first, StatsOverdue.cohort_day <= period.last,  # type: ignore[arg-type]
            )).scalars()
            data.overdue = sorted((OverdueTicket(r.ticket_id, r.number, r.cohort_day, r.department_code, r.type,
                                                 r.days_overdue) for r in rows),
                                  key=lambda o: (-o.days_overdue, o.number))
        else:
            data.overdue = overdue_at(session, policy, min(end, now), (start, end))
    return data


def _read_snapshots(session: Session, days: list[date], period: Period, data: PeriodData) -> None:
    in_days = StatsDelta.day.in_(days)  # type: ignore[attr-defined]
    for row in session.execute(select(StatsDelta).where(
        in_days, StatsDelta.cohort_day >= period.first, StatsDelta.cohort_day <= period.last  # type: ignore[arg-type]
    )).scalars():
        data.groups[(row.cohort_day, row.department_code, row.type)].add(row)
    for hot in session.execute(select(StatsHot).where(StatsHot.day.in_(days))).scalars():  # type: ignore[attr-defined]
        data.hot.setdefault(hot.label, HotIssue(hot.label, hot.department_code)).add(hot.count, hot.example,
                                                                                  hot.numbers)
    for intake in session.execute(select(StatsIntake).where(StatsIntake.day.in_(days))).scalars():  # type: ignore[attr-defined]
        data.intake[(intake.hour, intake.channel)] += intake.count


def _totals(data: PeriodData) -> tuple[Counts, dict[str, Counts], dict[str, Counts]]:
    city = Counts()
    departments: dict[str, Counts] = defaultdict(Counts)
    types: dict[str, Counts] = defaultdict(Counts)
    for (_, dept, ticket_type), counts in data.groups.items():
        city.add(counts)
        types[ticket_type].add(counts)
        if dept:
            departments[dept].add(counts)
    for overdue in data.overdue:
        city.overdue += 1
        types[overdue.type].overdue += 1
        departments[overdue.department_code].overdue += 1
    return city, departments, types


def score(figures: dict[str, Any], ranking: Ranking) -> float | None:
    """Weighted score 0-100; a rate without a denominator drops out and the others are reweighed."""
    parts = [(ranking.response, figures["response_rate"]), (ranking.closure, figures["closure_rate"]),
             (ranking.satisfaction, figures["satisfaction_rate"])]
    known = [(w, v) for w, v in parts if v is not None and w > 0]
    if not figures["received"] or not known:
        return None
    return round(100 * sum(w * v for w, v in known) / sum(w for w, _ in known), 2)


def build_report(
    engine: Engine,
    policy: Policy,
    period: Period,
    now: datetime,
    ranking: Ranking = Ranking(),
    words: Sequence[str] = (),
    meaning: HotMeaning | None = None,
) -> dict[str, Any]:
    """Every figure of the report for `period`, with the previous period beside it (JSON-ready)."""
    current = load_period(engine, policy, period, now, words)
    hot = group_issues(current.hot.values())
    if meaning is not None:
        hot = merge_by_meaning(hot, meaning.vectors([n for h in hot for n in h.numbers]), meaning.threshold)
    previous = load_period(engine, policy, period.previous(), now, words)
    city, departments, types = _totals(current)
    p_city, p_departments, p_types = _totals(previous)
    with Session(engine) as session:
        known = {d.code: d for d in session.execute(select(Department)).scalars()}
    retired = sorted(c for c in departments if c not in known or not known[c].active)  # still has tickets
    codes = [c for c, d in known.items() if d.active] + retired
    rows = []
    for code in dict.fromkeys(codes):
        figures = departments[code].as_department().figures() if code in departments else Counts().figures()
        rows.append({"code": code, "name": known[code].name if code in known else code, **figures,
                     "score": score(figures, ranking),
                     "previous": (p_departments[code].as_department() if code in p_departments else Counts()).figures()})
    ranked = sorted((r for r in rows if r["score"] is not None), key=lambda r: (-r["score"], r["code"]))
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    for row in rows:
        row.setdefault("rank", None)
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
    bottom = [r["code"] for r in reversed(ranked)][: ranking.bottom] if len(ranked) > ranking.bottom else []
    names = {r["code"]: r["name"] for r in rows}
    return {
        "period": period.as_dict(),
        "as_of": current.as_of.isoformat() if current.as_of else None,
        "city": {**city.figures(), **desk_figures(engine, policy, period, now),
                 "previous": {**p_city.figures(), **desk_figures(engine, policy, period.previous(), now)}},
        "departments": rows,
        "types": [{"type": t.value, **types[t.value].figures(), "previous": p_types[t.value].figures()}
                  for t in TicketType],
        "bottom": bottom,
        "overdue": [{"number": o.number, "department": o.department_code,
                     "department_name": names.get(o.department_code, o.department_code), "type": o.type,
                     "days_overdue": o.days_overdue} for o in current.overdue],
        # Masked again here, not only when the day was snapshotted: a snapshot taken before the
        # masking learned something must not publish it on the dashboard and in every export.
        "hot_issues": [{"label": mask_personal(h.label), "count": h.count, "example": mask_personal(h.example),
                        "numbers": h.numbers, "department": h.department_code,
                        "places": [{"place": mask_personal(place), "count": count} for place, count in h.places],
                        "related": [mask_personal(label) for label in h.related]}
                       for h in hot[:HOT_ISSUES] if h.count >= 2],
        "hours": [{"hour": hour, "count": sum(c for (h, _), c in current.intake.items() if h == hour)}
                  for hour in range(24)],
        "channels": [{"channel": ch, "count": n} for ch, n in Counter(
            {ch: sum(c for (_, c2), c in current.intake.items() if c2 == ch) for ch in
             {c2 for _, c2 in current.intake}}).most_common()],
        "source": {"snapshot_days": current.from_snapshots, "live_days": current.live_days},
        "kb": kb_figures(engine, policy.calendar.start_of(period.first),
                         min(policy.calendar.start_of(period.last + timedelta(days=1)), now)),
    }


def city_trend(engine: Engine, policy: Policy, periods: Sequence[Period], now: datetime) -> list[dict[str, Any]]:
    """The city's figures for each period (e.g. the last 12 weeks, for the trend charts)."""
    trend = []
    for period in periods:
        city, _, _ = _totals(load_period(engine, policy, period, now))
        trend.append({"period": period.as_dict(), **city.figures()})
    return trend

