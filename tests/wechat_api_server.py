"""A small WeChat API server on 127.0.0.1 for tests: the real wechatpy client talks to it over
HTTP (WECHAT_API_BASE_URL). It hands out access tokens (/cgi-bin/token), records customer-service
messages (/cgi-bin/message/custom/send) and serves a picture as WeChat's image server would.
`refuse_next` makes the next sends fail with a WeChat error code (e.g. 45015, out of the 48 hours)."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.botapi_server import free_port

APPID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
# A 1x1 PNG: what a citizen's photo is here.
PICTURE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@dataclass
class WeChatApiServer:
    port: int = field(default_factory=free_port)
    sent: list[dict[str, Any]] = field(default_factory=list)  # every accepted custom/send body
    tokens: list[str] = field(default_factory=list)  # every token handed out
    refuse_next: list[int] = field(default_factory=list)  # errcodes for the next sends, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/"

    def picture_url(self, name: str = "photo.jpg") -> str:
        return f"http://127.0.0.1:{self.port}/mmbiz/{name}"

    def start(self) -> WeChatApiServer:
        app = Starlette(routes=[
            Route("/cgi-bin/token", self.token, methods=["GET"]),
            Route("/cgi-bin/message/custom/send", self.custom_send, methods=["POST"]),
            Route("/mmbiz/{name}", self.picture, methods=["GET"]),
        ])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("WeChat API test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def texts_to(self, openid: str) -> list[str]:
        with self.lock:
            return [m["text"]["content"] for m in self.sent if m["touser"] == openid and m["msgtype"] == "text"]

    async def token(self, request: Request) -> JSONResponse:
        query = request.query_params
        if query.get("grant_type") != "client_credential" or query.get("appid") != APPID \
                or query.get("secret") != SECRET:
            return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
        with self.lock:
            self.tokens.append(f"TOKEN-{len(self.tokens) + 1}")
            return JSONResponse({"access_token": self.tokens[-1], "expires_in": 7200})

    async def custom_send(self, request: Request) -> JSONResponse:
        body = json.loads((await request.body()).decode("utf-8"))
        with self.lock:
            if request.query_params.get("access_token") not in self.tokens:
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            if self.refuse_next:
                code = self.refuse_next.pop(0)
                return JSONResponse({"errcode": code, "errmsg": "refused by the test server"})
            self.sent.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def picture(self, request: Request) -> Response:
        return Response(PICTURE, media_type="image/png")
