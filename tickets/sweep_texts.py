"""The sweeps' notices' wording (zh-CN), written once for both ways of recording them.

str.format templates: the Python path (tickets/sweeps.py) fills them per ticket, and on PostgreSQL
tickets/sweeps_sql.py compiles the same templates into SQL, so the two cannot word a notice
differently (tests/test_sweeps_sql.py compares them row for row).
"""

from __future__ import annotations

from tickets import notices

WHAT = "工单 {number}（{type}）{summary}"  # summary: "：" and the summary, or nothing
ACCEPT_REMINDER = "【签收提醒】{what}\n签收时限已过半，请于 {accept_due} 前签收。"
ACCEPT_OVERDUE = "【签收超时】{what}\n承办单位：{department}\n签收时限 {accept_due} 已过，仍未签收，请督促签收办理。"
ANSWER_REMINDER = "【答复提醒】{what}\n距答复时限不足 {lead} 个工作日，请于 {answer_due} 前答复。"
OVERDUE = "{heading}{what}\n承办单位：{department}\n答复时限 {answer_due}，{late}，仍未答复，请督促尽快办结。"
NO_HEAD = "\n（该单位未登记负责人）"  # appended where a department has no head and the dispatchers are told


def overdue_heading(level: int) -> str:
    return "【督办】" if level == 1 else f"【督办·第{level}级】"


def overdue_late(level: int, step: float) -> str:
    return "已超过答复时限" if level == 1 else f"超过答复时限已满 {(level - 1) * step:g} 个工作日"


def what(number: str, ticket_type: str, summary: str | None) -> str:
    """WHAT filled: the ticket's number, its type's label and, if any, "：" and the summary (the
    SQL twin is sweeps_sql.what)."""
    return WHAT.format(number=number, type=notices.type_zh(ticket_type), summary=f"：{summary}" if summary else "")
