"""The web chat at /chat: the same conversation as the Telegram bot, for citizens without Telegram.

The page posts each message or button press as an event and renders the replies; answers from
departments (outbox notices to this citizen) are fetched by polling. A cookie names the session,
which is the citizen's identity on this channel. The conversation is kept on the server
(web/chat_log.py), so a reload shows it again with the buttons that still work.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Cookie, File, HTTPException, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError

from bot import texts
from bot.conversation import Conversation
from bot.events import Event
from bot.store import BotStore
from hotline.bootstrap import App
from hotline.limits import Limits, Verdict
from hotline.session_locks import SessionLocks
from tickets.text import clean
from web import chat_log, photos
from web.chat_log import ChatLog
from web.edge import address_of

CHANNEL = "web"
T = TypeVar("T")
COOKIE = "hotline_chat"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


MAX_ID = 2**31 - 1  # notice ids are INTEGER columns: a larger `after` is a bad request, not a database error
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # ids and button data: a control character is refused (422), not cleaned


class ChatEvent(BaseModel):
    id: str = Field(min_length=1, max_length=80, pattern=PRINTABLE)  # the page's id: a resend does nothing
    kind: str = Field(pattern=r"^(text|button)$")
    text: str = Field(default="", max_length=50_000)
    data: str = Field(default="", max_length=120, pattern=PRINTABLE)
    message: str = Field(default="", max_length=40, pattern=PRINTABLE)  # a button's: the id of its message
    label: str = Field(default="", max_length=40)  # how the page showed a command (我的工单 for /mytickets)


def refusal(err: RequestValidationError, limit: int) -> dict[str, Any]:
    """A request the chat's API refused, in Chinese and without the input: FastAPI's own answer is
    English and echoes the message, all 50,000 characters of it."""
    for error in err.errors():
        value = error.get("input")
        if error.get("type") == "string_too_long" and tuple(error.get("loc", ()))[-1:] == ("text",) \
                and isinstance(value, str):
            return {"detail": texts.TOO_LONG.format(n=len(value), limit=limit), "limit": limit, "length": len(value)}
    return {"detail": texts.BAD_REQUEST, "limit": limit}


def chinese_errors(limit: int) -> type[APIRoute]:
    """The chat's routes, answering a request that fails validation with `refusal`."""

    class ChatRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    return await handler(request)
                except RequestValidationError as err:
                    return JSONResponse(refusal(err, limit), status_code=422)

            return guarded

    return ChatRoute


async def retried(func: Callable[..., T], *args: Any) -> T:
    """A read or the claim, tried again when the database connection drops (a terminated PostgreSQL
    backend, a restarted server): the citizen gets an answer instead of a 500. A claim that committed
    before its connection dropped is then seen as taken, and the event answers as a resend does."""
    for attempt in range(3):
        try:
            return await asyncio.to_thread(func, *args)
        except OperationalError:
            if attempt == 2:
                raise
            await asyncio.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def router(hotline: App, conversation: Conversation | None = None) -> APIRouter:
    chat = APIRouter(prefix="/chat", tags=["web chat"],
                     route_class=chinese_errors(hotline.config.bot.max_message_chars))
    talk = conversation or Conversation(hotline)
    store = BotStore(hotline.engine)
    log_store = ChatLog(store)
    uploads = hotline.settings.env.home / "uploads" / "chat"
    limits = Limits(hotline.engine)
    rules = hotline.config.web.chat
    # One session's events, resume and its transcript are handled one at a time, in every worker
    # (a page that sends while a poll or another tab is busy would otherwise lose a write).
    locks = SessionLocks(hotline.engine)

    def session_of(value: str | None) -> str:
        if not value or len(value) > 64:
            raise HTTPException(status_code=401, detail="no chat session: open /chat first")
        return value

    def scoped(session: str, event_id: str) -> str:
        """The page's id for a message, made unique to its session: the page chooses it, so two
        sessions may send the same one, and an unscoped id would file the second citizen's message as
        the first's (and show them its ticket). The session's digest keeps it within the 120 characters
        that the update and ticket tables hold."""
        return f"{hashlib.sha256(session.encode()).hexdigest()[:24]}:{event_id}"

    async def respond(session: str, event: Event, checks: list[tuple[str, int, int, str]], shown: str | None = None,
                      pressed: str | None = None) -> dict[str, Any] | JSONResponse:
        """Handle one event; `shown` is how the page showed the citizen's message (None: not shown).
        The conversation's state and its transcript are saved together, retried if the connection
        drops: a submitted ticket's number is then either in both or in neither (and the draft, still
        there, submits to the same ticket when pressed again)."""
        def begin() -> tuple[Any, list[Verdict], tuple[dict[str, Any] | None, dict[str, Any]]]:
            # The lock, the flood limits and the first reads: one thread hand-off where they took three.
            held = locks.acquire(session)
            try:
                verdicts = hit(checks)
                if refusal(checks, verdicts) is not None:
                    locks.release(held, session)
                    return None, verdicts, (None, {})
                return held, verdicts, log_store.claim_and_load(session, event.event_id, hotline.now())
            except BaseException:
                locks.release(held, session)
                raise

        async with locks.stripe(session):
            held, verdicts, (state, log) = await retried(begin)  # a dropped connection is tried again
            if (busy := refusal(checks, verdicts)) is not None:
                return busy
            try:
                if state is None:
                    answer = log.get("answers", {}).get(event.event_id, {})  # a resend is shown what the first got
                    return {"replies": answer.get("replies", []), "toast": answer.get("toast"), "alert": False,
                            "keep_input": False, "duplicate": True}
                outcome = await talk.handle(event, state)
                now = hotline.now()
                if shown is not None and not outcome.keep_input:
                    chat_log.add(log, "me", shown, [], now)
                replies = chat_log.record(log, outcome, pressed, now)
                chat_log.remember(log, event.event_id, replies, outcome.toast)

                def finish(lock: Any) -> None:
                    try:
                        log_store.save_with_state(session, log, state, now)
                    finally:
                        locks.release(lock, session)

                lock, held = held, None
                await asyncio.to_thread(finish, lock)  # the save and the unlock: one hand-off
            finally:
                if held is not None:
                    await asyncio.to_thread(locks.release, held, session)
        return {"replies": replies, "toast": outcome.toast, "alert": outcome.alert, "keep_input": outcome.keep_input}

    async def settle(session: str, state: dict[str, Any], log: dict[str, Any]) -> None:
        """A draft already filed (its 提交 committed the ticket, then the answer was lost): finish it
        as 提交 would, so a reload shows the number instead of a card to press again."""
        draft = state.get("draft")
        if not draft or not await asyncio.to_thread(hotline.tickets.filed, CHANNEL, draft["source"]):
            return
        event = Event(channel=CHANNEL, user_id=session, chat_id=session, kind="button",
                      event_id=scoped(session, f"settle:{draft['id']}"), data=f"c:submit:{draft['id']}")
        outcome = await talk.handle(event, state)
        outcome.replies = [reply for reply in outcome.replies if not reply.edit]  # no pressed card to mark
        chat_log.record(log, outcome, None, hotline.now())
        await asyncio.to_thread(log_store.save_with_state, session, log, state, hotline.now())

    @chat.get("", response_class=HTMLResponse)
    def page(response: Response, hotline_chat: str | None = Cookie(default=None)) -> HTMLResponse:
        city = hotline.config.city
        html = TEMPLATES.get_template("chat.html").render(
            city=city.name, number=city.hotline_number, max_chars=hotline.config.bot.max_message_chars
        )
        page_response = HTMLResponse(html)
        if not hotline_chat:
            page_response.set_cookie(COOKIE, secrets.token_urlsafe(18), max_age=3600 * 24 * 365, httponly=True,
                                     samesite="lax")
        return page_response

    def limit_checks(request: Request, message: bool, photo: bool = False) -> list[tuple[str, int, int, str]]:
        """Limits over every cookie (a client may invent one a message): per address and overall,
        counted in the database so that every worker shares them."""
        address = address_of(request)
        checks = [("chat:all", rules.overall_per_minute, 60, texts.BUSY_ALL)]
        if message:
            checks.append((f"chat:addr:{address}", rules.per_address_per_minute, 60, texts.BUSY_ADDRESS))
        if photo:
            checks.append((f"chat:photo:{address}", rules.photos_per_address_per_hour, 3600, texts.PHOTO_BUSY))
        return checks

    def hit(checks: list[tuple[str, int, int, str]]) -> list[Verdict]:
        if not checks:
            return []
        return limits.hit_all([(key, limit, seconds) for key, limit, seconds, _ in checks], hotline.now())

    def refusal(checks: list[tuple[str, int, int, str]], verdicts: list[Verdict]) -> JSONResponse | None:
        for (_, _, _, text), verdict in zip(checks, verdicts, strict=True):
            if not verdict.allowed:
                wait = verdict.retry_after
                detail = text.format(seconds=wait, minutes=max(1, -(-wait // 60)))
                return JSONResponse({"detail": detail, "replies": [], "toast": detail, "alert": False,
                                     "keep_input": True}, status_code=429, headers={"Retry-After": str(wait)})
        return None

    async def throttled(request: Request, message: bool, photo: bool = False) -> JSONResponse | None:
        """The limits' refusal, None when within them."""
        checks = limit_checks(request, message, photo)
        return refusal(checks, await asyncio.to_thread(hit, checks))

    @chat.post("/api/events", response_model=None)
    async def post_event(request: Request, body: ChatEvent,
                         hotline_chat: str | None = Cookie(default=None)) -> dict[str, Any] | JSONResponse:
        session = session_of(hotline_chat)
        checks = limit_checks(request, message=body.kind == "text")  # counted with the event's first reads
        common: dict[str, Any] = {"channel": CHANNEL, "user_id": session, "chat_id": session,
                                  "event_id": scoped(session, body.id)}
        if body.kind == "button":
            event = Event(kind="button", data=body.data, **common)
            return await respond(session, event, checks, pressed=body.message or None)
        if body.text.startswith("/"):
            head, _, args = body.text.partition(" ")
            event = Event(kind="command", command=head[1:].lower(), args=args, text=body.text, **common)
        else:
            event = Event(kind="text", text=body.text, **common)
        return await respond(session, event, checks, shown=clean(body.label or body.text))

    @chat.post("/api/resume")
    async def resume(hotline_chat: str | None = Cookie(default=None)) -> dict[str, Any]:
        """The conversation so far, for a page that was (re)loaded; the welcome on a first visit."""
        session = session_of(hotline_chat)
        async with locks.hold(session):
            log = await asyncio.to_thread(log_store.load, session)
            state = await asyncio.to_thread(store.load, CHANNEL, "user", session) or {}
            await settle(session, state, log)
            if not log["messages"]:
                welcome = Event(channel=CHANNEL, user_id=session, chat_id=session, event_id=scoped(session, "start"),
                                kind="command",
                                command="start", text="/start")
                chat_log.record(log, await talk.handle(welcome, state), None, hotline.now())
                await asyncio.to_thread(log_store.save, session, log, hotline.now())
        citizen_id = await asyncio.to_thread(hotline.tickets.citizen_id, CHANNEL, session)
        found = await asyncio.to_thread(hotline.tickets.citizen_notices, citizen_id, 0, 500)
        messages = chat_log.history(log, found)
        datas = {b["data"] for m in messages for row in m["buttons"] for b in row}
        chat_log.mark_live(messages, await talk.live_buttons(datas, state, CHANNEL, session))
        return {"messages": messages, "after": max((n.id or 0 for n in found), default=0)}

    @chat.post("/api/photo", response_model=None)
    async def post_photo(request: Request, photo: UploadFile = File(...),
                         hotline_chat: str | None = Cookie(default=None)) -> dict[str, Any] | JSONResponse:
        session = session_of(hotline_chat)
        if (busy := await throttled(request, message=True, photo=True)) is not None:
            return busy  # before anything is read or written
        max_bytes = int(rules.max_photo_mb * 1024 * 1024)
        content = await photo.read(max_bytes + 1)
        suffix = photos.suffix_of(content, max_bytes)
        uploads.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}{suffix}"
        await asyncio.to_thread((uploads / name).write_bytes, content)
        ref = str((uploads / name).relative_to(hotline.settings.env.home))
        event = Event(channel=CHANNEL, user_id=session, chat_id=session, event_id=scoped(session, f"photo:{name}"),
                      kind="photo",
                      file_ref=ref)
        return await respond(session, event, [], shown=f"📷 {clean(photo.filename or name)[:80]}")  # counted above

    @chat.get("/api/notices")
    async def notices(after: int = Query(0, ge=0, le=MAX_ID), hotline_chat: str | None = Cookie(default=None)) -> dict[str, Any]:
        session = session_of(hotline_chat)
        citizen_id = await asyncio.to_thread(hotline.tickets.citizen_id, CHANNEL, session)
        found = await asyncio.to_thread(hotline.tickets.citizen_notices, citizen_id, after)
        return {"notices": [{"id": n.id, "text": n.text, "buttons": n.buttons} for n in found]}

    return chat
