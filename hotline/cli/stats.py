"""`hotline stats`: the leadership report on the command line, and the nightly snapshots."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import typer

from hotline import reports
from hotline.cli.common import NOW_OPTION, fail, get_app, handles_errors, parse_now
from tickets.stats import Period, date_range, parse_week, take_snapshot

app = typer.Typer(help="Weekly statistics for leadership: figures, rankings, overdue list, hot issues.",
                  no_args_is_help=True)
FORMAT = typer.Option("table", "--format", "-f", help="table | json | csv | xlsx | md")
OUT = typer.Option(None, "--out", "-o", help="write to this file instead of stdout (needed for xlsx)")


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{option}：应为日期，如 2026-11-16，收到 {value!r}") from None


def _emit(period: Period, fmt: str, out: Path | None, now: str | None) -> None:
    if fmt not in reports.FORMATS:
        fail(f"--format：应为 {', '.join(reports.FORMATS)} 之一，收到 {fmt!r}", 2)
    hotline = get_app()
    report = reports.report_for(hotline, period, parse_now(now))
    rendered = reports.render(report, fmt)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(rendered, bytes):
            out.write_bytes(rendered)
        else:
            out.write_text(rendered, encoding="utf-8")
        typer.echo(f"已写入 {out}", err=True)
    elif isinstance(rendered, bytes):
        fail("--format xlsx 需要 --out FILE.xlsx", 2)
    else:
        sys.stdout.write(rendered)


@app.command()
@handles_errors
def weekly(
    week: str = typer.Option(None, "--week", help="ISO week such as 2026-W47 (default: the last complete week)"),
    fmt: str = FORMAT,
    out: Path = OUT,
    now: str = NOW_OPTION,
) -> None:
    """The report for one ISO week (Monday to Sunday in the city's time zone), beside the week before."""
    period = parse_week(week) if week else reports.default_week(get_app(), parse_now(now))
    _emit(period, fmt, out, now)


@app.command("range")
@handles_errors
def range_(
    from_: str = typer.Option(..., "--from", help="first day, e.g. 2026-11-01"),
    to: str = typer.Option(..., "--to", help="last day (inclusive), e.g. 2026-11-30"),
    fmt: str = FORMAT,
    out: Path = OUT,
    now: str = NOW_OPTION,
) -> None:
    """The report for any range of days, beside the range of the same length before it."""
    _emit(date_range(_day(from_, "--from"), _day(to, "--to")), fmt, out, now)


@app.command()
@handles_errors
def snapshot(
    day: str = typer.Option(None, "--day", help="local day to snapshot (default: yesterday)"),
    days: int = typer.Option(1, "--days", min=1, max=3660, help="snapshot this many days ending at --day"),
    now: str = NOW_OPTION,
) -> None:
    """Store (or rebuild) the nightly statistics snapshot of past days; safe to run again."""
    hotline = get_app()
    moment = parse_now(now)
    last = _day(day, "--day") if day else hotline.policy.calendar.local_day(moment) - timedelta(days=1)
    for offset in range(days - 1, -1, -1):
        target = last - timedelta(days=offset)
        try:
            result = take_snapshot(hotline.engine, hotline.policy, target, reports.issue_words(hotline), moment)
        except ValueError as err:
            fail(str(err))
        typer.echo(f"{result.day}：{result.groups} 组，超期 {result.overdue} 件")


@app.command()
@handles_errors
def message(now: str = NOW_OPTION) -> None:
    """Print the Telegram weekly report and the chart files it would send."""
    text, files = reports.weekly_message(get_app(), parse_now(now))
    typer.echo(text)
    for path in files:
        typer.echo(f"图表：{path}")
