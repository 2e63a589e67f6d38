"""The whole hotline in one process: the web server (chat, dashboard), the scheduler, and the
Telegram bot when TELEGRAM_TOKEN is set. Ctrl-C stops all of them cleanly."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from hotline.bootstrap import App
from web.app import create_app

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
BAD_UPDATE = "请求内容不是有效的 Telegram 更新（JSON 对象），已拒绝。"


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


async def run_all(hotline: App, host: str, port: int, webhook_url: str | None) -> None:
    api = create_app(hotline)
    env = hotline.settings.env
    application = build_bot(hotline) if env.telegram_token else None
    if application is not None and webhook_url:
        add_webhook_route(api, application, webhook_secret(env.telegram_token or ""))
    server = uvicorn.Server(uvicorn.Config(api, host=host, port=port, log_level="info", lifespan="off"))
    scheduler = build_scheduler(hotline)
    if scheduler is not None:
        scheduler.start()
    try:
        if application is not None:
            await application.initialize()
            await application.start()
            if webhook_url:
                await application.bot.set_webhook(webhook_url.rstrip("/") + WEBHOOK_PATH,
                                                  secret_token=webhook_secret(env.telegram_token or ""))
            else:
                await application.bot.delete_webhook()
                await application.updater.start_polling()
        await server.serve()  # returns on Ctrl-C (uvicorn handles the signal)
    finally:
        if application is not None:
            if application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        if scheduler is not None:
            scheduler.shutdown(wait=False)
