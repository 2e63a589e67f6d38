"""What the NLU answers for one message (the attribute names of the ticket core's Prediction)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class NluPrediction:
    type: str
    type_confidence: float
    department: str | None
    department_confidence: float
    topic: str | None
    needs_review: bool
    urgent: bool = False
    entities: list[dict[str, Any]] = field(default_factory=list)
    type_scores: dict[str, float] = field(default_factory=dict)
    department_scores: dict[str, float] = field(default_factory=dict)
    topic_confidence: float = 0.0
    urgent_kind: str | None = None
    backend: str = "builtin"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public(self) -> dict[str, Any]:
        """The fields `hotline classify` prints."""
        keys = ("type", "type_confidence", "department", "department_confidence", "topic", "needs_review", "urgent",
                "entities")
        data = self.to_dict()
        return {k: data[k] for k in keys}
