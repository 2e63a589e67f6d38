"""/wechat: the WeChat Official Account's server URL (mounted only when WECHAT_TOKEN is set).

GET is WeChat's check of the URL (a valid signature gets `echostr` back). POST carries a
citizen's message: its signature is checked (and in safe mode, WECHAT_AES_KEY set, it is decrypted
with wechatpy's crypto after its msg_signature is checked); the answer is a passive XML reply,
encrypted in safe mode. A signature older or newer than SIGNED_SECONDS is refused too: in plain
mode the signature covers only the timestamp and nonce, so this bounds a replay.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.conversation import Conversation
from bot.store import BotStore
from bot.wechat_adapter import WeChatChannel
from hotline.bootstrap import App
from hotline.wechat_client import WeChatSender

log = logging.getLogger(__name__)
SIGNED_SECONDS = 300
MAX_BODY = 256 * 1024


def router(hotline: App, conversation: Conversation | None = None) -> APIRouter:
    settings = hotline.settings.env.wechat
    if settings is None:
        raise RuntimeError("the /wechat route needs WECHAT_TOKEN")
    # Build the classifier now (its libraries take seconds to import), not within a citizen's 5 s;
    # `hotline serve` also loads the built-in model before it listens.
    hotline.classifier  # noqa: B018
    store = BotStore(hotline.engine)
    home = hotline.settings.env.home
    channel = WeChatChannel(conversation or Conversation(hotline), store, WeChatSender(settings, store),
                            hotline.config.bot.wechat_reply_seconds, home / "uploads" / "wechat", home)
    crypto = WeChatCrypto(settings.token, settings.aes_key, settings.appid) if settings.aes_key else None
    routes = APIRouter(tags=["wechat"])

    def check(signature: str, timestamp: str, nonce: str) -> None:
        try:
            check_signature(settings.token, signature, timestamp, nonce)
        except InvalidSignatureException as err:
            raise HTTPException(status_code=403, detail="invalid signature") from err
        if not timestamp.isdigit() or abs(int(timestamp) - hotline.now().timestamp()) > SIGNED_SECONDS:
            raise HTTPException(status_code=403, detail="stale or missing timestamp")

    @routes.get("/wechat", response_class=PlainTextResponse)
    def verify(signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = "") -> str:
        check(signature, timestamp, nonce)
        return echostr

    @routes.post("/wechat")
    async def receive(request: Request, signature: str = "", timestamp: str = "", nonce: str = "",
                      encrypt_type: str = "raw", msg_signature: str = "") -> Response:
        check(signature, timestamp, nonce)
        body: bytes | str = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(status_code=413, detail="message too large")
        if crypto is not None:
            # Safe mode: a plain message is refused (its signature does not cover its content).
            if encrypt_type != "aes":
                raise HTTPException(status_code=403, detail="safe mode: expected an encrypted message")
            try:
                body = crypto.decrypt_message(body, msg_signature, timestamp, nonce)
            except (InvalidSignatureException, InvalidAppIdException) as err:
                raise HTTPException(status_code=403, detail="invalid msg_signature or appid") from err
            except Exception as err:  # noqa: BLE001 - not base64, not XML, bad padding: not from WeChat
                raise HTTPException(status_code=400, detail="cannot decrypt the message") from err
        elif encrypt_type == "aes":
            raise HTTPException(status_code=400, detail="encrypted message but no WECHAT_AES_KEY set")
        try:
            message: Any = parse_message(body)
        except Exception as err:  # noqa: BLE001 - malformed XML
            raise HTTPException(status_code=400, detail="not a WeChat message") from err
        if message is None or not getattr(message, "source", None):
            raise HTTPException(status_code=400, detail="not a WeChat message")
        text = await channel.answer(message)
        if not text:
            return PlainTextResponse("success")  # WeChat's word for "nothing to say"
        xml = TextReply(content=text, message=message).render()
        if crypto is not None:
            xml = crypto.encrypt_message(xml, nonce, timestamp)
        return Response(xml, media_type="application/xml")

    return routes
