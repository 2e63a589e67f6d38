"""Notifier adapters for the outbox (tickets/delivery.py): who a notice goes to, and how.

- citizens of the web chat read their notices in the chat page (it polls the outbox), so there is
  nothing to push;
- everyone reachable on Telegram gets a message with the notice's buttons and its attachments as
  photos. Telegram being unreachable raises DeliveryError, so the outbox retries later;
- citizens of the WeChat Official Account get a customer-service message, its buttons as typed
  choices (hotline/wechat_client.py).

The Telegram side speaks the Bot API over HTTP with a plain synchronous client: delivery runs in
the scheduler's worker thread, away from the bot's event loop.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx

from bot.store import BotStore
from hotline.settings import HotlineConfig, WeChatEnvironment
from hotline.wechat_client import WeChatSender
from tickets.delivery import DeliveryError
from tickets.directory import Directory
from tickets.models import Notice
from tickets.service import TicketService
from tickets.states import Role

log = logging.getLogger(__name__)


def inline_keyboard(buttons: list[list[dict[str, str]]]) -> dict[str, Any] | None:
    if not buttons:
        return None
    return {"inline_keyboard": [[{"text": b["text"], "callback_data": b["data"]} for b in row] for row in buttons]}


class TelegramSender:
    """sendMessage / sendPhoto through the Bot API (the official one or TELEGRAM_API_BASE_URL)."""

    def __init__(self, token: str, base_url: str = "https://api.telegram.org/bot", timeout: float = 10) -> None:
        self.url = f"{base_url}{token}/"
        self.client = httpx.Client(timeout=timeout)

    def _call(self, method: str, data: dict[str, Any], files: dict[str, Any] | None = None) -> None:
        try:
            response = self.client.post(self.url + method, data=data, files=files)
        except httpx.HTTPError as err:
            raise DeliveryError(f"Telegram unreachable: {type(err).__name__}") from err
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryError(f"Telegram answered {response.status_code} to {method}")
        if response.status_code >= 400:
            # The chat is gone or the bot was blocked: retrying will not help; keep a trace.
            log.warning("Telegram refused %s: %s", method, response.text[:200])

    def send(self, chat_id: str, text: str, buttons: list[list[dict[str, str]]], photos: list[Path]) -> None:
        data: dict[str, Any] = {"chat_id": chat_id, "text": text[:4000]}
        keyboard = inline_keyboard(buttons)
        if keyboard:
            data["reply_markup"] = json.dumps(keyboard, ensure_ascii=False)
        self._call("sendMessage", data)
        for photo in photos:
            with photo.open("rb") as handle:
                self._call("sendPhoto", {"chat_id": chat_id}, files={"photo": (photo.name, handle, "image/png")})

    def close(self) -> None:
        self.client.close()


class HotlineNotifier:
    """The composite notifier that `App.notifier` is: resolves recipients, then sends per channel."""

    def __init__(self, service: TicketService, directory: Directory, config: HotlineConfig, home: Path,
                 telegram: TelegramSender | None = None, wechat: WeChatSender | None = None) -> None:
        self.service = service
        self.directory = directory
        self.config = config
        self.home = home
        self.telegram = telegram
        self.wechat = wechat

    def citizen_on(self, notice: Notice, channel: str) -> list[str]:
        if notice.recipient_kind != "citizen" or not notice.recipient:
            return []
        citizen = self.service.citizen(int(notice.recipient))
        return [citizen.external_id] if citizen is not None and citizen.channel == channel else []

    def telegram_chats(self, notice: Notice) -> list[str]:
        kind, recipient = notice.recipient_kind, notice.recipient
        if kind == "citizen":
            return self.citizen_on(notice, "telegram")
        if kind == "department" and recipient:
            department = self.config.department(recipient)
            if department is not None and department.chat_id is not None:
                return [str(department.chat_id)]
            return [s.telegram_id for s in self.directory.of_department(recipient) if s.telegram_id]
        if kind == "staff" and recipient:
            staff = self.directory.get(int(recipient))
            return [staff.telegram_id] if staff is not None and staff.active and staff.telegram_id else []
        if kind in ("dispatchers", "leaders"):
            role = Role.dispatcher if kind == "dispatchers" else Role.leader
            return [s.telegram_id for s in self.directory.with_role(role) if s.telegram_id]
        return []

    def attachments(self, notice: Notice) -> list[Path]:
        paths = [p if p.is_absolute() else self.home / p for p in map(Path, notice.attachments or [])]
        return [p for p in paths if p.is_file()]

    def deliver(self, notice: Notice) -> None:
        openids = self.citizen_on(notice, "wechat")
        if openids:
            if self.wechat is None:  # the channel was switched off: keep it for when it is back
                raise DeliveryError("no WECHAT_TOKEN: a WeChat citizen's notice waits")
            for openid in openids:
                self.wechat.send(openid, notice.text, notice.buttons or [])
            return
        if self.telegram is None:  # staff read the workbench, a web chat citizen polls: no one to look up
            log.debug("notice %s: no TELEGRAM_TOKEN, nothing sent to Telegram", notice.key)
            return
        chats = self.telegram_chats(notice)
        if not chats:
            return  # a web chat citizen polls; a person without Telegram reads the workbench
        photos = self.attachments(notice)
        for chat in chats:
            self.telegram.send(chat, notice.text, notice.buttons or [], photos)


def build_notifier(service: TicketService, engine: Any, config: HotlineConfig, home: Path,
                   token: str | None, base_url: str, wechat: WeChatEnvironment | None = None) -> HotlineNotifier:
    sender = TelegramSender(token, base_url) if token else None
    wechat_sender = WeChatSender(wechat, BotStore(engine)) if wechat is not None else None
    return HotlineNotifier(service, Directory(engine), config, home, sender, wechat_sender)
