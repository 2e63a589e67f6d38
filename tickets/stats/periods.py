"""Report periods: an ISO week (Monday to Sunday, local days) or any range of local days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tickets.errors import InvalidInput

MIN_YEAR, MAX_YEAR = 2000, 2100
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    first: date  # first local day, inclusive
    last: date  # last local day, inclusive
    label: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def is_week(self) -> bool:
        return self.label == week_label(self.first) and self.days == 7 and self.first.isoweekday() == 1

    def previous(self) -> Period:
        if self.is_week:
            return iso_week(self.first - timedelta(days=7))
        last = self.first - timedelta(days=1)
        return date_range(last - timedelta(days=self.days - 1), last)

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "label": self.label}


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def iso_week(day: date) -> Period:
    monday = day - timedelta(days=day.isoweekday() - 1)
    return Period(monday, monday + timedelta(days=6), week_label(monday))


def parse_week(label: str) -> Period:
    match = _WEEK.match(label.strip())
    if not match:
        raise InvalidInput(f"expected an ISO week such as 2026-W47, got {label!r}")
    year, week = int(match.group(1)), int(match.group(2))
    if not MIN_YEAR <= year <= MAX_YEAR:  # 0001-W01 starts before date.min, 9999-W52 ends after date.max
        raise InvalidInput(f"{label!r}: the year must be {MIN_YEAR} to {MAX_YEAR}")
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError as err:
        raise InvalidInput(f"{label!r}: {year} has no week {week}") from err
    return iso_week(monday)


def date_range(first: date, last: date) -> Period:
    if last < first:
        raise InvalidInput(f"the period ends ({last}) before it starts ({first})")
    if (last - first).days > 3660:
        raise InvalidInput("a period may cover at most ten years")
    return Period(first, last, f"{first.isoformat()}~{last.isoformat()}")


def last_complete_week(today: date) -> Period:
    """The week the Monday report is about: the last ISO week that has ended by `today`."""
    return iso_week(today - timedelta(days=7))
