"""`hotline serve`: the web server in one or more worker processes, the scheduler and the bot
(hotline/server.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile

import typer

from hotline.cli.common import fail, get_app, handles_errors
from hotline.logs import FORMATS, configure_logging

SQLITE_ONE_WORKER = (
    "--workers {n}: SQLite allows one writer at a time and the hotline keeps its scheduler's lock in "
    "PostgreSQL, so several processes need PostgreSQL: set DATABASE_URL=postgresql://user@host/hotline "
    "(see docs/DEPLOY.md), or run one worker on SQLite (--workers 1)."
)


@handles_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    webhook_url: str = typer.Option(
        None, "--webhook-url", help="public HTTPS base URL: Telegram posts updates to it (default: long polling)"
    ),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="web worker processes (more than one needs PostgreSQL)"),
    log_format: str = typer.Option("text", "--log-format", help="text, or json: one JSON object a line"),
) -> None:
    """Run the web server (chat, dashboard, public page), the scheduler and, with TELEGRAM_TOKEN, the bot."""
    if log_format not in FORMATS:
        fail(f"--log-format: expected text or json, got {log_format!r}", 2)
    configure_logging(log_format)
    hotline = get_app()  # migrates the schema: once, here, before any worker starts
    if workers > 1 and hotline.engine.dialect.name != "postgresql":
        fail(SQLITE_ONE_WORKER.format(n=workers), 2)
    from hotline.server import (  # uvicorn, FastAPI and the bot load only for serve
        ServeOptions,
        load_model,
        run,
    )
    from web.auth import secret_key

    secret_key(hotline)  # a generated login key is written once, before workers could race to write it
    load_model(hotline)  # trains a missing model here, once, rather than in every worker at the same time
    if workers > 1:
        hotline.__dict__.pop("classifier", None)  # each worker loads its own; this process only waits
    from hotline.bootstrap import import_sample_kb

    if import_sample_kb(hotline):
        typer.echo("知识库为空：已导入示例知识库；请用 `hotline kb import 文件 --replace` 换成本市的知识库")
    # Encodes new wording once here (cached on disk), so workers only read the vectors.
    typer.echo(f"知识库：{hotline.kb_search.warm()} 条可检索")
    bot = "Telegram 机器人已开启" if hotline.settings.env.telegram_token else "未设置 TELEGRAM_TOKEN：仅网页聊天"
    if hotline.settings.env.wechat is not None:
        bot += "；微信公众号已开启：/wechat"
    typer.echo(f"{hotline.config.city.name} 12345 热线已启动：http://{host}:{port}/chat  "
               f"（{workers} 个进程 workers；{bot}；按 Ctrl-C 停止）")
    options = ServeOptions(host=host, port=port, webhook_url=webhook_url, workers=workers, log_format=log_format)
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="hotline-metrics-")  # the workers' shared counters, fresh each start
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C once everything has stopped
            run(hotline, options)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    typer.echo("已停止")
