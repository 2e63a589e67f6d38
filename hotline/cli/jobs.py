"""`hotline jobs run|list` and `hotline outbox list`: the scheduler's work from the command line."""

from __future__ import annotations

from datetime import datetime

import typer
from sqlmodel import Session, select

from hotline import jobs as work
from hotline.cli.common import (
    FORMAT_OPTION,
    NOW_OPTION,
    Format,
    emit_json,
    fail,
    get_app,
    handles_errors,
    iso,
    parse_now,
    table,
)
from hotline.scheduler import job_table
from tickets.models import Notice

app = typer.Typer(help="Scheduled jobs: sweeps, reminders, 督办, digests (replayable with --now).", no_args_is_help=True)
outbox = typer.Typer(help="The outbox of notices (recorded, then delivered with retries).", no_args_is_help=True)


@app.command("run")
@handles_errors
def run(
    now: str = NOW_OPTION,
    only: list[str] = typer.Option(None, "--only", help=f"run only these jobs (repeatable): {', '.join(work.WORK)}"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Run the sweeps once as of a moment (default: the sweeps, digest and weekly report; nothing is sent
    unless `--only deliver`)."""
    moment = parse_now(now)
    names = [name.strip() for value in (only or []) for name in value.split(",") if name.strip()]
    try:
        results = work.run_jobs(get_app(), moment, names or None)
    except ValueError as err:
        fail(str(err), 2)
    if fmt is Format.json:
        emit_json({"now": iso(moment), "results": results})
        return
    table(["作业", "数量"], sorted(results.items()), title=f"截至 {iso(moment)}")


@app.command("list")
@handles_errors
def list_jobs(now: str = NOW_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """The scheduled jobs and their next run times (computed, and as stored by a running scheduler)."""
    hotline = get_app()
    rows = job_table(hotline, parse_now(now))
    for row in rows:
        for key in ("next_run", "stored_next_run"):
            value = row[key]
            row[key] = iso(value) if isinstance(value, datetime) else value
    if fmt is Format.json:
        emit_json(rows)
        return
    table(["id", "触发", "下次运行", "已存的下次运行", "内容"],
          [(r["id"], r["trigger"], r["next_run"], r["stored_next_run"] or "—", r["description"]) for r in rows])


@outbox.command("list")
@handles_errors
def list_outbox(
    pending: bool = typer.Option(False, "--pending", help="only notices not delivered yet"),
    kind: str = typer.Option(None, "--kind", help="only this kind (e.g. overdue, accept_reminder, digest)"),
    limit: int = typer.Option(200, "--limit", min=1),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Recorded notices, newest first."""
    hotline = get_app()
    with Session(hotline.engine) as session:
        query = select(Notice).order_by(Notice.id.desc()).limit(limit)  # type: ignore[union-attr]
        if pending:
            query = query.where(Notice.sent_at == None)  # noqa: E711
        if kind:
            query = query.where(Notice.kind == kind)
        notices = list(session.exec(query).all())
    if fmt is Format.json:
        emit_json([_notice_dict(n) for n in notices])
        return
    table(["id", "key", "收件人", "生成", "发送", "尝试次数", "内容"],
          [(n.id, n.key, f"{n.recipient_kind}:{n.recipient or ''}", iso(n.created_at), iso(n.sent_at) or "待发送",
            n.attempts, n.text.splitlines()[0][:40]) for n in notices])


def _notice_dict(notice: Notice) -> dict[str, object]:
    payload = notice.model_dump()
    for key in ("created_at", "next_attempt_at", "sent_at"):
        payload[key] = iso(payload[key])
    return payload
