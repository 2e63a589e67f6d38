"""Time limits (办理时限) per type, overridable per department, and the deadlines they give."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tickets.states import TicketType
from tickets.workcalendar import WorkCalendar

DEFAULT_ANSWER_DAYS: dict[str, float] = {TicketType.consultation: 1, TicketType.complaint: 5, TicketType.suggestion: 15}


@dataclass(frozen=True)
class TimeLimits:
    accept_days: float = 1
    answer_days: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_ANSWER_DAYS))
    callback_days: float = 3
    callback_after_hours: float = 24  # 回访 is due this long after the answer, unless rated (issue 14)
    callback_attempts: int = 3  # unanswered callbacks before the ticket closes unrated
    max_extension_days: int = 10
    # department code -> type -> working days
    department_answer_days: dict[str, dict[str, float]] = field(default_factory=dict)

    def answer_days_for(self, ticket_type: str, department_code: str | None) -> float:
        override = self.department_answer_days.get(department_code or "", {})
        if ticket_type in override:
            return override[ticket_type]
        return self.answer_days[ticket_type]


@dataclass(frozen=True)
class Policy:
    """Everything time-dependent the transitions need: the calendar and the limits."""

    calendar: WorkCalendar
    limits: TimeLimits

    def accept_due(self, start: datetime) -> datetime:
        return self.calendar.add_working_days(start, self.limits.accept_days)

    def answer_due(self, start: datetime, ticket_type: str, department_code: str | None) -> datetime:
        days = self.limits.answer_days_for(ticket_type, department_code)
        return self.calendar.add_working_days(start, days)

    def extend(self, due: datetime, days: int) -> datetime:
        return self.calendar.add_working_days(due, days)

    def callback_due(self, answered_at: datetime) -> datetime:
        # The rating window is in calendar days: citizens rate on weekends too.
        return answered_at + timedelta(days=self.limits.callback_days)
