"""WeChat's customer-service message API (客服消息) through wechatpy, for everything that is not
the passive reply to a citizen's message: a department's answer, reminders, the rating question,
and a conversation's answer that missed WeChat's 5 seconds.

The API base comes from WECHAT_API_BASE_URL (tests run a server on 127.0.0.1). The access token
is kept in the project's database, not in one process's memory: WeChat invalidates an older token
a few minutes after a newer one is fetched, so workers that each fetched their own would keep
knocking each other's out.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from bot import choices
from bot.store import BotStore
from hotline.settings import WeChatEnvironment
from tickets.delivery import DeliveryError

log = logging.getLogger(__name__)
CHANNEL = "wechat"
MAX_TEXT = 600  # WeChat takes 2048 bytes of text in a message; 600 Chinese characters fit
# Retrying cannot help: the citizen unsubscribed (43004), the openid is unknown (40003), or the
# text was refused (45002 too long, 45008/45009 content).
GONE = frozenset({40003, 43004, 45002, 45008})
# The 48 hours after a citizen's last message have passed (45015) or its 20 messages are used up
# (45047): keep the notice pending; it goes out once the citizen writes again.
LATER = frozenset({45015, 45047})


def pieces(text: str, size: int = MAX_TEXT) -> list[str]:
    """The text in messages WeChat takes whole, split between lines where it can be."""
    parts: list[str] = []
    for line in text.split("\n"):
        while len(line) > size:
            parts.append(line[:size])
            line = line[size:]
        if parts and len(parts[-1]) + 1 + len(line) <= size:
            parts[-1] += "\n" + line
        else:
            parts.append(line)
    return parts or [""]


class StoreSession(SessionStorage):  # type: ignore[misc]
    """wechatpy's session storage (only the access token is kept there) in the bot_state table."""

    def __init__(self, store: BotStore) -> None:
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        found = self.store.load(CHANNEL, "session", key)
        if not found or (found.get("expires") is not None and found["expires"] <= time.time()):
            return default
        return found["value"]

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        expires = time.time() + ttl - 60 if ttl else None  # a minute early: no token expires in flight
        self.store.save(CHANNEL, "session", key, {"value": value, "expires": expires})

    def delete(self, key: str) -> None:
        self.store.drop(CHANNEL, "session", key)


class HotlineWeChatClient(WeChatClient):  # type: ignore[misc]
    """wechatpy's client with every call, the token's too, against `api_base_url`."""

    def __init__(self, settings: WeChatEnvironment, store: BotStore, timeout: float = 10) -> None:
        super().__init__(settings.appid, settings.secret, session=StoreSession(store), timeout=timeout)
        self.API_BASE_URL = settings.api_base_url

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(  # type: ignore[no-any-return]
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class WeChatSender:
    """Texts to a citizen by openid; a notice's buttons become typed choices (回复「1」满意)."""

    def __init__(self, settings: WeChatEnvironment, store: BotStore, timeout: float = 10) -> None:
        self.client = HotlineWeChatClient(settings, store, timeout)
        self.store = store

    def send(self, openid: str, text: str, buttons: list[list[dict[str, str]]] | None = None) -> None:
        """Send or raise DeliveryError (WeChat unreachable or busy: the outbox tries again later)."""
        body, numbers = choices.render(text, buttons or [])
        try:
            for piece in pieces(body):
                self.client.message.send_text(openid, piece)
        except WeChatClientException as err:
            if err.errcode in GONE:
                log.warning("WeChat refused a message to %s for good: %s", openid[:8], err)
                return
            hint = "; the citizen has not written for 48 hours" if err.errcode in LATER else ""
            raise DeliveryError(f"WeChat answered {err.errcode}{hint}") from err
        except requests.RequestException as err:
            raise DeliveryError(f"WeChat unreachable: {type(err).__name__}") from err
        choices.save(self.store, CHANNEL, openid, numbers)
