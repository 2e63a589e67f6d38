"""`hotline serve`: the whole hotline in one process — the web server (chat, dashboard), the
scheduler, and the Telegram bot when TELEGRAM_TOKEN is set. Ctrl-C stops all of them cleanly."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import typer
import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request

from hotline.bootstrap import App
from hotline.cli.common import get_app, handles_errors
from web.app import create_app

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


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

    @api.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(
        request: Request, x_telegram_bot_api_secret_token: str | None = Header(default=None)
    ) -> dict[str, bool]:
        if x_telegram_bot_api_secret_token != secret:
            raise HTTPException(status_code=403, detail="wrong secret token")
        await feed_webhook(application, await request.json())
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
    server = uvicorn.Server(uvicorn.Config(api, host=host, port=port, log_level="info"))
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


@handles_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    webhook_url: str = typer.Option(
        None, "--webhook-url", help="public HTTPS base URL: Telegram posts updates to it (default: long polling)"
    ),
) -> None:
    """Run the web server (chat, dashboard, public page), the scheduler and, with TELEGRAM_TOKEN, the bot."""
    hotline = get_app()
    load = getattr(hotline.classifier, "load", None)
    if load is not None:  # the built-in NLU model: load it now (training it first if missing), not on the first message
        load()
    bot = "Telegram bot on" if hotline.settings.env.telegram_token else "no TELEGRAM_TOKEN: web chat only"
    typer.echo(f"{hotline.config.city.name} 12345 hotline on http://{host}:{port}/chat  ({bot}; Ctrl-C stops)")
    asyncio.run(run_all(hotline, host, port, webhook_url))
