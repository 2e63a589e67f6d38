"""What every web request and response passes through: the client's address, clean input, and the
security headers.

Input: a path or query with a control character is refused (400, in Chinese): those are numbers and
ids, and NUL in one reached PostgreSQL as a 500. Form bodies are cleaned with tickets.text.clean, the
same function the chat events (bot.events) and the CLI use. JSON bodies are the chat's, whose texts
bot.events.Event cleans and whose ids the chat's model refuses when they hold a control character.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from fastapi import Request

from hotline.bootstrap import App
from hotline.limits import client_address
from tickets.text import clean, has_unsafe

# Styles stay inline (low risk, and the pages are full of them); scripts come only from /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
BAD_ADDRESS = "请求地址中含有无效的控制字符，请检查链接后重试。"
MAX_FORM_BYTES = 1_000_000  # a staff form; larger bodies pass unchanged (and the route refuses them)


def address_of(request: Request) -> str:
    hotline: App = request.app.state.hotline
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), hotline.config.web.trusted_proxies)


class Edge:
    """ASGI middleware: refuses control characters in paths and queries, cleans form bodies, adds
    the security headers to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in names)]
            await send(message)

        query = scope.get("query_string", b"").decode("latin-1")
        if has_unsafe(scope.get("path", "")) or has_unsafe(unquote(query, errors="replace")):
            await refuse(send_with_headers, scope)
            return
        headers = dict(scope.get("headers", []))
        if headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
            receive = await cleaned_form(receive)
        await self.app(scope, receive, send_with_headers)


async def refuse(send: Any, scope: dict[str, Any]) -> None:
    wants_json = scope.get("path", "").startswith("/chat/api/")
    body = (json.dumps({"detail": BAD_ADDRESS}, ensure_ascii=False) if wants_json
            else f"<!doctype html><meta charset=utf-8><title>请求无效</title><p>{BAD_ADDRESS}</p>").encode()
    kind = b"application/json" if wants_json else b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def cleaned_form(receive: Any) -> Any:
    """A receive that hands the app the whole form body once, with every name and value cleaned."""
    chunks, more, size = [], True, 0
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return _replay([message])
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
        if size > MAX_FORM_BYTES:
            return _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": more}], receive)
    raw = b"".join(chunks).decode("utf-8", "replace")
    pairs = [(clean(k), clean(v)) for k, v in parse_qsl(raw, keep_blank_values=True)]
    return _replay([{"type": "http.request", "body": urlencode(pairs).encode(), "more_body": False}])


def _replay(messages: list[dict[str, Any]], then: Any = None) -> Any:
    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
