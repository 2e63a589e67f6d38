"""The report's figures on the hand-built week (tests/stats_week.py), on both databases, from the
live tables and from snapshots, before and after later events."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hotline import reports
from hotline.bootstrap import App
from tests.conftest import FakeClock, local
from tests.stats_week import (
    CITY,
    HOUSING,
    OVERDUE_DAYS,
    PREVIOUS_CITY,
    REPORT_NOW,
    TYPES,
    WATER,
    WEEK,
    build_week,
    later_events,
)
from tickets.stats import parse_week, take_snapshot


def _report(app: App, week: str = WEEK, now: Any = REPORT_NOW) -> dict[str, Any]:
    return reports.report_for(app, parse_week(week), now)


def _only(block: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {key: block[key] for key in expected}


def _department(report: dict[str, Any], code: str) -> dict[str, Any]:
    return next(d for d in report["departments"] if d["code"] == code)


def _snapshot(app: App, first: date, last: date, now: Any) -> None:
    day = first
    while day <= last:
        take_snapshot(app.engine, app.policy, day, reports.issue_words(app), now)
        day += timedelta(days=1)


def _figures_only(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("source", "as_of")}


def test_hand_built_week_gives_the_hand_computed_figures(hotline: App, clock: FakeClock) -> None:
    week = build_week(hotline)
    report = _report(hotline)
    assert report["period"] == {"from": "2026-05-04", "to": "2026-05-10", "label": "2026-W19"}
    assert _only(report["city"], CITY) == CITY
    assert _only(report["city"]["previous"], PREVIOUS_CITY) == PREVIOUS_CITY
    assert _only(_department(report, "housing"), HOUSING) == HOUSING
    assert _only(_department(report, "water"), WATER) == WATER
    for ticket_type, expected in TYPES.items():
        block = next(t for t in report["types"] if t["type"] == ticket_type)
        assert _only(block, expected) == expected, ticket_type
    untouched = _department(report, "education")
    assert untouched["received"] == 0 and untouched["score"] is None and untouched["rank"] is None
    assert report["overdue"] == [{"number": week.numbers["T5"], "department": "water", "department_name": "市水务局",
                                  "type": "consultation", "days_overdue": OVERDUE_DAYS}]
    assert report["bottom"] == []  # two departments ranked: nobody is named among a bottom three
    assert report["hours"][23]["count"] == 1  # T3 at 23:30 Shanghai time, though 15:30 in UTC
    assert report["channels"] == [{"channel": "web", "count": 12}]  # every contact, spam included
    hot = report["hot_issues"][0]
    assert hot["count"] == 3 and hot["label"].endswith("物业")
    assert sorted(hot["numbers"]) == sorted(week.numbers[k] for k in ("T1", "T6", "T9"))


def test_snapshots_give_the_same_report_as_the_live_tables(hotline: App) -> None:
    build_week(hotline)
    live = _report(hotline)
    _snapshot(hotline, date(2026, 4, 27), date(2026, 5, 10), REPORT_NOW)
    stored = _report(hotline)
    assert stored["source"] == {"snapshot_days": 7, "live_days": 0}
    assert _figures_only(stored) == _figures_only(live)


def test_a_past_week_does_not_change_when_its_tickets_move_on(hotline: App) -> None:
    week = build_week(hotline)
    before = _report(hotline)
    later_events(hotline, week)
    after_now = local(2026, 5, 13, 9)
    assert _figures_only(_report(hotline, now=after_now)) == _figures_only(before)
    _snapshot(hotline, date(2026, 4, 27), date(2026, 5, 12), after_now)  # snapshots taken late: replayed
    assert _figures_only(_report(hotline, now=after_now)) == _figures_only(before)
    next_week = _report(hotline, "2026-W20", after_now)
    assert next_week["city"]["received"] == 1  # N1, Monday 00:30 local
    assert next_week["city"]["previous"]["closed"] == 4  # W19 as of its own end


def test_a_snapshot_taken_twice_stores_the_day_once(hotline: App) -> None:
    build_week(hotline)
    _snapshot(hotline, date(2026, 5, 6), date(2026, 5, 6), REPORT_NOW)
    first = _report(hotline)
    _snapshot(hotline, date(2026, 5, 6), date(2026, 5, 6), REPORT_NOW)
    assert _figures_only(_report(hotline)) == _figures_only(first)


def test_a_day_that_has_not_ended_cannot_be_snapshot(hotline: App) -> None:
    import pytest

    with pytest.raises(ValueError, match="has not ended"):
        take_snapshot(hotline.engine, hotline.policy, date(2026, 5, 11), (), local(2026, 5, 11, 23))


def test_a_week_with_no_tickets_has_zero_counts_and_no_rates(hotline: App) -> None:
    build_week(hotline)
    report = _report(hotline, "2026-W17")
    city = report["city"]
    assert city["received"] == 0 and city["closed"] == 0 and city["overdue"] == 0
    assert city["response_rate"] is None and city["closure_rate"] is None and city["satisfaction_rate"] is None
    assert city["mean_handling_hours"] is None
    assert all(d["rank"] is None for d in report["departments"])
    assert report["bottom"] == [] and report["overdue"] == [] and report["hot_issues"] == []


def test_the_running_week_counts_up_to_now(hotline: App) -> None:
    build_week(hotline)
    report = _report(hotline, WEEK, local(2026, 5, 8, 0))  # Friday 00:00: what happened before
    # Created before Fri: T1 T4 T5 T6 T7 T10 T11 (T8, T9, T2, T3, T12 come later)
    assert report["city"]["received"] == 7
    # First answers before Fri: T6 (Thu 10:00), T7 (Thu 15:00); T6 was reopened Thu 12:00 -> closed 1 (T7)
    assert report["city"]["answered"] == 2 and report["city"]["closed"] == 1
    assert report["source"]["live_days"] == 4  # Mon-Thu, no snapshots
