"""The `hotline` command. Each group lives in a module of its own and is registered here."""

from __future__ import annotations

import logging
import sys

import typer

from hotline.cli import apikeys, demo, desk, doctor, jobs, kb, nlu, privacy, serve, staff, stats, tickets
from hotline.cli.common import get_app, handles_errors
from tickets.text import clean

app = typer.Typer(
    help="Hotline: the software of a city's mayor's hotline (市长热线 / 12345).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(tickets.app, name="ticket")
app.add_typer(staff.app, name="staff")
app.add_typer(desk.app, name="callback")
app.add_typer(stats.app, name="stats")
app.add_typer(jobs.app, name="jobs")
app.add_typer(jobs.outbox, name="outbox")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("doctor")(doctor.doctor)
app.add_typer(nlu.app, name="nlu")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(kb.app, name="kb")
app.command("classify")(nlu.classify)
app.command("mask")(privacy.mask)
app.add_typer(privacy.citizen, name="citizen")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="输出更多日志")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@app.command()
@handles_errors
def init() -> None:
    """Create or upgrade the database schema and load departments and staff from config.yml."""
    hotline = get_app()
    typer.echo(f"数据库就绪：{hotline.engine.url.render_as_string(hide_password=True)}")
    typer.echo(f"承办单位：{len(hotline.config.departments)} 个")


def run() -> None:
    """The `hotline` command: its arguments are cleaned as every other input is (no NUL reaches the database)."""
    sys.argv = [clean(arg) for arg in sys.argv]
    app()


if __name__ == "__main__":  # pragma: no cover
    run()
