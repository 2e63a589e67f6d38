"""The counts behind every figure, and the rates derived from them (docs/DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

COUNT_FIELDS = ("received", "assigned", "returned", "accepted_in_time", "answered", "answered_on_time",
                "closed", "rated", "satisfied", "consultations", "consultations_assigned", "direct_answers",
                "transferred", "handling_hours")


@dataclass
class Counts:
    """Additive counts: the contributions of tickets, summed over days, departments or types."""

    received: int = 0
    assigned: int = 0
    returned: int = 0
    accepted_in_time: int = 0
    answered: int = 0
    answered_on_time: int = 0
    closed: int = 0
    rated: int = 0
    satisfied: int = 0
    consultations: int = 0  # consultations received (the city's denominator of direct_answer_rate)
    consultations_assigned: int = 0  # consultations assigned to a department (its denominator, with its direct answers)
    direct_answers: int = 0  # 直接答复: closed at first contact from the knowledge base
    transferred: int = 0  # 紧急转办: handed to 110/119/120
    handling_hours: float = 0.0  # sum of working hours from creation to first answer
    overdue: int = 0  # not additive over days: the tickets overdue at the period's end

    def add(self, other: Any) -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_department(self) -> Counts:
        """A department's received (受理量) is what was assigned (派) to it."""
        copy = Counts(**{f.name: getattr(self, f.name) for f in fields(self)})
        copy.received = self.assigned
        # Settled at first contact, a department's direct answers never reached its queue: they
        # count beside its consultations, not in its received.
        copy.consultations = self.consultations_assigned + self.direct_answers
        return copy

    def figures(self) -> dict[str, Any]:
        """The JSON figures of DESIGN.md: counts, and rates as fractions (None when undefined)."""
        for name in COUNT_FIELDS[:-1]:  # taking contributions back sums floats; counts are whole
            setattr(self, name, round(getattr(self, name)))
        return {
            "received": self.received,
            "accepted_in_time": self.accepted_in_time,
            "response_rate": ratio(self.accepted_in_time, self.received),
            "closed": self.closed,
            "closure_rate": ratio(self.closed, self.received),
            "answered": self.answered,
            "answered_on_time": self.answered_on_time,
            "on_time_rate": ratio(self.answered_on_time, self.answered),
            "rated": self.rated,
            "satisfied": self.satisfied,
            "satisfaction_rate": ratio(self.satisfied, self.rated),
            "rating_rate": ratio(self.rated, self.answered),
            "mean_handling_hours": None if not self.answered else round(self.handling_hours / self.answered, 2),
            "overdue": self.overdue,
            "assigned": self.assigned,
            "returned": self.returned,
            "return_rate": ratio(self.returned, self.assigned),
            "consultations": self.consultations,
            "direct_answers": self.direct_answers,
            "direct_answer_rate": ratio(self.direct_answers, self.consultations),
            "transferred": self.transferred,
        }


def ratio(numerator: float, denominator: float) -> float | None:
    return None if not denominator else round(numerator / denominator, 4)


FIGURE_NAMES = tuple(Counts().figures())
RATE_NAMES = ("response_rate", "closure_rate", "on_time_rate", "satisfaction_rate", "rating_rate", "return_rate",
              "direct_answer_rate")
