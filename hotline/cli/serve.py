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
    from hotline.bootstrap import import_sample_kb

    if import_sample_kb(hotline):
        typer.echo("knowledge base was empty: imported the sample (示例知识库); replace it with `hotline kb import FILE --replace`")
    typer.echo(f"knowledge base: {hotline.kb_search.warm()} entries searchable")
    bot = "Telegram bot on" if hotline.settings.env.telegram_token else "no TELEGRAM_TOKEN: web chat only"
    typer.echo(f"{hotline.config.city.name} 12345 hotline on http://{host}:{port}/chat  ({bot}; Ctrl-C stops)")
    from hotline.server import run_all  # uvicorn, FastAPI and the bot load only for serve

    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C once everything has stopped
        asyncio.run(run_all(hotline, host, port, webhook_url))
    typer.echo("stopped")
