"""The classifier port that intake calls, and the keyword router that serves until NLU is trained."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tickets.states import TicketType


class Prediction(Protocol):
    type: str
    type_confidence: float
    department: str | None
    department_confidence: float
    topic: str | None
    needs_review: bool
    urgent: bool
    entities: list[dict[str, Any]]


class Classifier(Protocol):
    def classify(self, text: str) -> Prediction: ...


@dataclass
class Classification:
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


@dataclass(frozen=True)
class DepartmentKeywords:
    code: str
    topic: str
    keywords: Sequence[str]


_TYPE_CUES: Mapping[str, Sequence[str]] = {
    TicketType.consultation: ("咨询", "请问", "如何", "怎么办理", "怎样", "能否", "是否可以", "需要什么", "在哪里办", "什么时候", "多少钱"),
    TicketType.suggestion: ("建议", "希望能", "提议", "能不能增设", "增设", "增加一条", "呼吁"),
    TicketType.complaint: ("投诉", "举报", "求助", "反映", "扰民", "严重", "没人管", "不处理", "乱", "拖欠", "投诉"),
}

_URGENT = re.compile(r"着火|失火|火灾|起火|冒烟|煤气泄漏|燃气泄漏|有人受伤|受伤流血|昏迷|抢劫|持刀|拿刀|砍人|正在打人|打起来了|被困|溺水|爆炸|晕倒|没有呼吸|没呼吸了")


class KeywordRouter:
    """Routes by config.yml's department keywords and guesses the type from cue words.

    It is deliberately simple and transparent: a city can start with it before any model exists.
    """

    def __init__(self, departments: Sequence[DepartmentKeywords], threshold: float = 0.5) -> None:
        self.departments = list(departments)
        self.threshold = threshold

    def classify(self, text: str) -> Classification:
        hits = {d.code: sum(text.count(k) for k in d.keywords) for d in self.departments}
        total = sum(hits.values())
        scores = {code: (n / total if total else 0.0) for code, n in hits.items()}
        best = max(scores, key=lambda c: scores[c]) if total else None
        dep_conf = scores[best] if best else 0.0
        # Fewer than two keyword hits is thin evidence, however lopsided.
        if best and total < 2:
            dep_conf = min(dep_conf, 0.49)
        type_hits = {t: sum(text.count(c) for c in cues) for t, cues in _TYPE_CUES.items()}
        type_total = sum(type_hits.values())
        if type_total:
            type_scores = {t: n / type_total for t, n in type_hits.items()}
        else:
            type_scores = {TicketType.complaint: 0.5, TicketType.consultation: 0.3, TicketType.suggestion: 0.2}
        ticket_type = max(type_scores, key=lambda t: type_scores[t])
        topic = next((d.topic for d in self.departments if d.code == best), None)
        return Classification(
            type=str(ticket_type),
            type_confidence=type_scores[ticket_type],
            department=best,
            department_confidence=dep_conf,
            topic=topic,
            needs_review=best is None or dep_conf < self.threshold,
            urgent=bool(_URGENT.search(text)),
            type_scores={str(k): v for k, v in type_scores.items()},
            department_scores=scores,
        )
