"""`hotline callback …` (电话回访) and the dispatchers' control of open tickets
(`hotline ticket retype|urgent|supervise|acknowledge`), from the command line."""

from __future__ import annotations

import typer

from hotline.cli.common import (
    FORMAT_OPTION,
    NOW_OPTION,
    Format,
    emit_json,
    get_app,
    handles_errors,
    iso,
    parse_now,
    table,
)
from hotline.cli.tickets import AS_OPTION, _print
from hotline.cli.tickets import app as ticket_app
from tickets.notices import type_zh
from tickets.states import CALLBACK_RESULT_LABELS_ZH

app = typer.Typer(help="Phone callbacks (电话回访): who is due for a call, and what they said.", no_args_is_help=True)


@app.command("list")
@handles_errors
def list_(now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Answered tickets due for a callback, the longest waiting first."""
    due = get_app().tickets.callbacks_due(parse_now(now))
    if fmt is Format.json:
        emit_json([{"number": d.ticket.number, "phone": d.phone, "due_at": iso(d.due_at), "attempts": d.attempts,
                    "channel": d.ticket.channel, "department": d.ticket.department_code,
                    "answered_at": iso(d.ticket.answered_at), "summary": d.ticket.summary} for d in due])
        return
    table(["工单号", "电话", "应回访", "已拨打", "类型", "单位", "摘要"],
          [(d.ticket.number, d.phone, (iso(d.due_at) or "")[:16], d.attempts, type_zh(d.ticket.type),
            d.ticket.department_code, d.ticket.summary) for d in due], title=f"{len(due)} 件待回访", no_wrap=(0,))


@app.command()
@handles_errors
def record(
    number: str,
    as_: int = AS_OPTION,
    result: str = typer.Option(..., "--result", help="satisfied | basically_satisfied | dissatisfied | no_answer"),
    note: str = typer.Option(None, "--note"),
    now: str = NOW_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Operator: record a callback. A rating is the citizen's; 不满意 reopens; unanswered calls add up."""
    service = get_app().tickets
    ticket = service.record_callback(number, as_, result, note, parse_now(now))
    if fmt is Format.json:
        _print(ticket, fmt)
        return
    typer.echo(f"已记录回访：{CALLBACK_RESULT_LABELS_ZH[result]}")
    _print(ticket, fmt)


@ticket_app.command()
@handles_errors
def retype(number: str, ticket_type: str = typer.Option(..., "--type", help="consultation | complaint | suggestion"),
           as_: int = AS_OPTION, now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Dispatcher: change an open ticket's type (改类型); its answer time limit is recomputed."""
    _print(get_app().tickets.retype(number, as_, ticket_type, parse_now(now)), fmt)


@ticket_app.command()
@handles_errors
def urgent(number: str, as_: int = AS_OPTION, note: str = typer.Option(None, "--note"),
           now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Dispatcher: mark an open ticket urgent (标记紧急)."""
    _print(get_app().tickets.mark_urgent(number, as_, note, parse_now(now)), fmt)


@ticket_app.command()
@handles_errors
def supervise(number: str, text: str = typer.Option(..., "--text"), as_: int = AS_OPTION,
              now: str = NOW_OPTION) -> None:
    """Dispatcher: a supervision note (督办) that the department must acknowledge."""
    get_app().tickets.supervise(number, as_, text, parse_now(now))
    typer.echo(f"已督办工单 {number}")


@ticket_app.command()
@handles_errors
def acknowledge(number: str, as_: int = AS_OPTION, now: str = NOW_OPTION) -> None:
    """Department: acknowledge the ticket's supervision notes (督办已阅)."""
    count = get_app().tickets.acknowledge_supervision(number, as_, parse_now(now))
    typer.echo(f"已确认 {count} 条督办")
