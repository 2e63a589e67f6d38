"""Leadership statistics: one function (build_report) computes every figure; snapshots keep it cheap."""

from tickets.stats.periods import Period, date_range, iso_week, last_complete_week, parse_week
from tickets.stats.report import Ranking, build_report, city_trend
from tickets.stats.snapshots import take_missing_snapshots, take_snapshot

__all__ = ["Period", "Ranking", "build_report", "city_trend", "date_range", "iso_week", "last_complete_week", "parse_week",
           "take_missing_snapshots", "take_snapshot"]
