"""Deadlines in working days of the city's calendar (chinese-calendar plus config overrides)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from tests.conftest import local
from tickets.timelimits import Policy, TimeLimits
from tickets.workcalendar import WorkCalendar


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar("Asia/Shanghai")


def test_one_working_day_on_a_weekday_is_the_same_time_next_day(calendar):
    assert calendar.add_working_days(local(2026, 11, 24, 10), 1) == local(2026, 11, 25, 10)


def test_friday_afternoon_plus_one_working_day_skips_the_weekend(calendar):
    assert calendar.add_working_days(local(2026, 11, 20, 15), 1) == local(2026, 11, 23, 15)


def test_saturday_plus_one_working_day_ends_with_monday(calendar):
    assert calendar.add_working_days(local(2026, 11, 21, 11), 1) == local(2026, 11, 24, 0)


def test_national_day_holiday_and_tiaoxiu_saturday_count_correctly(calendar):
    # 2026-09-30 (Wed) 10:00 + 5 working days: 14 h on Sep 30, Oct 1–7 are holidays, then Oct 8, 9,
    # 10 (a 调休 Saturday, a working day), 12 and 10 h of Oct 13.
    assert not calendar.is_workday(date(2026, 10, 5))  # a Monday inside the holiday
    assert calendar.is_workday(date(2026, 10, 10))  # Saturday, made a working day
    assert calendar.add_working_days(local(2026, 9, 30, 10), 5) == local(2026, 10, 13, 10)


def test_config_overrides_beat_the_package(calendar):
    custom = WorkCalendar("Asia/Shanghai", extra_holidays=[date(2026, 11, 25)], extra_workdays=[date(2026, 11, 28)])
    assert not custom.is_workday(date(2026, 11, 25))
    assert custom.is_workday(date(2026, 11, 28))
    # Tue 10:00 + 2 days: Tue 14 h, Wed is a local holiday, Thu 24 h, Fri 10 h.
    assert custom.add_working_days(local(2026, 11, 24, 10), 2) == local(2026, 11, 27, 10)


def test_year_the_package_does_not_cover_falls_back_to_weekends_and_warns_once(calendar, caplog):
    with caplog.at_level(logging.WARNING, logger="tickets.workcalendar"):
        assert calendar.is_workday(date(2027, 1, 4))  # Monday
        assert not calendar.is_workday(date(2027, 1, 2))  # Saturday
        assert calendar.is_workday(date(2027, 3, 3))
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1


def test_working_time_between_skips_rest_days(calendar):
    # Fri 12:00 → Mon 12:00 is 12 h on Friday plus 12 h on Monday.
    assert calendar.working_hours_between(local(2026, 11, 20, 12), local(2026, 11, 23, 12)) == 24
    assert calendar.working_time_between(local(2026, 11, 23, 12), local(2026, 11, 20, 12)) == timedelta(0)


def test_adding_then_measuring_working_time_round_trips(calendar):
    start = local(2026, 9, 28, 17, 30)
    for days in (0.5, 1, 3, 5, 15):
        due = calendar.add_working_days(start, days)
        assert calendar.working_days_between(start, due) == pytest.approx(days)


def test_department_override_of_answer_days():
    policy = Policy(WorkCalendar(), TimeLimits(department_answer_days={"water": {"complaint": 2}}))
    start = local(2026, 11, 23, 9)
    assert policy.answer_due(start, "complaint", "water") == local(2026, 11, 25, 9)
    assert policy.answer_due(start, "complaint", "housing") == local(2026, 11, 30, 9)
    assert policy.answer_due(start, "suggestion", "water") == calendar_add(start, 15)


def calendar_add(start, days):
    return WorkCalendar().add_working_days(start, days)
