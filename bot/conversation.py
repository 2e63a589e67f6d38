"""The conversation, written once for every channel: an Event in, an Outcome (replies, buttons) out.

A citizen describes a problem; the bot shows what it understood and asks to confirm; missing facts
(where, a callback number) are asked for once; the ticket is submitted through TicketService.
Staff, dispatchers and leaders act through bot/desk.py. The per-person state is a plain JSON dict
that the adapter loads before and stores after each event.

States (state["step"]):
    idle        nothing under way
    confirm     a draft is shown with 提交 / 改类型 / 改部门 / 取消
    ask_place   asked once where it happened (text or a shared location)
    ask_phone   asked once for a callback number (text or a shared contact)
    rate_reason 不满意 was pressed; the next text is the reason, and the ticket reopens
    return_reason (staff) 退单 was pressed; the next text is the reason
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from bot import contact_details as details
from bot import kb_answer, texts
from bot.choices import TYPED_CHANNELS
from bot.desk import Desk, WeeklyReport
from bot.events import Buttons, Event, Outcome, Reply
from bot.followup import IDLE, RATE_REASON, FollowUp, citizen_of
from bot.wording import has_chinese, has_words, place_answer, typed_label
from hotline.bootstrap import App
from tickets.errors import DomainError, NotFound
from tickets.intake import CitizenRef, Submission
from tickets.models import Staff, Ticket
from tickets.notices import fmt_time, type_zh
from tickets.states import State, TicketType
from tickets.text import summarise

CONFIRM, ASK_PLACE, ASK_PHONE, RETURN_REASON = "confirm", "ask_place", "ask_phone", "return_reason"
T = TypeVar("T")
Known = tuple[str, Any] | None  # one text and the classifier's reading of it, passed along within one event
log = logging.getLogger(__name__)
# Over the flood limit, an emergency joins the urgent ticket filed this long ago or less (no new one).
URGENT_JOIN_SECONDS = 600
# Typed button labels are limited too, but a citizen clicks faster than they write.
LABEL_FLOOD_FACTOR = 3
KEEP_SUBMITTED = 5

PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
WANTS_CALLBACK = re.compile(r"回电|回个电话|打电话给我|给我打电话|电话联系|联系我|致电|回访我")
PLACE_LABELS = ("place", "location", "address", "loc", "gpe", "fac")
UNSURE = "none"  # 改部门 → 不确定: no department, a dispatcher decides


def remember_submitted(state: dict[str, Any], draft_id: str, number: str) -> None:
    """The last few drafts' ticket numbers: a spent 提交 pressed again shows its ticket, never 已失效."""
    submitted = state.setdefault("submitted", {})
    submitted[draft_id] = number
    for old in list(submitted)[:-KEEP_SUBMITTED]:
        del submitted[old]


def worded(question: dict[str, str], draft: dict[str, Any]) -> str:
    """A question in the words of the draft's channel (what to press or type differs)."""
    return question.get(draft.get("channel") or "web", question["web"])


async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The domain is synchronous (SQLAlchemy); keep the event loop free while it works."""
    return await asyncio.to_thread(func, *args, **kwargs)


class Conversation:
    def __init__(self, app: App, weekly: WeeklyReport | None = None) -> None:
        self.app = app
        self.desk = Desk(app, weekly)
        self.followup = FollowUp(app, self.desk)

    # -- entry point --------------------------------------------------------------------------
    async def handle(self, event: Event, state: dict[str, Any]) -> Outcome:
        """Answer one event; `state` is this person's conversation and is changed in place."""
        outcome = await self.dispatch(event, state)
        # A kept message's toast stays a toast: the web page shows it by its text box, and Telegram
        # stays silent rather than answer every message of a flood.
        if event.kind != "button" and outcome.toast and not outcome.replies and not outcome.keep_input:
            outcome.replies.append(Reply(outcome.toast))
        return outcome

    async def dispatch(self, event: Event, state: dict[str, Any]) -> Outcome:
        staff = await self.desk.staff_of(event)
        if event.kind == "button":
            return await self.on_button(event, state, staff)
        if event.kind == "command":
            return await self.on_command(event, state, staff)
        if not event.private and staff is None:
            return Outcome()  # chatter in a department's group is not for the bot
        if staff is not None:
            return self.flood(state) or await self.desk.on_message(event, state, staff)
        return await self.citizen(event, state)

    async def citizen(self, event: Event, state: dict[str, Any]) -> Outcome:
        """A citizen's message: too long is refused first; a button's words act as the button under
        their own limit; everything else is counted, then checked for an emergency, which is answered
        even over the limit."""
        text = event.text.strip() if event.kind in ("text", "photo") else ""
        limit = self.app.config.bot.max_message_chars
        if len(text) > limit:  # no emergency is that long; the refusal asks to shorten it
            return Outcome([Reply(texts.TOO_LONG.format(n=len(text), limit=limit))], keep_input=True)
        if event.kind == "text" and self.label_of(event, state) is not None:
            labels = LABEL_FLOOD_FACTOR * self.app.config.bot.flood_limit_per_minute
            return self.flood(state, "labels", labels) or await self.on_message(event, state)
        slow_down = self.flood(state)
        known = await self.read(text) if text else None
        if known is not None and known[1].urgent:
            return await self.emergency(event, state, text, known, throttled=slow_down is not None)
        return slow_down or await self.on_message(event, state, known)

    async def read(self, text: str) -> Known:
        """The classifier's reading for the emergency check; if the classifier fails, the message
        goes on (a typed 取消 or a callback number needs no classifier, and the path that does
        reports the failure as it always has)."""
        try:
            return text, await run(self.app.classifier.classify, text)
        except Exception:  # noqa: BLE001 - any backend failure (Rasa down, a broken model)
            log.exception("emergency check: the classifier failed; the message goes on unchecked")
            return None

    def label_of(self, event: Event, state: dict[str, Any]) -> str | None:
        """The button a typed text means, or None (read it as text: while a rating's reason is
        asked, only 取消 and 不说明原因 are buttons)."""
        label = typed_label(event.text)
        if label is not None and state.get("step") == RATE_REASON and label not in ("cancel", "noreason"):
            return None
        return label

    def flood(self, state: dict[str, Any], kind: str = "", limit: int | None = None) -> Outcome | None:
        """More than `limit` (the configured number) messages of a kind a minute: say so once, then
        a short toast (how long to wait) for each message until the minute is over."""
        now = self.app.now().timestamp()
        limit = limit or self.app.config.bot.flood_limit_per_minute
        key, warned = ("recent", "flood_warned") if not kind else (f"recent_{kind}", f"flood_warned_{kind}")
        recent = [t for t in state.get(key, []) if now - t < 60]
        if len(recent) >= limit:
            state[key] = recent
            if now - state.get(warned, 0) < 60:
                seconds = max(1, math.ceil(60 - (now - recent[0])))
                return Outcome(toast=texts.FLOOD_AGAIN.format(seconds=seconds, limit=limit), keep_input=True)
            state[warned] = now
            return Outcome([Reply(texts.FLOOD.format(limit=limit))], keep_input=True)
        state[key] = [*recent, now]
        return None

    async def on_message(self, event: Event, state: dict[str, Any], known: Known = None) -> Outcome:
        step = state.get("step", IDLE)
        if event.kind == "text":
            label = self.label_of(event, state)
            if label is not None:
                return await self.on_label(event, state, label)
            if step == ASK_PLACE:
                return await self.ask_place(event, state, known)
            if step == ASK_PHONE:
                return await self.ask_phone(event, state)
            if step == RATE_REASON:
                return await self.followup.rate_reason(event, state)
            return await self.describe(event, state, known)
        if event.kind == "photo":
            return await self.photo(event, state, known)
        if event.kind == "location":
            return await self.ask_place(event, state)
        if event.kind == "contact":
            return await self.ask_phone(event, state)
        fixed = {"sticker": texts.STICKER, "voice": texts.VOICE, "file": texts.FILE}
        return Outcome.say(fixed.get(event.kind, texts.OTHER))

    async def emergency(self, event: Event, state: dict[str, Any], text: str, known: Known,
                        throttled: bool) -> Outcome:
        """Every citizen's free text, whatever the bot is waiting for (a place, a number, a reason,
        a confirmation) or however fast it comes, is checked as a first message is: "着火了" in answer
        to "where?" must not become the place. An emergency is filed at once with the 110/119/120
        advice, joined to the draft under way if there is one; a rating's reason is recorded too.
        Over the flood limit the advice still comes, but the urgent ticket of the last minutes
        stands for it: a flood of alarms is one ticket."""
        rated = await self.followup.rate_reason(event, state) if state.get("step") == RATE_REASON else None
        filed = state.get("urgent_filed")
        now = self.app.now().timestamp()
        draft = state.get("draft")
        if event.kind == "photo" and event.file_ref:
            (draft["photos"] if draft is not None else state.setdefault("photos", [])).append(event.file_ref)
        if throttled and filed is not None and now - filed["at"] < URGENT_JOIN_SECONDS:
            outcome = Outcome.say(texts.URGENT_AGAIN.format(number=filed["number"]))
        elif draft is None:
            outcome = await self.start_draft(event, state, text, event.event_id, known)
        else:
            room = self.app.config.bot.max_message_chars - len(text) - 1  # the emergency's words are kept whole
            draft["text"] = f"{draft['text'][:max(0, room)]}\n{text}"
            await self.understand(draft)
            outcome = await self.submit_urgent(event, state)
        if rated is not None:
            outcome.replies += rated.replies or ([Reply(rated.toast)] if rated.toast else [])
        return outcome

    async def on_label(self, event: Event, state: dict[str, Any], label: str) -> Outcome:
        """A button's label typed as text does what the button does."""
        step, draft = state.get("step", IDLE), state.get("draft")
        if label == "cancel":
            return await self.cancel(event, state)
        if label == "help":
            return await self.start(event, state, None)
        if label == "mytickets":
            return await self.followup.my_tickets(event, state)
        if label == "status":
            return await self.followup.status(event, state, None)
        if label.startswith("status:"):
            return await self.followup.status_of(event, state, None, label.split(":", 1)[1])
        if label.startswith("rate:"):
            if draft is not None:  # no rating buttons are shown with a draft: finish it first
                return Outcome.say(texts.FINISH_DRAFT_FIRST)
            return await self.rate_typed(event, state, label.split(":", 1)[1])
        if label == "noreason":
            if step == RATE_REASON:
                return await self.followup.rate_reason(event, state, skipped=state.get("subject"))
            return Outcome.say("现在没有等待说明原因的评价。")
        if label == "insist":
            foreign = state.get("foreign")
            if foreign is None:
                return Outcome.say(texts.NO_DRAFT)
            outcome = await self.insist(event, state, foreign["id"])
            outcome.replies = [r for r in outcome.replies if not r.edit]  # no pressed message to mark
            return outcome
        if label == "share":  # a client without the share keyboard sends its label as text
            shares = {ASK_PLACE: texts.NO_LOCATION_BUTTON, ASK_PHONE: "请直接输入您的手机号码，或发送“跳过”。"}
            return Outcome.say(shares.get(step, texts.NO_DRAFT))
        if label == "skip" and step in (ASK_PLACE, ASK_PHONE):
            return self.next_question(state)
        if label == "skip" and draft is None and state.get("foreign") is not None:
            return await self.on_label(event, state, "insist")  # 跳过 the request to write in Chinese
        if draft is None:
            return Outcome.say(texts.NOTHING_TO_SKIP if label == "skip" else texts.NO_DRAFT)
        if label == "submit":
            return await self.submit(event, state)
        if label == "skip":
            return Outcome([Reply(texts.NOTHING_TO_SKIP), self.card(draft)])
        return await self.on_draft_button(event, state, label, draft["id"], "")  # types, depts, back

    async def rate_typed(self, event: Event, state: dict[str, Any], rating: str) -> Outcome:
        """满意 / 基本满意 / 不满意 typed: rates the one answered ticket, or offers the ones to rate."""
        me = await citizen_of(self.app, event, state)
        found = await run(self.app.tickets.find, state=State.answered.value, citizen_id=me, limit=5)
        if not found:
            return Outcome.say(texts.NO_RATING)
        if len(found) > 1:
            return Outcome.say(texts.PICK_RATING, self.followup.status_buttons(found))
        outcome = await self.followup.rate(event, state, found[0].number, rating)
        outcome.replies = [r for r in outcome.replies if not r.edit]  # the answer is not repeated
        return outcome

    # -- commands -----------------------------------------------------------------------------
    async def on_command(self, event: Event, state: dict[str, Any], staff: Staff | None) -> Outcome:
        command = event.command or ""
        if command in ("start", "help"):
            return await self.start(event, state, staff)
        if command == "cancel":
            return await self.cancel(event, state)
        if command == "mytickets":
            return await self.followup.my_tickets(event, state)
        if command == "status":
            return await self.followup.status(event, state, staff)
        outcome = await self.desk.on_command(event, state, staff)
        return outcome if outcome is not None else Outcome.say(texts.UNKNOWN_COMMAND)

    async def start(self, event: Event, state: dict[str, Any], staff: Staff | None) -> Outcome:
        """Greet; say what the line is for and how personal data is used."""
        city = self.app.config.city
        text = texts.welcome(city.name, city.hotline_number)
        if staff is not None:
            text += "\n\n" + self.desk.help_for(staff)
        return Outcome.say(text)

    async def cancel(self, event: Event, state: dict[str, Any]) -> Outcome:
        """Drop the draft and any question under way."""
        had_draft = state.pop("draft", None) is not None
        state["step"] = IDLE
        state.pop("subject", None)
        return Outcome.say(texts.CANCELLED if had_draft else "好的。需要时直接描述您的诉求即可。")

    # -- a citizen writes ---------------------------------------------------------------------
    async def describe(self, event: Event, state: dict[str, Any], known: Known = None) -> Outcome:
        """Free text (its length checked already): classify it and show what was understood, or add
        to the draft under way (within the same limit in all)."""
        text = event.text.strip()
        limit = self.app.config.bot.max_message_chars
        if not text:
            return Outcome.say(texts.EMPTY)
        draft = state.get("draft")
        if draft is not None and state.get("step") == CONFIRM:
            if details.take_phone(draft, text):
                return Outcome([Reply("已记录联系电话。"), self.card(draft)])
            if not has_words(text):
                return Outcome.say(texts.ADD_WORDS)
            if len(draft["text"]) + len(text) + 1 > limit:
                return Outcome([Reply(texts.TOO_LONG.format(n=len(draft["text"]) + len(text), limit=limit))],
                               keep_input=True)
            draft["text"] += "\n" + text
            if (await self.understand(draft)).urgent:
                return await self.submit_urgent(event, state)
            return Outcome([Reply("已补充到您的诉求中。"), self.card(draft)])
        if not has_words(text):  # emoji or punctuation only: nothing to file
            return Outcome.say(texts.NO_WORDS)
        source = event.event_id
        foreign = state.pop("foreign", None)
        if not has_chinese(text):
            if foreign is None:  # ask for Chinese once; the button (or a second message) goes ahead
                state["foreign"] = {"id": secrets.token_hex(3), "text": text, "source": source}
                number = self.app.config.city.hotline_number
                insist = [[{"text": texts.INSIST, "data": f"insist:{state['foreign']['id']}"}]]
                return Outcome.say(texts.NOT_CHINESE.format(number=number), insist)
            text, source = f"{foreign['text']}\n{text}"[:limit], foreign["source"]
        return await self.start_draft(event, state, text, source, known)

    async def start_draft(self, event: Event, state: dict[str, Any], text: str, source: str,
                          known: Known = None) -> Outcome:
        """A new draft from `text`; `source` (its first message's id) makes its submission idempotent."""
        draft = {
            "id": secrets.token_hex(3), "source": source, "text": text, "name": event.name, "channel": event.channel,
            "photos": state.pop("photos", []), "place": None, "phone": None,
            "asked_place": False, "asked_phone": False, "dept_chosen": False,
        }
        prediction = await self.understand(draft, known)
        state["draft"] = draft
        if prediction.urgent:
            return await self.submit_urgent(event, state)
        ticket = await details.look_up_citizen(self.app, event, state, draft, text)
        if ticket is not None:
            state["step"] = CONFIRM
            return details.join_question(draft, ticket)
        return await kb_answer.offer(self, state) or self.next_question(state)

    async def insist(self, event: Event, state: dict[str, Any], token: str) -> Outcome:
        """"Submit anyway" under the request to write in Chinese: the kept message becomes a draft."""
        foreign = state.get("foreign")
        if foreign is None or foreign["id"] != token:
            return Outcome([Reply(texts.STALE, edit=True)], toast=texts.STALE)
        state.pop("foreign")
        state.pop("draft", None)
        outcome = await self.start_draft(event, state, foreign["text"], foreign["source"])
        asked = texts.NOT_CHINESE.format(number=self.app.config.city.hotline_number).rsplit("\n", 1)[0]
        outcome.replies.insert(0, Reply(f"{asked}\n（已选择按原文继续）", edit=True))
        return outcome

    async def understand(self, draft: dict[str, Any], known: Known = None) -> Any:
        """Run the NLU on the draft's text (unless this event read that text already) and keep what it found."""
        prediction = await self.predict(draft["text"], known)
        draft["type"] = draft.get("type_chosen") or prediction.type
        if not draft["dept_chosen"]:
            draft["department"] = prediction.department
            draft["needs_review"] = prediction.needs_review
        draft["summary"] = summarise(draft["text"])
        for entity in prediction.entities:
            label = str(entity.get("label", "")).lower()
            if label in PLACE_LABELS and not draft["place"]:
                draft["place"] = str(entity.get("text"))
            if label == "phone" and not draft["phone"]:
                draft["phone"] = str(entity.get("text"))
        found = PHONE.search(draft["text"])
        if found and not draft["phone"]:
            draft["phone"] = found.group(1)
        draft["wants_callback"] = bool(WANTS_CALLBACK.search(draft["text"]))
        return prediction

    def next_question(self, state: dict[str, Any]) -> Outcome:
        """Ask once for what the department will need, then show the draft."""
        draft = state["draft"]
        skip = [[{"text": "跳过", "data": f"c:skip:{draft['id']}"}]]
        shares = draft.get("channel") == "telegram"  # only Telegram has share-location/contact buttons
        if draft["type"] == TicketType.complaint and not draft["place"] and not draft["asked_place"]:
            draft["asked_place"] = True
            state["step"] = ASK_PLACE
            return Outcome([Reply(worded(texts.ASK_PLACE, draft), skip, ask="location" if shares else None)])
        if draft["wants_callback"] and not draft["phone"] and not draft["asked_phone"]:
            draft["asked_phone"] = True
            state["step"] = ASK_PHONE
            return Outcome([Reply(worded(texts.ASK_PHONE, draft), skip, ask="contact" if shares else None)])
        state["step"] = CONFIRM
        return Outcome([self.card(draft)])

    async def ask_place(self, event: Event, state: dict[str, Any], known: Known = None) -> Outcome:
        """Where it happened: typed, or a shared location."""
        draft = state.get("draft")
        if draft is None:
            return Outcome.say(texts.NO_DRAFT)
        if event.kind == "location":
            where = f"{event.latitude:.5f},{event.longitude:.5f}"
            draft["place"] = f"{event.place_name}（{where}）" if event.place_name else f"位置 {where}"
        else:
            if len(event.text) > 200:
                return Outcome([Reply("地址太长了，请只写地址（200 字以内）。")], keep_input=True)
            if not has_words(event.text) and not any(ch.isdigit() for ch in event.text):
                return Outcome.say("请用文字输入地址，或选择“跳过”。", [[{"text": "跳过", "data": f"c:skip:{draft['id']}"}]])
            text = event.text.strip()
            entities = (await self.predict(text, known)).entities
            answer = place_answer(text, any(str(e.get("label", "")).lower() in PLACE_LABELS for e in entities))
            if answer != "place" and answer != "skip" and not draft.get("asked_place_again"):
                draft["asked_place_again"] = True  # once: a place our words do not know is kept next time
                shares = draft.get("channel") == "telegram"
                skip = [[{"text": "跳过", "data": f"c:skip:{draft['id']}"}]]
                return Outcome([Reply(worded(texts.ASK_PLACE_AGAIN, draft), skip,
                                      ask="location" if shares else None)])
            if answer in ("place", "unsure"):
                draft["place"] = text
        return self.next_question(state)

    async def ask_phone(self, event: Event, state: dict[str, Any]) -> Outcome:
        """A callback number: typed, or a shared contact."""
        draft = state.get("draft")
        if draft is None:
            return Outcome.say(texts.NO_DRAFT)
        if event.kind == "contact" and event.phone:
            draft["phone"] = event.phone
        else:
            found = PHONE.search(event.text.replace(" ", ""))
            if not found:
                skip = [[{"text": "跳过", "data": f"c:skip:{draft['id']}"}]]
                shares = draft.get("channel") == "telegram"
                return Outcome([Reply("没有识别出电话号码，请输入手机号（11 位）或带区号的座机号。", skip,
                                      ask="contact" if shares else None)])
            draft["phone"] = found.group(1)
        return self.next_question(state)

    async def photo(self, event: Event, state: dict[str, Any], known: Known = None) -> Outcome:
        """A photo belongs to the ticket being written (or to the next one)."""
        draft = state.get("draft")
        if draft is not None and event.file_ref:
            draft["photos"].append(event.file_ref)
            return Outcome.say(texts.PHOTO_KEPT.format(n=len(draft["photos"])))
        state.setdefault("photos", []).append(event.file_ref)
        if event.text.strip():  # a photo with a caption: the caption is the description
            return await self.describe(event, state, known)
        return Outcome.say(texts.PHOTO_FIRST)

    def card(self, draft: dict[str, Any], edit: bool = False) -> Reply:
        """What the bot understood, with 提交 / 改类型 / 改部门 / 取消."""
        department = self.department_name(draft["department"]) if draft["department"] else None
        if department and draft["needs_review"] and not draft["dept_chosen"]:
            department += "（待派单员确认）"
        if draft.get("to_dispatcher"):
            department = "由派单员分派"
        lines = [
            "我理解您的诉求如下，请确认：",
            f"类型：{type_zh(draft['type'])}",
            f"承办单位：{department or '待派单员分派'}",
            f"摘要：{draft['summary']}",
            f"地点：{draft['place'] or '未提供'}",
            f"联系电话：{draft['phone'] or draft.get('known_phone') or '未提供'}" + details.phone_hint(draft),
        ]
        if draft["photos"]:
            lines.append(f"照片：{len(draft['photos'])} 张")
        if draft.get("confidential"):
            lines.append(details.SECRET_ON)
        # A channel without buttons lists the typed choices (回复「1」提交) right after this line.
        typed = draft.get("channel") in TYPED_CHANNELS
        lines.append("如需补充，直接发送文字即可。" if typed else "确认无误请点“提交”；也可以继续发送文字补充。")
        d = draft["id"]
        buttons: Buttons = [
            [{"text": "提交", "data": f"c:submit:{d}"}],
            [{"text": "改类型", "data": f"c:types:{d}"}, {"text": "改部门", "data": f"c:depts:{d}"}],
            # 保密 is a button of channels that have buttons; typed channels keep their short list.
            ([] if draft.get("channel") in TYPED_CHANNELS else
             [{"text": "取消保密" if draft.get("confidential") else "保密", "data": f"c:secret:{d}"}])
            + [{"text": "取消", "data": f"c:cancel:{d}"}],
        ]
        return Reply("\n".join(lines), buttons, edit=edit)

    def department_name(self, code: str | None) -> str:
        department = self.app.config.department(code) if code else None
        return department.name if department else (code or "待分派")

    # -- buttons ------------------------------------------------------------------------------
    async def on_button(self, event: Event, state: dict[str, Any], staff: Staff | None) -> Outcome:
        parts = event.data.split(":")
        if parts[0] == "c" and len(parts) >= 3:
            return await self.on_draft_button(event, state, parts[1], parts[2], parts[3] if len(parts) > 3 else "")
        if parts[0] == "rate" and len(parts) == 3:
            return await self.followup.rate(event, state, parts[1], parts[2])
        if parts[0] == "noreason" and len(parts) == 2:
            return await self.followup.rate_reason(event, state, skipped=parts[1])
        if parts[0] == "status" and len(parts) == 2:
            return await self.followup.status_of(event, state, staff, parts[1])
        if parts[0] == "insist" and len(parts) == 2:
            return await self.insist(event, state, parts[1])
        if parts[0] == "kb" and len(parts) == 3:
            return await kb_answer.on_button(self, event, state, parts)
        outcome = await self.desk.on_button(event, state, staff, parts)
        return outcome if outcome is not None else Outcome.refuse("这个按钮已失效。")

    async def on_draft_button(self, event: Event, state: dict[str, Any], action: str, draft_id: str, arg: str) -> Outcome:
        """提交 / 改类型 / 改部门 / 取消 / 跳过 on the draft they were shown with."""
        draft = state.get("draft")
        if draft is None or draft["id"] != draft_id:
            number = state.get("submitted", {}).get(draft_id)
            if number is not None:  # pressed again (the answer was lost on the way): show the number again
                shown = texts.ALREADY_SUBMITTED.format(number=number)
                return Outcome([Reply(shown, edit=True)], toast=f"已提交，工单号：{number}")
            return Outcome([Reply(texts.STALE, edit=True)], toast=texts.STALE)
        if action == "submit":
            return await self.submit(event, state)
        if action == "join":
            joined = await details.join(self.app, event, state, draft, arg)
            if joined is not None:
                return joined
            outcome = self.next_question(state)
            outcome.replies.insert(0, Reply(details.CLOSED_MEANWHILE.format(number=arg), edit=True))
            return outcome
        if action == "new":
            return self.next_question(state)
        if action == "secret":
            draft["confidential"] = not draft.get("confidential")
            return Outcome([self.card(draft, edit=True)], toast="已设为保密" if draft["confidential"] else "已取消保密")
        if action == "cancel":
            state.pop("draft", None)
            state["step"] = IDLE
            return Outcome([Reply(texts.CANCELLED, edit=True)], toast="已取消")
        if action == "skip":
            asked = {ASK_PLACE: texts.ASK_PLACE, ASK_PHONE: texts.ASK_PHONE}.get(state.get("step", IDLE))
            outcome = self.next_question(state)
            if asked is not None:  # the question loses its button: it has been answered
                question = worded(asked, draft)
                outcome.replies.insert(0, Reply(f"{question}\n（已跳过）", edit=True))
            return outcome
        if action in ("types", "type", "depts", "dept", "back"):
            state["step"] = CONFIRM  # the card (or its picker) is shown: a question before it is over
        if action == "types":
            rows: Buttons = [[{"text": type_zh(t), "data": f"c:type:{draft_id}:{t.value}"} for t in TicketType]]
            return Outcome([Reply("请选择诉求类型：", rows, edit=True)])
        if action == "type" and arg in TicketType.__members__:
            draft["type"] = draft["type_chosen"] = arg
            return Outcome([self.card(draft, edit=True)], toast="已修改类型")
        if action == "depts":
            return Outcome([Reply("请选择承办单位：", self.department_buttons(draft_id), edit=True)])
        if action == "dept" and arg == UNSURE:
            draft["department"], draft["dept_chosen"], draft["to_dispatcher"] = None, True, True
            return Outcome([self.card(draft, edit=True)], toast="将由派单员分派")
        if action == "dept" and self.app.config.department(arg) is not None:
            draft["department"], draft["dept_chosen"], draft["to_dispatcher"] = arg, True, False
            return Outcome([self.card(draft, edit=True)], toast="已修改承办单位")
        if action == "back":
            return Outcome([self.card(draft, edit=True)])
        return Outcome.refuse("这个按钮已失效。")

    def department_buttons(self, draft_id: str) -> Buttons:
        cells = [{"text": d.name, "data": f"c:dept:{draft_id}:{d.code}"} for d in self.app.config.departments]
        rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
        rows.append([{"text": "不确定（由派单员分派）", "data": f"c:dept:{draft_id}:{UNSURE}"}])
        rows.append([{"text": "返回", "data": f"c:back:{draft_id}"}])
        return rows

    # -- submitting ---------------------------------------------------------------------------
    def submission(self, event: Event, draft: dict[str, Any]) -> Submission:
        return Submission(
            channel=event.channel,
            external_message_id=draft["source"],
            citizen=CitizenRef(event.channel, event.user_id, name=draft.get("name") or None),
            text=draft["text"],
            ticket_type=draft["type"],
            department=draft["department"] if draft["dept_chosen"] else None,
            to_dispatcher=bool(draft.get("to_dispatcher")),
            phone=draft["phone"],
            location=draft["place"],
            attachments=[("photo", ref) for ref in draft["photos"] if ref],
            kb_offered=draft.get("kb_offered"),
            confidential=bool(draft.get("confidential")),
        )

    async def submit(self, event: Event, state: dict[str, Any]) -> Outcome:
        """Open the ticket; reply with its number and the date the department must answer by."""
        draft = state.get("draft")
        if draft is None:
            return Outcome.say(texts.NO_DRAFT)
        try:
            result = await run(self.app.tickets.submit, self.submission(event, draft))
        except DomainError as err:
            return Outcome.refuse(texts.refusal(err))
        state.pop("draft", None)
        state["step"] = IDLE
        ticket = result.ticket
        remember_submitted(state, draft["id"], ticket.number)
        calendar = self.app.policy.calendar
        lines = [f"✅ 已受理，工单号：{ticket.number}", f"类型：{type_zh(ticket.type)}"]
        if ticket.state == State.assigned:
            lines.append(f"承办单位：{self.department_name(ticket.department_code)}")
            lines.append(f"承办单位须在 {fmt_time(calendar, ticket.answer_due)} 前答复您（按工作日计算）。")
        else:
            due = self.app.policy.answer_due(ticket.created_at, ticket.type, None)
            lines.append("派单员将尽快确定承办单位。")
            lines.append(f"预计 {fmt_time(calendar, due)} 前答复您（按工作日计算，自派单起算）。")
        lines.append(f"查询进度：/status {ticket.number}")
        confirmed = Reply("\n".join(lines))
        if event.kind != "button":  # typed 提交: no pressed card to mark
            return Outcome([confirmed])
        card = self.card(draft)
        done = Reply(card.text.rsplit("\n", 1)[0] + "\n（已提交）", edit=True)
        return Outcome([done, confirmed], toast="已提交")

    async def submit_urgent(self, event: Event, state: dict[str, Any]) -> Outcome:
        """An emergency: tell them to call 110/119/120 at once, and still record it."""
        draft = state.pop("draft")
        state["step"] = IDLE
        try:
            result = await run(self.app.tickets.submit, self.submission(event, draft))
        except DomainError:
            return Outcome.say(texts.URGENT)
        state["urgent_filed"] = {"number": result.ticket.number, "at": self.app.now().timestamp()}
        return Outcome.say(f"{texts.URGENT}\n记录编号：{result.ticket.number}")

    # -- what still works --------------------------------------------------------------------
    async def live_buttons(self, datas: set[str], state: dict[str, Any], channel: str, user_id: str) -> set[str]:
        """The buttons, among `datas`, that a citizen's press would still act on now (a channel that
        shows an old conversation again disables the others)."""
        draft, step = state.get("draft"), state.get("step", IDLE)
        alive: set[str] = set()
        numbers: dict[str, Ticket | None] = {}
        citizen_id: int | None = None
        for data in datas:
            parts = data.split(":")
            if parts[0] == "c" and len(parts) >= 3:
                ok = draft is not None and draft["id"] == parts[2]
                ok = ok and (parts[1] != "skip" or step in (ASK_PLACE, ASK_PHONE))
            elif parts[0] == "status":
                ok = True
            elif parts[0] == "kb":
                ok = kb_answer.is_live(parts, state)
            elif parts[0] == "insist" and len(parts) == 2:
                ok = (state.get("foreign") or {}).get("id") == parts[1]
            elif parts[0] == "noreason" and len(parts) == 2:
                ok = step == RATE_REASON and state.get("subject") == parts[1]
            elif parts[0] == "rate" and len(parts) == 3:
                if parts[1] not in numbers:
                    try:
                        numbers[parts[1]] = await run(self.app.tickets.get, parts[1])
                    except NotFound:
                        numbers[parts[1]] = None
                if citizen_id is None:
                    citizen_id = await run(self.app.tickets.citizen_id, channel, user_id)
                ticket = numbers[parts[1]]
                ok = ticket is not None and ticket.state == State.answered and ticket.citizen_id == citizen_id
            else:
                ok = False  # staff buttons: not a citizen's to press
            if ok:
                alive.add(data)
        return alive

    # -- helpers ------------------------------------------------------------------------------
    async def predict(self, text: str, known: Known = None) -> Any:
        """The classifier's reading of `text`: the one this event made already (the emergency
        check's), or a new one."""
        if known is not None and known[0] == text:
            return known[1]
        return await run(self.app.classifier.classify, text)

    async def explain(self, err: DomainError) -> str:
        return await self.desk.explain(err)

