"""The conversation's questions about the citizen (issue 14), kept apart from conversation.py:
a phone number when none is known and the ticket needs a reply, confidentiality (保密), and
「这是关于工单 N 的补充吗？」 when the citizen writes again about one of their open tickets."""

from __future__ import annotations

import re
from typing import Any

from bot.events import Buttons, Event, Outcome, Reply
from bot.followup import citizen_of, run
from hotline.bootstrap import App
from tickets.errors import DomainError
from tickets.states import TicketType

PHONE_ONLY = re.compile(r"(?:\+?86)?(1[3-9]\d{9}|0\d{2,3}\d{7,8})")
PHONE_HINT = "为便于答复和电话回访，请直接发送您的手机号码（不便提供可不留）。"
TICKET_NUMBER = re.compile(r"(?<!\d)(\d{8}-\d{4,})(?!\d)")
ASK_PHONE = {
    "telegram": "承办单位需要答复您，也可能电话回访。请输入您的手机号码，或点下方按钮分享联系方式；不便提供可点“跳过”。",
    "web": "承办单位需要答复您，也可能电话回访。请输入您的手机号码（11 位）或带区号的座机号；不便提供可点“跳过”。",
}
JOIN_QUESTION = "您有一张未办结的工单 {number}（{summary}）。这是关于工单 {number} 的补充吗？"
JOINED = "已作为补充加入工单 {number}（第 {count} 次来电/来信），承办单位会收到通知。查询进度：/status {number}"
SECRET_ON = "已设为保密：您的姓名和电话不会提供给承办单位。"
CLOSED_MEANWHILE = "工单 {number} 已办结，无法补充；将为您登记为新的诉求。"
# A reply is owed for these (a suggestion is acknowledged, not necessarily answered to the person).
NEEDS_REPLY = (TicketType.consultation, TicketType.complaint)


def needs_phone(draft: dict[str, Any]) -> bool:
    """A reply is owed and the hotline has no number to phone the citizen back on."""
    owed = draft.get("wants_callback") or draft.get("type") in NEEDS_REPLY
    return bool(owed) and not draft.get("phone") and not draft.get("known_phone")


def phone_hint(draft: dict[str, Any]) -> str:
    """The card asks for the number on its own line (no extra step): sending it records it,
    submitting without it declines."""
    return "\n" + PHONE_HINT if needs_phone(draft) else ""


def take_phone(draft: dict[str, Any], text: str) -> bool:
    """A message that is only a phone number, sent while the card is shown, is the contact phone."""
    candidate = re.sub(r"[\s\-]", "", text)
    if not PHONE_ONLY.fullmatch(candidate):
        return False
    draft["phone"] = candidate
    return True


async def look_up_citizen(app: App, event: Event, state: dict[str, Any], draft: dict[str, Any], text: str) -> Any:
    """What the hotline knows of the citizen writing a new draft, read in one step: the phone it has
    for them (so that they are not asked again) and their own open ticket this text is about (the
    number they gave, or one the similar-message search calls a duplicate), or None."""
    citizen_id, phone, open_tickets = await run(app.tickets.citizen_overview, event.channel, event.user_id)
    state["citizen_id"] = citizen_id
    draft["known_phone"] = phone
    own = {t.number: t for t in open_tickets}
    if not own:
        return None
    given = TICKET_NUMBER.search(text)
    if given and given.group(1) in own:
        return own[given.group(1)]
    try:
        # among their own: in a citywide outage fifty others' tickets could outrank the citizen's own
        found = await run(app.tickets.similar, text=text, limit=len(own), among=list(own))
    except DomainError:
        return None
    for hit in found:
        if hit.duplicate and hit.number in own:
            return own[hit.number]
    return None


def join_question(draft: dict[str, Any], ticket: Any) -> Outcome:
    d = draft["id"]
    buttons: Buttons = [[{"text": "是，补充到该工单", "data": f"c:join:{d}:{ticket.number}"}],
                        [{"text": "不是，这是新的诉求", "data": f"c:new:{d}"}]]
    return Outcome([Reply(JOIN_QUESTION.format(number=ticket.number, summary=ticket.summary[:30]), buttons)])


async def join(app: App, event: Event, state: dict[str, Any], draft: dict[str, Any], number: str) -> Outcome | None:
    """The citizen's yes: their words become a repeat contact of that ticket, not a new ticket.
    None when it can no longer take one (closed meanwhile): the words go on as a new draft."""
    citizen_id = await citizen_of(app, event, state)
    try:
        await run(app.tickets.add_contact, number, draft["text"], event.channel, citizen_id=citizen_id)
        count = await run(app.tickets.contact_count, number)
    except DomainError:
        return None
    state.pop("draft", None)
    return Outcome([Reply(JOINED.format(number=number, count=count), edit=True)], toast="已补充")
