"""Working days of the city's calendar and working-time arithmetic.

Working time elapses only on working days, 24 hours each, in the city's time zone: a limit of
N working days given at a moment t ends when N*24 working hours have passed after t. Assigned on
Tuesday 10:00 with one day, due Wednesday 10:00; assigned on Saturday, due at the end of Monday.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

DAY = timedelta(days=1)


class WorkCalendar:
    def __init__(
        self,
        timezone: str = "Asia/Shanghai",
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        use_chinese_calendar: bool = True,
    ) -> None:
        self.tz = ZoneInfo(timezone)
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self.use_chinese_calendar = use_chinese_calendar
        self._warned_years: set[int] = set()
        self._is_workday = lru_cache(maxsize=8192)(self._compute_is_workday)

    def is_workday(self, day: date) -> bool:
        return self._is_workday(day)

    def _compute_is_workday(self, day: date) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        if self.use_chinese_calendar:
            import chinese_calendar

            try:
                return bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                if day.year not in self._warned_years:
                    self._warned_years.add(day.year)
                    log.warning(
                        "chinese-calendar does not cover %s: counting weekends only (plus config.yml "
                        "calendar overrides) for that year",
                        day.year,
                    )
        return day.weekday() < 5

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """The moment when `days` working days of working time have elapsed after `start`."""
        if days < 0:
            raise ValueError("days must not be negative")
        remaining = timedelta(days=days)
        cursor = self.local(start)
        while True:
            day = cursor.date()
            day_end = self.start_of(day + DAY)
            if self.is_workday(day):
                available = day_end - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
            cursor = day_end

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from `start` to `end` (zero when end is before start)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        cursor = self.local(start)
        end_local = self.local(end)
        while cursor < end_local:
            day = cursor.date()
            day_end = min(self.start_of(day + DAY), end_local)
            if self.is_workday(day):
                total += day_end - cursor
            cursor = day_end
        return total

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        return self.working_time_between(start, end).total_seconds() / 3600

    def working_days_between(self, start: datetime, end: datetime) -> float:
        return self.working_hours_between(start, end) / 24
