"""The web chat at /chat: the same conversation as the Telegram bot, for citizens without Telegram.

The page posts each message or button press as an event and renders the replies; answers from
departments (outbox notices to this citizen) are fetched by polling. A cookie names the session,
which is the citizen's identity on this channel.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Cookie, File, HTTPException, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from bot.conversation import Conversation
from bot.events import Event, Outcome
from bot.store import BotStore
from hotline.bootstrap import App

CHANNEL = "web"
COOKIE = "hotline_chat"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}


class ChatEvent(BaseModel):
    id: str = Field(min_length=1, max_length=80)  # the page's id for this message: a resend does nothing
    kind: str = Field(pattern=r"^(text|button)$")
    text: str = Field(default="", max_length=50_000)
    data: str = Field(default="", max_length=120)


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "replies": [{"text": r.text, "buttons": r.buttons, "edit": r.edit} for r in outcome.replies],
        "toast": outcome.toast,
        "alert": outcome.alert,
    }


def router(hotline: App, conversation: Conversation | None = None) -> APIRouter:
    chat = APIRouter(prefix="/chat", tags=["web chat"])
    talk = conversation or Conversation(hotline)
    store = BotStore(hotline.engine)
    uploads = hotline.settings.env.home / "uploads" / "chat"

    def session_of(value: str | None) -> str:
        if not value or len(value) > 64:
            raise HTTPException(status_code=401, detail="no chat session: open /chat first")
        return value

    async def respond(session: str, event: Event) -> dict[str, Any]:
        if not await asyncio.to_thread(store.claim_update, CHANNEL, f"{session}:{event.event_id}"):
            return {"replies": [], "toast": None, "alert": False, "duplicate": True}
        state = await asyncio.to_thread(store.load, CHANNEL, "user", session) or {}
        outcome = await talk.handle(event, state)
        await asyncio.to_thread(store.save, CHANNEL, "user", session, state)
        return outcome_json(outcome)

    @chat.get("", response_class=HTMLResponse)
    def page(response: Response, hotline_chat: str | None = Cookie(default=None)) -> HTMLResponse:
        city = hotline.config.city
        html = TEMPLATES.get_template("chat.html").render(city=city.name, number=city.hotline_number)
        page_response = HTMLResponse(html)
        if not hotline_chat:
            page_response.set_cookie(COOKIE, secrets.token_urlsafe(18), max_age=3600 * 24 * 365, httponly=True,
                                     samesite="lax")
        return page_response

    @chat.post("/api/events")
    async def post_event(body: ChatEvent, hotline_chat: str | None = Cookie(default=None)) -> dict[str, Any]:
        session = session_of(hotline_chat)
        common: dict[str, Any] = {"channel": CHANNEL, "user_id": session, "chat_id": session, "event_id": body.id}
        if body.kind == "button":
            event = Event(kind="button", data=body.data, **common)
        elif body.text.startswith("/"):
            head, _, args = body.text.partition(" ")
            event = Event(kind="command", command=head[1:].lower(), args=args, text=body.text, **common)
        else:
            event = Event(kind="text", text=body.text, **common)
        return await respond(session, event)

    @chat.post("/api/photo")
    async def post_photo(request: Request, photo: UploadFile = File(...),
                         hotline_chat: str | None = Cookie(default=None)) -> dict[str, Any]:
        session = session_of(hotline_chat)
        suffix = PHOTO_TYPES.get(photo.content_type or "")
        if suffix is None:
            raise HTTPException(status_code=415, detail="只接收 JPEG、PNG、WebP 或 GIF 图片")
        content = await photo.read(MAX_PHOTO_BYTES + 1)
        if len(content) > MAX_PHOTO_BYTES:
            raise HTTPException(status_code=413, detail="图片不能超过 10 MB")
        uploads.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}{suffix}"
        await asyncio.to_thread((uploads / name).write_bytes, content)
        ref = str((uploads / name).relative_to(hotline.settings.env.home))
        event = Event(channel=CHANNEL, user_id=session, chat_id=session, event_id=f"photo:{name}", kind="photo",
                      file_ref=ref)
        return await respond(session, event)

    @chat.get("/api/notices")
    async def notices(after: int = 0, hotline_chat: str | None = Cookie(default=None)) -> dict[str, Any]:
        session = session_of(hotline_chat)
        citizen_id = await asyncio.to_thread(hotline.tickets.citizen_id, CHANNEL, session)
        found = await asyncio.to_thread(hotline.tickets.citizen_notices, citizen_id, after)
        return {"notices": [{"id": n.id, "text": n.text, "buttons": n.buttons} for n in found]}

    return chat
