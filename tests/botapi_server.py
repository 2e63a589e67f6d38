"""A small Telegram Bot API server on 127.0.0.1 for tests and benchmarks.

The real python-telegram-bot Application talks to it over HTTP (base_url). Tests put updates in
its queue as a user would (text, button presses, photos, stickers, …) and read what the bot sent.
It implements the methods the hotline uses: getMe, getUpdates (long poll), sendMessage,
editMessageText, editMessageReplyMarkup, answerCallbackQuery, sendPhoto, getFile, setWebhook,
deleteWebhook, setMyCommands, …; any other method answers ok.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT = {"id": 7000001, "is_bot": True, "first_name": "市长热线", "username": "hotline_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class User:
    id: int
    first_name: str = "市民"

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name}


@dataclass
class BotApiServer:
    token: str = "123456:TEST-token-for-the-hotline"
    port: int = field(default_factory=free_port)
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)  # every message, by id
    redelivered: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> BotApiServer:
        app = Starlette(routes=[Route("/bot{token}/{method}", self.endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("Bot API test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- what users do -----------------------------------------------------------------------
    def _message(self, chat: dict[str, Any], sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": sender,
                   **content}
        with self.lock:
            self.messages[message["message_id"]] = message
        return message

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        with self.lock:
            self.updates.append(update)
        return update

    def redeliver(self, update: dict[str, Any]) -> None:
        """Telegram sends the same update again (e.g. after a timeout, or to a second worker)."""
        with self.lock:
            self.redelivered.append(update)

    def send(self, user: User, chat: dict[str, Any] | None = None, reply_to: dict[str, Any] | None = None,
             **content: Any) -> dict[str, Any]:
        chat = chat or {"id": user.id, "type": "private", "first_name": user.first_name}
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        return self.push({"message": self._message(chat, user.json(), **content)})

    def text(self, user: User, text: str, **kwargs: Any) -> dict[str, Any]:
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}] if text.startswith("/") else []
        return self.send(user, text=text, entities=entities, **kwargs) if entities else self.send(user, text=text, **kwargs)

    def press(self, user: User, message: dict[str, Any], data: str) -> dict[str, Any]:
        query = {"id": str(next(self._message_ids) * 1000), "from": user.json(), "chat_instance": "ci",
                 "message": message, "data": data}
        return self.push({"callback_query": query})

    # -- what the bot did --------------------------------------------------------------------
    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [p for m, p in self.calls if m == method and (chat_id is None or str(p.get("chat_id")) == str(chat_id))]

    def last_text(self, chat_id: int) -> str:
        sent = self.sent(chat_id=chat_id)
        return sent[-1]["text"] if sent else ""

    def bot_message(self, chat_id: int, containing: str) -> dict[str, Any]:
        """The newest message the bot sent to `chat_id` whose text contains `containing`."""
        with self.lock:
            found = [m for m in self.messages.values()
                     if m["from"]["id"] == BOT["id"] and str(m["chat"]["id"]) == str(chat_id) and containing in m.get("text", "")]
        if not found:
            raise AssertionError(f"the bot sent no message containing {containing!r} to {chat_id}")
        return found[-1]

    async def wait_for(self, predicate: Any, timeout: float = 15) -> Any:
        """Wait until predicate() is truthy (the bot works asynchronously); fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not do what was expected in time")
            await asyncio.sleep(0.02)

    async def reply_to(self, chat_id: int, action: Any, timeout: float = 15) -> str:
        """Do `action` (push an update), then wait for the next message the bot sends to chat_id."""
        before = len(self.sent(chat_id=chat_id))
        action()
        await self.wait_for(lambda: len(self.sent(chat_id=chat_id)) > before, timeout)
        return str(self.sent(chat_id=chat_id)[before]["text"])

    # -- the HTTP side -----------------------------------------------------------------------
    async def endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        params = await self._params(request)
        with self.lock:
            self.calls.append((method, params))
        if method.lower() == "getupdates":
            return JSONResponse({"ok": True, "result": await self._get_updates(params)})
        handler = getattr(self, "_" + method, None)
        result = handler(params) if handler is not None else True
        return JSONResponse({"ok": True, "result": result})

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(await request.json())
        form = await request.form()
        params: dict[str, Any] = {}
        for key, value in form.multi_items():
            if hasattr(value, "read"):
                params[key] = {"filename": getattr(value, "filename", None), "size": len(await value.read())}
                continue
            try:
                params[key] = json.loads(value) if key in ("reply_markup", "allowed_updates", "commands", "entities") else value
            except ValueError:
                params[key] = value
        return params

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            with self.lock:
                # Confirmed updates (below offset) are forgotten, as Telegram does; a redelivered
                # one is handed out once more whatever the offset.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = self.redelivered + self.updates
                self.redelivered = []
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.01)

    def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT

    def _bot_sends(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params["chat_id"]
        chat = {"id": int(chat_id), "type": "private" if int(chat_id) > 0 else "group", "title": "群"}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # Telegram echoes inline keyboards only
            content["reply_markup"] = markup
        elif markup:
            content["keyboard"] = markup  # kept for tests to look at
        return self._message(chat, BOT, **content)

    def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_sends(params, text=params.get("text", ""))

    def _sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = [{"file_id": "sent-photo", "file_unique_id": "sp", "width": 100, "height": 100}]
        return self._bot_sends(params, photo=photo, caption=params.get("caption", ""))

    def _editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        with self.lock:
            message = self.messages.get(int(params.get("message_id", 0)))
            if message is None:
                return True
            message["text"] = params.get("text", "")
            message.pop("reply_markup", None)
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            return message

    def _editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        with self.lock:
            message = self.messages.get(int(params.get("message_id", 0)))
            if message is None:
                return True
            message.pop("reply_markup", None)
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            return message

    def _getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id", "")
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": 1000, "file_path": f"photos/{file_id}.jpg"}

    def _getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
