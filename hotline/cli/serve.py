"""`hotline serve`: the whole hotline in one process."""

from __future__ import annotations

import typer
import uvicorn

from hotline.cli.common import get_app, handles_errors
from web.app import create_app


@handles_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Run the web server (chat, dashboard, public page), the scheduler and, with TELEGRAM_TOKEN, the bot."""
    hotline = get_app()
    typer.echo(f"{hotline.config.city.name} 12345 hotline on http://{host}:{port}/  (Ctrl-C stops)")
    uvicorn.run(create_app(hotline), host=host, port=port, log_level="info")
