"""Texts (zh-CN) and buttons of the notices that transitions put in the outbox.

Button data is "<action>:<ticket number>[:<arg>]"; whoever presses one is checked again by the
domain, so a forged or stale button changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tickets.models import Reply, Ticket
from tickets.outbox import Buttons
from tickets.states import RATING_LABELS_ZH, TYPE_LABELS_ZH, Rating
from tickets.workcalendar import WorkCalendar


def fmt_time(calendar: WorkCalendar, moment: datetime | None) -> str:
    if not moment:
        return "—"
    t = calendar.local(moment)  # formatted by hand: strftime was a tenth of the catch-up sweep's Python
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"


TYPE_ZH: dict[str, str] = {str(kind): label for kind, label in TYPE_LABELS_ZH.items()}


def type_zh(ticket_type: str) -> str:
    return TYPE_ZH.get(ticket_type, ticket_type)


def ticket_card(ticket: Ticket, calendar: WorkCalendar, department_name: str | None = None) -> str:
    lines = [
        f"{'【紧急】' if ticket.urgent else ''}工单 {ticket.number}（{type_zh(ticket.type)}）",
        f"承办单位：{department_name or ticket.department_code or '待分派'}",
        f"诉求：{ticket.text[:300]}{'…' if len(ticket.text) > 300 else ''}",
    ]
    if ticket.location:
        lines.append(f"地点：{ticket.location}")
    if ticket.accept_due:
        lines.append(f"签收时限：{fmt_time(calendar, ticket.accept_due)}")
    if ticket.answer_due:
        lines.append(f"答复时限：{fmt_time(calendar, ticket.answer_due)}")
    return "\n".join(lines)


def department_buttons(number: str) -> Buttons:
    return [[{"text": "签收", "data": f"acc:{number}"}, {"text": "退单", "data": f"ret:{number}"}]]


def dispatcher_buttons(number: str, candidates: Sequence[tuple[str, str]]) -> Buttons:
    rows: Buttons = [[{"text": name, "data": f"route:{number}:{code}"}] for code, name in candidates[:3]]
    rows.append([{"text": "无效", "data": f"inv:{number}"}])
    return rows


def rating_buttons(number: str) -> Buttons:
    return [[{"text": RATING_LABELS_ZH[r], "data": f"rate:{number}:{r.value}"} for r in Rating]]


def answer_text(ticket: Ticket, reply: Reply, department_name: str) -> str:
    return (
        f"您的工单 {ticket.number} 已由{department_name}答复：\n{reply.text}\n\n"
        "请您对办理结果进行评价："
    )
