"""The Telegram channel (python-telegram-bot v22): parse an update into an Event, call the
conversation, render its Outcome. Nothing about hotline rules lives here."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MaybeInaccessibleMessage,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationBuilder, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.conversation import Conversation
from bot.events import Buttons, Event, Outcome, Reply
from bot.store import BotStore
from bot.telegram_persistence import DatabasePersistence
from hotline.session_locks import SessionLocks

log = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_TEXT = 4000  # Telegram refuses messages over 4096 characters
COMMANDS = [
    ("start", "使用说明"), ("mytickets", "我的工单"), ("status", "查询工单进度：/status 工单号"),
    ("cancel", "取消正在填写的诉求"), ("join", "工作人员加入：/join 邀请码"), ("inbox", "本单位待办工单"),
    ("answer", "答复工单：/answer 工单号 内容"), ("weekly", "本周办理情况（领导）"),
]


def markup(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row] for row in buttons])


def share_keyboard(ask: str) -> ReplyKeyboardMarkup:
    share = (KeyboardButton("📍 发送位置", request_location=True) if ask == "location"
             else KeyboardButton("📞 分享联系方式", request_contact=True))
    return ReplyKeyboardMarkup([[share], [KeyboardButton("跳过")]], one_time_keyboard=True, resize_keyboard=True)


def _message_text(message: Message | None) -> str | None:
    if message is None:
        return None
    return message.text or message.caption


def to_event(update: Update) -> Event | None:
    """The conversation's view of an update; None for updates it has nothing to say about."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL, "user_id": str(user.id), "chat_id": str(chat.id), "name": user.full_name,
        "private": chat.type == chat.PRIVATE,
    }
    query = update.callback_query
    if query is not None:
        message = query.message if isinstance(query.message, Message) else None
        return Event(event_id=f"cb:{query.id}", kind="button", data=query.data or "",
                     reply_to_text=_message_text(message), **common)
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return None
    common["event_id"] = f"{chat.id}:{message.message_id}"
    common["reply_to_text"] = _message_text(message.reply_to_message)
    if message.text is not None:
        text = message.text
        if text.startswith("/"):
            head, _, args = text.partition(" ")
            return Event(kind="command", command=head[1:].split("@")[0].lower(), args=args, text=text, **common)
        return Event(kind="text", text=text, **common)
    if message.photo:
        return Event(kind="photo", file_ref=message.photo[-1].file_id, text=message.caption or "", **common)
    if message.location is not None:
        venue = message.venue
        place = f"{venue.title} {venue.address}".strip() if venue is not None else None
        return Event(kind="location", latitude=message.location.latitude, longitude=message.location.longitude,
                     place_name=place, **common)
    if message.contact is not None:
        return Event(kind="contact", phone=message.contact.phone_number, **common)
    if message.sticker is not None:
        return Event(kind="sticker", **common)
    if message.voice or message.audio or message.video or message.video_note:
        return Event(kind="voice", **common)
    if message.document is not None:
        return Event(kind="file", **common)
    return Event(kind="other", **common)


class TelegramChannel:
    """Holds the conversation and the store; its methods are the Application's handlers."""

    def __init__(self, conversation: Conversation, store: BotStore, locks: SessionLocks | None = None) -> None:
        self.conversation = conversation
        self.store = store
        self.locks = locks or SessionLocks(store.engine)

    async def claim(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every update at most once: a redelivered update_id stops here."""
        first = await asyncio.to_thread(self.store.claim_update, CHANNEL, str(update.update_id))
        if not first:
            log.info("update %s already processed; skipped", update.update_id)
            raise ApplicationHandlerStop

    async def handle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_event(update)
        if event is None:
            return
        state: dict[str, Any] = context.user_data if context.user_data is not None else {}
        persistence = context.application.persistence
        user = update.effective_user
        # One user's updates one at a time in every worker (webhooks reach any of them), each
        # starting from the conversation as the last one left it, wherever that ran.
        async with self.locks.hold(f"{CHANNEL}:{user.id if user is not None else event.chat_id}"):
            if user is not None and persistence is not None:
                await persistence.refresh_user_data(user.id, state)
            outcome = await self.conversation.handle(event, state)
            # Write the conversation through at once: a crash or a second worker loses nothing.
            if user is not None and persistence is not None:
                await persistence.update_user_data(user.id, state)
        await self.render(context, event, outcome, update.callback_query)

    async def render(self, context: ContextTypes.DEFAULT_TYPE, event: Event, outcome: Outcome,
                     query: CallbackQuery | None) -> None:
        if query is not None:
            await query.answer(text=outcome.toast, show_alert=outcome.alert)
        for reply in outcome.replies:
            if reply.edit and query is not None and query.message is not None:
                await self.edit(context, query.message, reply)
                continue
            await self.send(context, event.chat_id, reply)

    async def edit(self, context: ContextTypes.DEFAULT_TYPE, message: MaybeInaccessibleMessage, reply: Reply) -> None:
        """Replace the pressed message; one older than 48 hours comes without its content
        (InaccessibleMessage) but can still be edited by chat and message id."""
        try:
            await context.bot.edit_message_text(reply.text[:MAX_TEXT], chat_id=message.chat.id,
                                                message_id=message.message_id, reply_markup=markup(reply.buttons))
        except BadRequest as err:  # e.g. "message is not modified" when pressed twice
            log.info("edit refused: %s", err)

    async def send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: str, reply: Reply) -> None:
        keyboard: Any = share_keyboard(reply.ask) if reply.ask else markup(reply.buttons)
        await context.bot.send_message(chat_id, reply.text[:MAX_TEXT], reply_markup=keyboard)
        for photo in reply.photos:
            path = Path(photo)
            if path.is_file():
                with path.open("rb") as handle:
                    await context.bot.send_photo(chat_id, photo=handle)
            else:
                await context.bot.send_photo(chat_id, photo=photo)


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    try:
        await application.bot.set_my_commands(COMMANDS)
    except Exception as err:  # noqa: BLE001 - a menu is a nicety; the bot works without it
        log.warning("could not set the command menu: %s", err)


def build_application(
    conversation: Conversation, store: BotStore, token: str, base_url: str = "https://api.telegram.org/bot",
    base_file_url: str | None = None,
) -> Application:  # type: ignore[type-arg]
    """The python-telegram-bot Application with the hotline's handlers and database persistence."""
    channel = TelegramChannel(conversation, store)
    builder = (
        ApplicationBuilder().token(token).base_url(base_url)
        .persistence(DatabasePersistence(store)).post_init(_post_init)
    )
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    application = builder.build()
    application.add_handler(TypeHandler(Update, channel.claim), group=-1)
    application.add_handler(TypeHandler(Update, channel.handle), group=0)
    return application


async def feed_webhook(application: Application, payload: dict[str, Any]) -> None:  # type: ignore[type-arg]
    """An update posted to the web server's webhook route joins the same queue as polled ones."""
    update = Update.de_json(payload, application.bot)
    if update is not None:
        await application.update_queue.put(update)
