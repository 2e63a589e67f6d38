"""The staff side of the conversation: departments accept, answer and return tickets; dispatchers
route, re-route and mark spam; leaders read the weekly report.

Every press and command is checked again by the domain (TicketService), so a forged or stale
button, or a person of another department, is refused and changes nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from bot import texts
from bot.events import Event, Outcome, Reply
from hotline.bootstrap import App
from tickets.directory import Directory
from tickets.errors import DomainError, NotFound, TransitionNotAllowed
from tickets.models import Staff, Ticket
from tickets.notices import fmt_time, type_zh
from tickets.states import ROLE_LABELS_ZH, STATE_LABELS_ZH, Role, State

T = TypeVar("T")
WeeklyReport = Callable[[App, datetime], tuple[str, list[Path]]]
NUMBER = re.compile(r"\d{8}-\d{4,}")
RETURN_REASON = "return_reason"
DEPARTMENT_ROLES = (Role.staff, Role.head)


async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(func, *args, **kwargs)


def plain_weekly(app: App, now: datetime) -> tuple[str, list[Path]]:
    """Until the statistics module reports: open tickets counted by state and department."""
    by_department: dict[str | None, dict[str, int]] = {}
    for code, state, n in app.tickets.counts():
        by_department.setdefault(code, {})[state] = n
    lines = [f"{app.config.city.name}12345热线工单统计（截至 {fmt_time(app.policy.calendar, now)}）"]
    total: dict[str, int] = {}
    for code, states in sorted(by_department.items(), key=lambda item: -sum(item[1].values())):
        department = app.config.department(code) if code else None
        name = department.name if department else "待分派"
        parts = "，".join(f"{STATE_LABELS_ZH[State(s)]} {n}" for s, n in sorted(states.items()))
        lines.append(f"{name}：{parts}")
        for s, n in states.items():
            total[s] = total.get(s, 0) + n
    lines.insert(1, "全市：" + ("，".join(f"{STATE_LABELS_ZH[State(s)]} {n}" for s, n in sorted(total.items())) or "暂无工单"))
    return "\n".join(lines), []


def urgent_mark(ticket: Ticket) -> str:
    """Urgent tickets (the NLU's `urgent`: the citizen was sent to 110/119/120) stand out to staff."""
    return "【紧急】" if ticket.urgent else ""


class Desk:
    def __init__(self, app: App, weekly: WeeklyReport | None = None) -> None:
        self.app = app
        self.directory = Directory(app.engine)
        self.weekly_report = weekly or plain_weekly

    async def staff_of(self, event: Event) -> Staff | None:
        """Staff act through Telegram; the web chat is for citizens only."""
        if event.channel != "telegram":
            return None
        return await run(self.directory.by_telegram_id, event.user_id)

    def help_for(self, staff: Staff) -> str:
        where = f"{self.department_name(staff.department_code)}" if staff.department_code else "热线中心"
        role = ROLE_LABELS_ZH.get(Role(staff.role), staff.role)
        extra = {Role.dispatcher: texts.DISPATCHER_HELP, Role.leader: texts.LEADER_HELP}.get(Role(staff.role), texts.STAFF_HELP)
        return f"您的身份：{where} {role}（{staff.name}）\n{extra}"

    def may_see(self, staff: Staff | None, ticket: Ticket) -> bool:
        if staff is None:
            return False
        if staff.role in (Role.dispatcher, Role.leader):
            return True
        return staff.department_code is not None and staff.department_code == ticket.department_code

    def department_name(self, code: str | None) -> str:
        department = self.app.config.department(code) if code else None
        return department.name if department else (code or "待分派")

    async def explain(self, err: DomainError) -> str:
        state = None
        if isinstance(err, TransitionNotAllowed):
            try:
                state = (await run(self.app.tickets.get, err.number)).state
            except NotFound:
                state = None
        return texts.refusal(err, state)

    # -- messages and commands ----------------------------------------------------------------
    async def on_message(self, event: Event, state: dict[str, Any], staff: Staff) -> Outcome:
        if state.get("step") == RETURN_REASON and event.kind == "text":
            return await self.return_reason(event, state, staff)
        found = NUMBER.search(event.reply_to_text or "")
        if found and event.kind == "text":
            return await self.answer(event, staff, found.group(0), event.text)
        if not event.private:
            return Outcome()
        return Outcome.say("您是热线工作人员。" + self.help_for(staff))

    async def on_command(self, event: Event, state: dict[str, Any], staff: Staff | None) -> Outcome | None:
        if event.command == "join":
            return await self.join(event)
        if event.command == "answer":
            if staff is None:
                return Outcome.say(texts.NOT_STAFF)
            number, _, text = event.args.strip().partition(" ")
            if not NUMBER.fullmatch(number) or not text.strip():
                return Outcome.say("用法：/answer 工单号 答复内容")
            return await self.answer(event, staff, number, text)
        if event.command in ("inbox", "review"):
            return await self.inbox(event, staff)
        if event.command == "weekly":
            return await self.weekly(event, staff)
        return None

    async def join(self, event: Event) -> Outcome:
        """/join CODE: a one-time code from `hotline staff invite` makes this person staff."""
        if event.channel != "telegram":
            return Outcome.say("工作人员请通过 Telegram 加入。")
        code = event.args.strip()
        if not code:
            return Outcome.say("用法：/join 邀请码（由管理员用 hotline staff invite 生成）")
        try:
            staff = await run(self.directory.redeem, code, event.name or f"用户{event.user_id}", event.user_id, self.app.now())
        except DomainError as err:
            return Outcome.say(texts.refusal(err))
        return Outcome.say("欢迎加入！" + self.help_for(staff))

    async def answer(self, event: Event, staff: Staff, number: str, text: str) -> Outcome:
        """The department's answer goes to the citizen (with rating buttons)."""
        assert staff.id is not None
        try:
            ticket = await run(self.app.tickets.answer, number, staff.id, text)
        except DomainError as err:
            return Outcome.refuse(await self.explain(err))
        return Outcome.say(f"已答复工单 {ticket.number}，群众将收到答复并进行评价。")

    async def inbox(self, event: Event, staff: Staff | None) -> Outcome:
        """A department's open tickets, overdue first; a dispatcher's tickets needing review."""
        if staff is None:
            return Outcome.say(texts.NOT_STAFF)
        calendar, now = self.app.policy.calendar, self.app.now()
        if staff.role == Role.dispatcher:
            found = [t for s in (State.new, State.returned) for t in await run(self.app.tickets.find, state=s.value)]
            if not found:
                return Outcome.say("没有待分派的工单。")
            found.sort(key=lambda t: not t.urgent)  # emergencies first, then as before (newest first)
            lines = [f"待分派 {len(found)} 张（紧急在前）："] + [
                f"{urgent_mark(t)}{t.number}｜{STATE_LABELS_ZH[State(t.state)]}｜{type_zh(t.type)}｜{t.summary}"
                for t in found[:30]
            ]
            return Outcome.say("\n".join(lines))
        if staff.role not in DEPARTMENT_ROLES or not staff.department_code:
            return Outcome.say(texts.LEADER_HELP)
        found = [
            t for t in await run(self.app.tickets.find, department=staff.department_code, open_only=True)
            if t.state in (State.assigned, State.accepted, State.reopened)
        ]
        if not found:
            return Outcome.say(f"{self.department_name(staff.department_code)}目前没有待办工单。")
        far = datetime.max.replace(tzinfo=now.tzinfo)
        found.sort(key=lambda t: t.answer_due or far)
        lines = [f"{self.department_name(staff.department_code)}待办 {len(found)} 张（超期在前）："]
        for t in found[:30]:
            overdue = "【超期】" if t.answer_due and t.answer_due < now else ""
            lines.append(
                f"{overdue}{urgent_mark(t)}{t.number}｜{STATE_LABELS_ZH[State(t.state)]}｜答复时限 {fmt_time(calendar, t.answer_due)}｜{t.summary}"
            )
        return Outcome.say("\n".join(lines))

    async def weekly(self, event: Event, staff: Staff | None) -> Outcome:
        """Leaders' (and dispatchers') weekly report, with its charts."""
        if staff is None or staff.role not in (Role.leader, Role.dispatcher):
            return Outcome.say(texts.NOT_LEADER)
        text, images = await run(self.weekly_report, self.app, self.app.now())
        return Outcome([Reply(text, photos=[str(p) for p in images])])

    # -- buttons on notices -------------------------------------------------------------------
    async def on_button(self, event: Event, state: dict[str, Any], staff: Staff | None, parts: list[str]) -> Outcome | None:
        action = parts[0]
        if action not in ("acc", "ret", "route", "inv", "extok", "extno") or len(parts) < 2:
            return None
        if staff is None or staff.id is None:
            return Outcome.refuse(texts.NOT_STAFF)
        number = parts[1]
        try:
            if action == "acc":
                ticket = await run(self.app.tickets.accept, number, staff.id)
                return self.accepted(event, staff, ticket)
            if action == "ret":
                await run(self.app.tickets.may, "return", number, staff_id=staff.id)
                state["step"], state["subject"] = RETURN_REASON, number
                return Outcome([Reply(f"退回工单 {number}：" + texts.ASK_RETURN_REASON)], toast="请填写退单理由")
            if action == "route" and len(parts) == 3:
                return await self.route(event, staff, number, parts[2])
            if action == "inv":
                await run(self.app.tickets.invalidate, number, staff.id, "派单员标记为无效（骚扰或非热线受理范围）")
                return self.edited(event, "🚫 已标记为无效", "已标记无效")
            if action == "extok":
                await run(self.app.tickets.grant_extension, number, staff.id)
                return self.edited(event, "✅ 已同意延期", "已同意延期")
            if action == "extno":
                await run(self.app.tickets.refuse_extension, number, staff.id)
                return self.edited(event, "❌ 不同意延期", "已不同意延期")
        except DomainError as err:
            return Outcome.refuse(await self.explain(err))
        return None

    def edited(self, event: Event, note: str, toast: str, buttons: list[list[dict[str, str]]] | None = None) -> Outcome:
        """Mark the notice whose button was pressed as done, so nobody presses it again."""
        text = (event.reply_to_text or "").strip()
        return Outcome([Reply(f"{text}\n\n{note}".strip(), buttons or [], edit=True)], toast=toast)

    def accepted(self, event: Event, staff: Staff, ticket: Ticket) -> Outcome:
        due = fmt_time(self.app.policy.calendar, ticket.answer_due)
        outcome = self.edited(event, f"✅ {staff.name} 已签收", "已签收",
                              buttons=[[{"text": "退单", "data": f"ret:{ticket.number}"}]])
        outcome.replies.append(Reply(
            f"{urgent_mark(ticket)}已签收工单 {ticket.number}，请在 {due} 前答复：直接回复那条工单消息，或发送 /answer {ticket.number} 答复内容。"
        ))
        return outcome

    async def route(self, event: Event, staff: Staff, number: str, department: str) -> Outcome:
        """A dispatcher sends a new ticket to a department, or a returned one to another."""
        assert staff.id is not None
        ticket = await run(self.app.tickets.get, number)
        if ticket.state == State.returned:
            ticket = await run(self.app.tickets.reroute, number, staff.id, department)
        else:
            ticket = await run(self.app.tickets.assign, number, staff.id, department)
        return self.edited(event, f"➡️ 已分派至{self.department_name(ticket.department_code)}", "已分派")

    async def return_reason(self, event: Event, state: dict[str, Any], staff: Staff) -> Outcome:
        """The reason for 退单: the ticket goes back to the dispatchers."""
        assert staff.id is not None
        number = state.pop("subject", "")
        state["step"] = "idle"
        try:
            ticket = await run(self.app.tickets.return_ticket, number, staff.id, event.text)
        except DomainError as err:
            return Outcome.refuse(await self.explain(err))
        return Outcome.say(f"工单 {ticket.number} 已退回派单员重新分派。理由：{event.text.strip()[:200]}")
