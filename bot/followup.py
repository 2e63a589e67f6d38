"""After filing: a citizen's tickets, one ticket's status, and the rating of an answer
(满意 / 基本满意 close it; 不满意 asks why and reopens it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from bot import texts
from bot.desk import Desk
from bot.events import Buttons, Event, Outcome, Reply
from hotline.bootstrap import App
from tickets.errors import DomainError
from tickets.models import Staff, Ticket
from tickets.notices import fmt_time, type_zh
from tickets.states import RATING_LABELS_ZH, STATE_LABELS_ZH, Rating, State

IDLE, RATE_REASON = "idle", "rate_reason"
T = TypeVar("T")


async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(func, *args, **kwargs)


async def citizen_of(app: App, event: Event, state: dict[str, Any]) -> int:
    """The citizen behind this chat user, remembered in the conversation state."""
    if "citizen_id" not in state:
        state["citizen_id"] = await run(app.tickets.citizen_id, event.channel, event.user_id)
    return int(state["citizen_id"])


class FollowUp:
    def __init__(self, app: App, desk: Desk) -> None:
        self.app = app
        self.desk = desk

    def department_name(self, code: str | None) -> str:
        return self.desk.department_name(code)

    async def explain(self, err: DomainError) -> str:
        return await self.desk.explain(err)

    async def my_tickets(self, event: Event, state: dict[str, Any]) -> Outcome:
        """The citizen's own tickets, newest first, each with a button to its status."""
        me = await citizen_of(self.app, event, state)
        found = await run(self.app.tickets.find, citizen_id=me, limit=10)
        if not found:
            return Outcome.say(texts.NO_TICKETS)
        calendar = self.app.policy.calendar
        lines = ["您最近的工单："]
        for t in found:
            lines.append(
                f"{t.number}｜{type_zh(t.type)}｜{STATE_LABELS_ZH[State(t.state)]}｜{self.department_name(t.department_code)}"
                + (f"｜答复时限 {fmt_time(calendar, t.answer_due)}" if t.answer_due and t.state != State.closed else "")
            )
        lines.append("选择下方的工单查看详情，或发送：/status 工单号")
        return Outcome.say("\n".join(lines), self.status_buttons(found[:5]))

    def status_buttons(self, found: list[Ticket]) -> Buttons:
        return [[{"text": f"查看 {t.number}（{STATE_LABELS_ZH[State(t.state)]}）", "data": f"status:{t.number}"}]
                for t in found]

    async def status(self, event: Event, state: dict[str, Any], staff: Staff | None) -> Outcome:
        """/status NUMBER; without a number, the citizen's recent tickets to choose from."""
        number = event.args.strip().split(" ")[0] if event.args.strip() else ""
        if number:
            return await self.status_of(event, state, staff, number)
        me = await citizen_of(self.app, event, state)
        found = await run(self.app.tickets.find, citizen_id=me, limit=5)
        if not found:
            return Outcome.say(texts.NO_TICKETS)
        return Outcome.say("请选择要查询的工单（也可以发送：/status 工单号）：", self.status_buttons(found))

    async def status_of(self, event: Event, state: dict[str, Any], staff: Staff | None, number: str) -> Outcome:
        """One ticket, only to its own citizen (or to hotline staff)."""
        me = await citizen_of(self.app, event, state)
        try:
            ticket = await run(self.app.tickets.get, number)
        except DomainError:
            ticket = None
        if ticket is None or (ticket.citizen_id != me and not self.desk.may_see(staff, ticket)):
            return Outcome.say(f"没有找到您名下的工单 {number}。")
        calendar = self.app.policy.calendar
        lines = [
            f"{'【紧急】' if ticket.urgent else ''}工单 {ticket.number}（{type_zh(ticket.type)}）",
            f"状态：{STATE_LABELS_ZH[State(ticket.state)]}",
            f"承办单位：{self.department_name(ticket.department_code)}",
            f"受理时间：{fmt_time(calendar, ticket.created_at)}",
            f"诉求：{ticket.summary}",
        ]
        if ticket.answer_due and ticket.state in (State.assigned, State.accepted, State.reopened):
            lines.append(f"答复时限：{fmt_time(calendar, ticket.answer_due)}")
        replies = await run(self.app.tickets.replies, ticket.number)
        if replies:
            lines.append(f"最新答复（{fmt_time(calendar, replies[-1].at)}）：{replies[-1].text}")
        buttons: Buttons = []
        if ticket.state == State.answered and ticket.citizen_id == me:
            buttons = [[{"text": RATING_LABELS_ZH[r], "data": f"rate:{ticket.number}:{r.value}"} for r in Rating]]
            lines.append("请对办理结果进行评价：")
        return Outcome.say("\n".join(lines), buttons)

    # -- rating ------------------------------------------------------------------------------
    async def rate(self, event: Event, state: dict[str, Any], number: str, rating: str) -> Outcome:
        """满意 / 基本满意 close the ticket; 不满意 asks why, then reopens it."""
        me = await citizen_of(self.app, event, state)
        try:
            if rating == Rating.dissatisfied:
                await run(self.app.tickets.may, "reopen", number, citizen_id=me)
                state["step"], state["subject"] = RATE_REASON, number
                skip = [[{"text": "不说明原因，直接提交", "data": f"noreason:{number}"}]]
                return Outcome([Reply(texts.ASK_RATING_REASON, skip)], toast="请说明原因")
            ticket = await run(self.app.tickets.rate, number, me, rating)
        except DomainError as err:
            return Outcome.refuse(await self.explain(err))
        label = RATING_LABELS_ZH[Rating(rating)]
        return Outcome(
            [Reply(f"{await self.answered(ticket)}\n\n您的评价：{label}", edit=True),
             Reply(texts.THANKS_RATING.format(rating=label, number=ticket.number))],
            toast="感谢评价",
        )

    async def answered(self, ticket: Ticket) -> str:
        """The department's latest answer, as its notice said it: what the pressed message showed.
        Built from the ticket, not from the pressed message, whose text a channel may not have
        (a web page after a reload, a Telegram message older than 48 hours)."""
        replies = await run(self.app.tickets.replies, ticket.number)
        if not replies:
            return f"工单 {ticket.number}"
        name = self.department_name(replies[-1].department_code or ticket.department_code)
        return f"您的工单 {ticket.number} 已由{name}答复：\n{replies[-1].text}"

    async def rate_reason(self, event: Event, state: dict[str, Any], skipped: str | None = None) -> Outcome:
        """The reason for 不满意: the ticket goes back to the department (重办)."""
        number = state.get("subject")
        if number is None or (skipped is not None and skipped != number):
            return Outcome.refuse("这个按钮已失效。")
        me = await citizen_of(self.app, event, state)
        comment = None if skipped is not None else event.text.strip()[:1000]
        try:
            ticket = await run(self.app.tickets.rate, number, me, Rating.dissatisfied, comment)
        except DomainError as err:
            state["step"] = IDLE
            return Outcome.refuse(await self.explain(err))
        state["step"] = IDLE
        state.pop("subject", None)
        due = fmt_time(self.app.policy.calendar, ticket.answer_due)
        return Outcome.say(f"已记录您的意见。工单 {ticket.number} 已转回{self.department_name(ticket.department_code)}重新办理，"
                           f"须在 {due} 前再次答复您。")
