"""`hotline serve`: the web server (chat, dashboard, webhook) in one or more worker processes, and
the scheduler and Telegram long polling in whichever process leads (hotline/leader.py).

With one worker everything runs in this process, as before. With N workers uvicorn starts N
processes that each build the app from the environment (`worker_api`); this process has already
migrated the schema, so they do not. Every worker serves the Telegram webhook; only the leader
polls (Telegram allows one getUpdates at a time) and sets the webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from hotline import metrics
from hotline.bootstrap import App, bootstrap
from hotline.leader import Leadership
from hotline.logs import configure_logging
from hotline.vector_writer import BackgroundVectors
from web.app import create_app

log = logging.getLogger(__name__)
REQUEST_THREADS = 16  # within the database pool (hotline/db.py), which other threads share
WEBHOOK_PATH = "/telegram/webhook"
BAD_UPDATE = "请求内容不是有效的 Telegram 更新（JSON 对象），已拒绝。"
OPTIONS_ENV = "HOTLINE_SERVE_OPTIONS"  # how the parent hands its options to uvicorn's worker processes


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    webhook_url: str | None = None
    workers: int = 1
    log_format: str = "text"


def weekly_report() -> Any:
    """The statistics module's weekly message, when it is there (else the bot's plain count)."""
    try:
        from hotline.reports import weekly_message
    except ImportError:
        return None
    return weekly_message


def build_bot(hotline: App) -> Any:
    from bot.conversation import Conversation
    from bot.store import BotStore
    from bot.telegram_adapter import build_application

    env = hotline.settings.env
    assert env.telegram_token is not None
    return build_application(
        Conversation(hotline, weekly_report()), BotStore(hotline.engine), env.telegram_token, env.telegram_api_base_url
    )


def webhook_secret(token: str) -> str:
    return hashlib.sha256(f"hotline-webhook:{token}".encode()).hexdigest()[:48]


def add_webhook_route(api: FastAPI, application: Any, secret: str) -> None:
    from bot.telegram_adapter import feed_webhook

    @api.post(WEBHOOK_PATH, include_in_schema=False, response_model=None)
    async def telegram_webhook(
        request: Request, x_telegram_bot_api_secret_token: str | None = Header(default=None)
    ) -> dict[str, bool] | JSONResponse:
        if x_telegram_bot_api_secret_token != secret:
            raise HTTPException(status_code=403, detail="wrong secret token")
        try:
            payload = await request.json()
            if not isinstance(payload, dict):
                raise ValueError("an update is a JSON object")
            await feed_webhook(application, payload)
        except Exception as err:  # noqa: BLE001 - whatever the library makes of a malformed update
            log.warning("telegram webhook: malformed update refused: %s", str(err)[:200])
            return JSONResponse({"ok": False, "detail": BAD_UPDATE}, status_code=400)
        return {"ok": True}


def build_scheduler(hotline: App) -> Any:
    try:
        from hotline.scheduler import build_scheduler as build
    except ImportError:
        log.warning("hotline.scheduler is not available: no scheduled jobs")
        return None
    return build(hotline) if hotline.config.scheduler.enabled else None


class Runtime:
    """The leader's work in one process: the scheduler and (without a webhook) long polling,
    started when this process gains leadership and stopped when it loses it or shuts down."""

    def __init__(self, hotline: App, application: Any, webhook_url: str | None) -> None:
        self.hotline = hotline
        self.application = application
        self.webhook_url = webhook_url
        self.scheduler: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.leadership = Leadership(hotline.engine, self._gain, self._lose,
                                     retry_seconds=hotline.config.scheduler.leader_retry_seconds)

    @property
    def wants_leader(self) -> bool:
        return self.hotline.config.scheduler.enabled or self.application is not None

    @property
    def leading(self) -> bool:
        return self.leadership.leading

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        if self.application is not None:  # every worker: webhook updates may reach any of them
            await self.application.initialize()
            await self.application.start()
        if self.wants_leader:
            self.leadership.start()

    async def stop(self) -> None:
        if self.wants_leader:
            await asyncio.to_thread(self.leadership.stop)
        if self.application is not None:
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()

    def _on_loop(self, coroutine: Any) -> Any:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def _gain(self) -> None:  # on the leadership thread
        metrics.LEADER.set(1)
        self.scheduler = build_scheduler(self.hotline)
        if self.scheduler is not None:
            self.scheduler.start()
        if self.application is not None:
            token = self.hotline.settings.env.telegram_token or ""
            if self.webhook_url:
                self._on_loop(self.application.bot.set_webhook(self.webhook_url.rstrip("/") + WEBHOOK_PATH,
                                                               secret_token=webhook_secret(token)))
            else:
                self._on_loop(self._start_polling())

    async def _start_polling(self) -> None:
        await self.application.bot.delete_webhook()
        await self.application.updater.start_polling()

    def _lose(self) -> None:  # on the leadership thread
        metrics.LEADER.set(0)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self.application is not None and self.application.updater.running:
            self._on_loop(self.application.updater.stop())


def build_api(hotline: App, options: ServeOptions) -> FastAPI:
    """The web app with the runtime started and stopped by its lifespan."""
    metrics.instrument(hotline)
    vectors = None
    if hotline.embedder is not None:  # off the request path: intake never waits on the encoder
        vectors = BackgroundVectors(hotline.engine, hotline.embedder)
        hotline.tickets.vector_sink = vectors
        vectors.start()
    api = create_app(hotline)
    env = hotline.settings.env
    application = build_bot(hotline) if env.telegram_token else None
    if application is not None and options.webhook_url:
        add_webhook_route(api, application, webhook_secret(env.telegram_token or ""))
    runtime = Runtime(hotline, application, options.webhook_url)
    api.state.runtime = runtime

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The blocking database work of requests runs on the loop's default executor; its default
        # size (cores + 4: six threads here) queued a chat's requests behind each other's round trips
        # while the CPU idled (benchmarks/web_chat.py: 63% of 2 cores busy at 20 clients).
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=REQUEST_THREADS, thread_name_prefix="hotline-request"))
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            if vectors is not None:
                await asyncio.to_thread(vectors.flush)

    api.router.lifespan_context = lifespan
    return api


def load_model(hotline: App) -> None:
    load = getattr(hotline.classifier, "load", None)
    if load is not None:  # the built-in NLU model: load it now (training it first if missing), not on the first message
        load()


def worker_api() -> FastAPI:
    """uvicorn's factory in each worker process: the app from the environment, already migrated."""
    options = ServeOptions(**json.loads(os.environ[OPTIONS_ENV]))
    configure_logging(options.log_format, verbose=False)
    hotline = bootstrap(migrate=False)
    load_model(hotline)
    return build_api(hotline, options)


def run(hotline: App, options: ServeOptions) -> None:
    """Serve until Ctrl-C / SIGTERM (uvicorn handles the signal)."""
    log_config = None if options.log_format == "json" else uvicorn.config.LOGGING_CONFIG
    if options.workers == 1:
        api = build_api(hotline, options)
        config = uvicorn.Config(api, host=options.host, port=options.port, log_config=log_config, lifespan="on")
        asyncio.run(uvicorn.Server(config).serve())
        return
    os.environ[OPTIONS_ENV] = json.dumps(asdict(options))
    extra: dict[str, Any] = {}
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.run).parameters:
        # A worker answers uvicorn's health check only once its interpreter is up; on a busy
        # machine that took longer than the default 5 s and uvicorn killed workers as they started.
        extra["timeout_worker_healthcheck"] = 60
    uvicorn.run("hotline.server:worker_api", factory=True, host=options.host, port=options.port,
                workers=options.workers, log_config=log_config, lifespan="on", **extra)
