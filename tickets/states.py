"""Ticket types, states and the one table of legal transitions (DESIGN.md, "The ticket")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TicketType(StrEnum):
    consultation = "consultation"
    complaint = "complaint"
    suggestion = "suggestion"


TYPE_LABELS_ZH = {
    TicketType.consultation: "咨询",
    TicketType.complaint: "投诉",
    TicketType.suggestion: "建议",
}


class State(StrEnum):
    new = "new"
    assigned = "assigned"
    accepted = "accepted"
    answered = "answered"
    closed = "closed"
    returned = "returned"
    reopened = "reopened"
    invalid = "invalid"
    merged = "merged"


STATE_LABELS_ZH = {
    State.new: "待分派",
    State.assigned: "已派单",
    State.accepted: "已签收",
    State.answered: "已答复",
    State.closed: "已办结",
    State.returned: "已退单",
    State.reopened: "重办中",
    State.invalid: "无效",
    State.merged: "已并单",
}

OPEN_STATES = frozenset({State.new, State.assigned, State.accepted, State.returned, State.reopened})
# States in which the department owes the citizen an answer (the answer clock runs).
AWAITING_ANSWER = frozenset({State.assigned, State.accepted, State.reopened})
AWAITING_ANSWER_VALUES = sorted(s.value for s in AWAITING_ANSWER)  # for SQL's IN, in a stable order
FINAL_STATES = frozenset({State.closed, State.invalid, State.merged})


class Role(StrEnum):
    staff = "staff"
    head = "head"
    dispatcher = "dispatcher"
    leader = "leader"
    operator = "operator"  # 话务员: takes calls at the desk, makes phone callbacks
    kb_editor = "kb_editor"  # publishes knowledge-base entries (dispatchers may too)


ROLE_LABELS_ZH = {Role.staff: "承办人", Role.head: "部门负责人", Role.dispatcher: "派单员", Role.leader: "领导",
                  Role.operator: "话务员", Role.kb_editor: "知识库编辑"}


class Rating(StrEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    dissatisfied = "dissatisfied"


RATING_LABELS_ZH = {
    Rating.satisfied: "满意",
    Rating.basically_satisfied: "基本满意",
    Rating.dissatisfied: "不满意",
}


class ActorKind(StrEnum):
    citizen = "citizen"
    staff = "staff"
    system = "system"


class Who(StrEnum):
    """Who may make a transition."""

    system = "system"
    dispatcher = "dispatcher"
    department = "department"  # staff or head of the ticket's own department
    citizen = "citizen"  # the ticket's own citizen
    operator = "operator"  # a call-taker at the hotline centre's desk


@dataclass(frozen=True)
class Rule:
    sources: frozenset[State]
    target: State | None  # None: the state does not change (e.g. an extension request)
    who: frozenset[Who]


def _rule(sources: set[State], target: State | None, *who: Who) -> Rule:
    return Rule(frozenset(sources), target, frozenset(who))


# The one table of legal transitions. Every function in transitions.py looks itself up here.
TRANSITIONS: dict[str, Rule] = {
    "assign": _rule({State.new}, State.assigned, Who.system, Who.dispatcher),
    "accept": _rule({State.assigned}, State.accepted, Who.department),
    "answer": _rule({State.accepted, State.reopened}, State.answered, Who.department),
    "return": _rule({State.assigned, State.accepted}, State.returned, Who.department),
    # Dispatchers control every open ticket (issue 14), not only one a department sent back.
    "reroute": _rule({State.returned, State.assigned, State.accepted, State.reopened}, State.assigned, Who.dispatcher),
    "request_extension": _rule({State.accepted, State.reopened}, None, Who.department),
    "grant_extension": _rule({State.accepted, State.reopened}, None, Who.dispatcher),
    "refuse_extension": _rule({State.accepted, State.reopened}, None, Who.dispatcher),
    "rate": _rule({State.answered}, State.closed, Who.citizen),
    "reopen": _rule({State.answered}, State.reopened, Who.citizen, Who.dispatcher),
    "close": _rule({State.answered}, State.closed, Who.dispatcher),
    "auto_close": _rule({State.answered}, State.closed, Who.system),
    "invalidate": _rule({State.new, State.returned}, State.invalid, Who.dispatcher),
    "merge": _rule(set(OPEN_STATES), State.merged, Who.dispatcher),
    # Settled at first contact, before any department is involved: a consultation answered from the
    # knowledge base (the citizen's 已解决, or the call-taker's 已直接答复), or an emergency handed to
    # 110/119/120. One transition for both; `close_reason` tells them apart.
    "close_at_once": _rule({State.new}, State.closed, Who.citizen, Who.operator, Who.dispatcher),
    # The hotline centre's desk (issue 14). A repeat contact adds to a ticket still being handled
    # or waiting for its rating; the callback's result moves the ticket as the citizen's rating does.
    "add_contact": _rule(set(OPEN_STATES) | {State.answered}, None, Who.citizen, Who.operator, Who.dispatcher),
    "callback": _rule({State.answered}, None, Who.operator),
    "retype": _rule(set(OPEN_STATES), None, Who.dispatcher),
    "mark_urgent": _rule(set(OPEN_STATES), None, Who.dispatcher, Who.operator),
    "supervise": _rule(set(AWAITING_ANSWER), None, Who.dispatcher),
    "acknowledge_supervision": _rule(set(AWAITING_ANSWER), None, Who.department),
}


class CloseReason(StrEnum):
    rated = "rated"
    unrated = "unrated"
    dispatcher = "dispatcher"
    direct_answer = "direct_answer"  # 直接答复: answered from the knowledge base at first contact
    transferred = "transferred"  # 紧急转办: handed to 110/119/120


CLOSE_REASON_LABELS_ZH = {
    CloseReason.rated: "已评价",
    CloseReason.unrated: "未评价",
    CloseReason.dispatcher: "派单员办结",
    CloseReason.direct_answer: "直接答复",
    CloseReason.transferred: "紧急转办",
}
# Closed at first contact: they count for the city, not in any department's figures.
AT_ONCE_REASONS = frozenset({CloseReason.direct_answer, CloseReason.transferred})
EMERGENCY_SERVICES = {"110": "公安报警", "119": "消防", "120": "急救"}

ACTION_LABELS_ZH = {
    "submit": "受理",
    "assign": "派单",
    "accept": "签收",
    "answer": "答复",
    "return": "退单",
    "reroute": "改派",
    "request_extension": "申请延期",
    "grant_extension": "同意延期",
    "refuse_extension": "不同意延期",
    "rate": "评价",
    "reopen": "重办",
    "close": "办结",
    "auto_close": "自动办结（未评价）",
    "invalidate": "无效",
    "merge": "并单",
    "close_at_once": "当即办结",
    "add_contact": "重复来电",
    "callback": "电话回访",
    "retype": "改类型",
    "mark_urgent": "标记紧急",
    "supervise": "督办",
    "acknowledge_supervision": "督办已阅",
}

CALLBACK_RESULTS = ("satisfied", "basically_satisfied", "dissatisfied", "no_answer")
CALLBACK_RESULT_LABELS_ZH = {**{r.value: label for r, label in RATING_LABELS_ZH.items()}, "no_answer": "未接通"}
