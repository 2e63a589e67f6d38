"""`hotline serve`: the whole hotline in one process (hotline/server.py)."""

from __future__ import annotations

import asyncio
import contextlib

import typer

from hotline.cli.common import get_app, handles_errors


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
    bot = "Telegram 机器人已开启" if hotline.settings.env.telegram_token else "未设置 TELEGRAM_TOKEN：仅网页聊天"
    if hotline.settings.env.wechat is not None:
        bot += "；微信公众号已开启：/wechat"
    typer.echo(f"{hotline.config.city.name} 12345 热线已启动：http://{host}:{port}/chat  （{bot}；按 Ctrl-C 停止）")
    from hotline.server import run_all  # uvicorn, FastAPI and the bot load only for serve

    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C once everything has stopped
        asyncio.run(run_all(hotline, host, port, webhook_url))
    typer.echo("已停止")
