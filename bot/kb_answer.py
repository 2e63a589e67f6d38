"""Answers from the knowledge base (知识库) in the citizen's conversation.

A consultation (never a complaint or a suggestion, never an emergency: those are filed before this
is asked) that the knowledge base answers confidently gets the answer with its source and date and
「这个回答解决您的问题了吗？」. 已解决 records the consultation and closes it at once as a direct
answer; 没解决 goes on as any other draft, and the ticket keeps the entry that was offered.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.events import Event, Outcome, Reply
from tickets.errors import DomainError
from tickets.states import TicketType

if TYPE_CHECKING:
    from bot.conversation import Conversation

KB_OFFER = "kb_offer"  # state["step"] while the citizen is asked whether the answer solved it
QUESTION = "这个回答解决您的问题了吗？"
log = logging.getLogger(__name__)


async def offer(conv: Conversation, state: dict[str, Any]) -> Outcome | None:
    """The knowledge base's answer to the draft, or None (not a consultation, nothing confident)."""
    app, draft = conv.app, state["draft"]
    if not app.config.kb.enabled or draft.get("type") != TicketType.consultation or draft.get("kb_offered"):
        return None
    try:
        answer = await asyncio.to_thread(app.kb_search.best, draft["text"], app.now())
        if answer is None:
            hits = await asyncio.to_thread(app.kb_search.search, draft["text"], 1)
            await asyncio.to_thread(app.kb.record_miss, draft["text"], hits[0].entry.id if hits else None,
                                    hits[0].score if hits else None)
            return None
    except Exception:  # noqa: BLE001 - a broken index must not stop a citizen's consultation
        log.exception("knowledge-base search failed; the consultation goes on as a draft")
        return None
    entry = answer.entry
    draft["kb_entry"] = entry.id
    state["step"] = KB_OFFER
    day = app.policy.calendar.local(entry.updated_at).date()
    source = entry.source or conv.department_name(entry.department)
    text = (f"{entry.answer}\n\n来源：{source}（{conv.department_name(entry.department)}，{day:%Y-%m-%d} 更新）\n"
            f"{QUESTION}")
    buttons = [[{"text": "已解决", "data": f"kb:yes:{draft['id']}"},
                {"text": "没解决，转人工", "data": f"kb:no:{draft['id']}"}]]
    return Outcome([Reply(text, buttons)])


def is_live(data: list[str], state: dict[str, Any]) -> bool:
    draft = state.get("draft")
    return state.get("step") == KB_OFFER and draft is not None and len(data) == 3 and draft["id"] == data[2]


async def on_button(conv: Conversation, event: Event, state: dict[str, Any], parts: list[str]) -> Outcome:
    """已解决 closes it as a direct answer; 没解决 shows the draft to submit, as without the knowledge base."""
    if not is_live(parts, state):
        return Outcome([Reply("这个按钮已失效。", edit=True)], toast="这个按钮已失效。")
    draft = state["draft"]
    entry_id = int(draft["kb_entry"])
    if parts[1] == "yes":
        try:
            result = await asyncio.to_thread(conv.app.tickets.answer_directly, conv.submission(event, draft), entry_id)
        except DomainError as err:
            log.warning("direct answer refused: %s", err)
            return Outcome.refuse("暂时无法记录，请稍后再试。")
        state.pop("draft", None)
        state["step"] = "idle"
        done = Reply(f"{QUESTION}\n（已解决）", edit=True)
        return Outcome([done, Reply(f"感谢您的反馈，本次咨询已办结，记录编号：{result.ticket.number}。\n"
                                    "如还有其他问题，请直接描述。")], toast="已解决")
    draft["kb_offered"] = entry_id
    outcome = conv.next_question(state)
    outcome.replies.insert(0, Reply(f"{QUESTION}\n（没解决，转人工）", edit=True))
    outcome.replies.insert(1, Reply("好的，将为您转人工办理。请确认以下信息后提交，承办单位会看到刚才提供的答复。"))
    return outcome
