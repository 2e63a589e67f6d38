"""python-telegram-bot persistence over the project's database (BotStore), instead of pickle files."""

from __future__ import annotations

import asyncio
from copy import deepcopy
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.store import BotStore

CHANNEL = "telegram"


class DatabasePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """user_data, chat_data, bot_data and conversations as JSON rows of `bot_state`.

    The values must be JSON-serialisable (the conversation keeps plain dicts). Callback data is
    not stored: the bot's buttons carry their meaning in the data string itself.
    """

    def __init__(self, store: BotStore, update_interval: float = 5) -> None:
        super().__init__(store_data=PersistenceInput(callback_data=False), update_interval=update_interval)
        self.store = store

    async def _run(self, func: Any, *args: Any) -> Any:
        return await asyncio.to_thread(func, *args)

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        rows = await self._run(self.store.load_all, CHANNEL, "user")
        return {int(key): dict(value or {}) for key, value in rows.items()}

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        rows = await self._run(self.store.load_all, CHANNEL, "chat")
        return {int(key): dict(value or {}) for key, value in rows.items()}

    async def get_bot_data(self) -> dict[str, Any]:
        return dict(await self._run(self.store.load, CHANNEL, "bot", "bot") or {})

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self._run(self.store.load, CHANNEL, "conversation", name) or []
        return {tuple(key): state for key, state in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        conversations = dict(await self.get_conversations(name))
        if new_state is None:
            conversations.pop(key, None)
        else:
            conversations[key] = new_state
        await self._run(self.store.save, CHANNEL, "conversation", name, [[list(k), s] for k, s in conversations.items()])

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        await self._run(self.store.save, CHANNEL, "user", str(user_id), deepcopy(data))

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        await self._run(self.store.save, CHANNEL, "chat", str(chat_id), deepcopy(data))

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        await self._run(self.store.save, CHANNEL, "bot", "bot", deepcopy(data))

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._run(self.store.drop, CHANNEL, "chat", str(chat_id))

    async def drop_user_data(self, user_id: int) -> None:
        await self._run(self.store.drop, CHANNEL, "user", str(user_id))

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """Another worker may have moved this user's conversation on: read it back first."""
        stored = await self._run(self.store.load, CHANNEL, "user", str(user_id))
        if stored is not None:
            user_data.clear()
            user_data.update(stored)

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        stored = await self._run(self.store.load, CHANNEL, "chat", str(chat_id))
        if stored is not None:
            chat_data.clear()
            chat_data.update(stored)

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        return None

    async def flush(self) -> None:
        return None
