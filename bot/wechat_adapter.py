"""The WeChat Official Account channel (wechatpy): a message WeChat pushed to /wechat becomes an
Event, the conversation answers it, and the answer goes back as the passive reply's text.

WeChat has no buttons in a chat: a reply's buttons become typed choices (bot/choices.py), and a
typed number is the button's press. WeChat waits 5 seconds for the passive reply and then asks
again with the same MsgId (three times); an answer slower than `budget` seconds is therefore
finished in the background and sent as a customer-service message, while the passive reply says
that it is coming. A message claimed once (the store's claim_update) is never handled twice; a
retry gets the same passive reply again if it is ready. Signatures and encryption are the web
route's (web/wechat.py); nothing about hotline rules lives here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from bot import choices
from bot.conversation import Conversation
from bot.events import Event
from bot.store import BotStore
from hotline.session_locks import SessionLocks
from hotline.wechat_client import WeChatSender, pieces

log = logging.getLogger(__name__)
CHANNEL = "wechat"
WORKING = "您的消息已收到，正在处理，稍后会在这里回复您。"
FAILED = "抱歉，系统暂时出现故障，这条消息没有处理成功，请稍后重新发送。紧急情况请直接拨打 110、119 或 120。"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_SECONDS = 2.0  # a picture WeChat's server is slow to hand over stays a link (within the 5 s)


def event_id(message: Any) -> str:
    """Unique per message and per citizen: the MsgId, or for an event (which has none) its kind and
    time, as WeChat's documentation advises for telling its retries apart."""
    if getattr(message, "type", "") == "event":
        return f"{message.source}:{message.event}:{message.time}:{getattr(message, 'key', '') or ''}"[:120]
    return f"{message.source}:{message.id}"


def to_event(message: Any, file_ref: str | None = None) -> Event | None:
    """The conversation's view of a pushed message; None for what it has nothing to say to (menu
    views, location reports, notifications about mass sends, unsubscribing)."""
    openid = str(message.source)
    common: dict[str, Any] = {"channel": CHANNEL, "user_id": openid, "chat_id": openid, "event_id": event_id(message)}
    kind = message.type
    if kind == "text":
        text = str(message.content or "")
        if text.startswith("/"):
            head, _, args = text.partition(" ")
            return Event(kind="command", command=head[1:].lower(), args=args, text=text, **common)
        return Event(kind="text", text=text, **common)
    if kind == "image":
        return Event(kind="photo", file_ref=file_ref or message.image or None, **common)
    if kind == "voice":
        # With speech recognition switched on for the account, WeChat sends the words with the voice.
        heard = str(message.recognition or "").strip()
        return Event(kind="text", text=heard, **common) if heard else Event(kind="voice", **common)
    if kind in ("video", "shortvideo"):
        return Event(kind="voice", **common)
    if kind == "location":
        return Event(kind="location", latitude=float(message.location_x), longitude=float(message.location_y),
                     place_name=str(message.label or "") or None, **common)
    if kind == "event":
        if message.event in ("subscribe", "subscribe_scan"):
            return Event(kind="command", command="start", text="/start", **common)
        if message.event == "click" and message.key:
            # A custom menu item whose key is a chat word (我的工单, 使用说明) acts as if typed.
            return Event(kind="text", text=str(message.key), **common)
        return None
    return Event(kind="other", **common)


class WeChatChannel:
    def __init__(self, conversation: Conversation, store: BotStore, sender: WeChatSender | None,
                 budget: float, uploads: Path, home: Path) -> None:
        self.conversation = conversation
        self.store = store
        self.sender = sender
        self.budget = budget
        self.uploads = uploads
        self.home = home
        self.locks = SessionLocks(store.engine)  # one citizen's messages one at a time, in every worker
        self.late: set[asyncio.Task[Any]] = set()  # kept from the garbage collector until done

    async def answer(self, message: Any) -> str | None:
        """The passive reply's text for a pushed message, or None for an empty reply ("success")."""
        if message.type == "event" and message.event == "unsubscribe":
            await asyncio.to_thread(self.forget, str(message.source))
            return None
        key = event_id(message)
        if not await asyncio.to_thread(self.store.claim_update, CHANNEL, key):
            last = await asyncio.to_thread(self.store.load, CHANNEL, "reply", str(message.source))
            return (pieces(str(last["text"]))[0] or None) if last and last.get("event") == key else None
        task = asyncio.create_task(self.process(message, key))
        try:
            text = await asyncio.wait_for(asyncio.shield(task), self.budget)
        except TimeoutError:
            self.late.add(task)
            task.add_done_callback(lambda done: self.send_late(done, str(message.source)))
            return WORKING
        except Exception:
            # The message is claimed, so WeChat's retries would get nothing: say so now.
            log.exception("WeChat message %s failed", key)
            return FAILED
        first, *rest = pieces(text)
        if rest and self.sender is not None:  # too long for one reply: the rest follows at once
            self.follow(self.sender.send, str(message.source), "\n".join(rest))
        return first or None

    async def process(self, message: Any, key: str) -> str:
        """Handle one message under its citizen's lock; the text to answer with."""
        openid = str(message.source)
        async with self.locks.hold(f"{CHANNEL}:{openid}"):
            photo = await self.fetch_photo(message.image) if message.type == "image" else None
            event = to_event(message, photo)
            if event is None:
                return ""
            numbers = await asyncio.to_thread(choices.load, self.store, CHANNEL, openid)
            state = await asyncio.to_thread(self.store.load, CHANNEL, "user", openid) or {}
            data, instead = choices.pick(event.text, numbers) if event.kind == "text" else (None, None)
            if instead is not None:
                text, numbers = instead, {}
            else:
                if data is not None:
                    event = replace(event, kind="button", data=data, text="")
                outcome = await self.conversation.handle(event, state)
                text, numbers = choices.render_outcome(outcome)
                await asyncio.to_thread(self.store.save, CHANNEL, "user", openid, state)
            await asyncio.to_thread(choices.save, self.store, CHANNEL, openid, numbers)
            await asyncio.to_thread(self.store.save, CHANNEL, "reply", openid, {"event": key, "text": text})
        return text

    def send_late(self, task: asyncio.Task[str], openid: str) -> None:
        """An answer that missed the passive reply goes out as a customer-service message."""
        self.late.discard(task)
        if self.sender is None or task.cancelled():
            return
        if task.exception() is not None:
            log.error("a WeChat message of %s failed after its passive reply", openid[:8], exc_info=task.exception())
            self.follow(self.sender.send, openid, FAILED)
        elif task.result():
            self.follow(self.sender.send, openid, task.result())

    def follow(self, send: Any, openid: str, text: str) -> None:
        """Send a customer-service message without holding up the passive reply."""
        task = asyncio.create_task(asyncio.to_thread(send, openid, text))
        self.late.add(task)
        task.add_done_callback(self.sent_late)

    def sent_late(self, task: asyncio.Task[Any]) -> None:
        self.late.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a late WeChat answer was not sent: %s", task.exception())

    async def fetch_photo(self, url: str | None) -> str | None:
        """The picture kept under HOTLINE_HOME/uploads (the workbench shows it); its WeChat link
        when it cannot be fetched at once."""
        if not url or not url.startswith(("http://", "https://")):
            return None
        try:
            async with httpx.AsyncClient(timeout=PHOTO_SECONDS) as client:
                response = await client.get(url)
        except httpx.HTTPError as err:
            log.info("WeChat picture not fetched (%s); kept as its link", type(err).__name__)
            return url
        if response.status_code != 200 or len(response.content) > MAX_PHOTO_BYTES:
            return url
        self.uploads.mkdir(parents=True, exist_ok=True)
        path = self.uploads / f"{uuid.uuid4().hex}.jpg"
        await asyncio.to_thread(path.write_bytes, response.content)
        return str(path.relative_to(self.home))

    def forget(self, openid: str) -> None:
        """Unsubscribed: a draft and its choices are dropped (tickets stay, and so do their notices)."""
        for kind in ("user", "choices"):
            self.store.drop(CHANNEL, kind, openid)
