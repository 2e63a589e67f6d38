"""Shared pieces of the CLI: the assembled app, output formats, and turning errors into exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from hotline.bootstrap import App, bootstrap
from hotline.cli.words import refusal_zh
from hotline.settings import ConfigError
from tickets.errors import DomainError
from tickets.models import Ticket
from tickets.timeutil import utcnow

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

_app: App | None = None


class Format(StrEnum):
    table = "table"
    json = "json"


FORMAT_OPTION = typer.Option(Format.table, "--format", "-f", help="table 给人看（中文），json 给脚本读（字段名不变）")
NOW_OPTION = typer.Option(None, "--now", help="以此时刻为准（ISO 8601，默认现在）")


def get_app() -> App:
    global _app
    if _app is None:
        _app = bootstrap()
    return _app


def parse_now(value: str | None) -> datetime:
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise typer.BadParameter(f"--now：应为 ISO 8601 时间，如 2026-11-23T09:00+08:00，收到 {value!r}") from err
    if moment.tzinfo is None:  # a bare local time means the city's local time
        moment = moment.replace(tzinfo=get_app().policy.calendar.tz)
    return moment


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[red]错误：[/red]{message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handles_errors(func: F) -> F:
    """Domain refusals (in Chinese) and config errors become one line on stderr and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as err:
            fail(refusal_zh(err), 1)
        except ConfigError as err:
            fail(str(err), 2)

    return wrapper  # type: ignore[return-value]


def iso(moment: datetime | None, app: App | None = None) -> str | None:
    if moment is None:
        return None
    app = app or get_app()
    return app.policy.calendar.local(moment).isoformat(timespec="seconds")


def ticket_dict(ticket: Ticket) -> dict[str, Any]:
    fields = ticket.model_dump()
    for key, value in fields.items():
        if isinstance(value, datetime):
            fields[key] = iso(value)
    return fields


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None, no_wrap: Sequence[int] = ()
) -> None:
    grid = Table(title=title)
    for index, column in enumerate(columns):
        grid.add_column(column, no_wrap=index in no_wrap)
    for row in rows:
        grid.add_row(*["" if cell is None else str(cell) for cell in row])
    console.print(grid)


@contextmanager
def exit_on_config_error() -> Iterator[None]:
    try:
        yield
    except ConfigError as err:
        fail(str(err), 2)
