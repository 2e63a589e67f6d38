"""`hotline mask` and `hotline citizen export|erase|access-log`: masking and the citizen's rights."""

from __future__ import annotations

import sys

import typer

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
)
from hotline.cli.common import table as print_table
from hotline.cli.words import role_zh

citizen = typer.Typer(help="A citizen's rights over their data (个人信息保护法): export, erase; the access log.",
                      no_args_is_help=True)


def mask(texts: list[str] = typer.Argument(None, help="texts to mask (default: read stdin, one text a line)")) -> None:
    """Print each text masked exactly as /public, the dashboard, exports and leaders see it: one line
    out for every text (or line of stdin) in, masking only, no shortening."""
    from tickets.masking import mask_personal  # noqa: PLC0415 - the CLI starts without the tagger

    out = sys.stdout
    if texts:
        for text in texts:
            out.write(_one_line(mask_personal(text)) + "\n")
        out.flush()
        return
    # Binary lines split on b"\n" only, so a \r, \u2028 or other separator inside a line cannot turn one
    # line into two; each answer is flushed at once, so a script may write a line and wait for its answer.
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")
        out.write(_one_line(mask_personal(line)) + "\n")
        out.flush()


def _one_line(text: str) -> str:
    return " ".join(text.splitlines()) if text else ""


@citizen.command("export")
@handles_errors
def export(ref: str = typer.Argument(..., metavar="ID", help="the citizen's id, or CHANNEL:ACCOUNT (telegram:123456)"),
           now: str = NOW_OPTION) -> None:
    """Everything held about one person, as JSON: citizen row, tickets, events, replies, attachments,
    ratings, contacts, messages, notices, chat transcripts and state, and who viewed their tickets."""
    from hotline.privacy import export_citizen  # noqa: PLC0415

    emit_json(export_citizen(get_app(), ref, parse_now(now)))


@citizen.command("erase")
@handles_errors
def erase(ref: str = typer.Argument(..., metavar="ID", help="the citizen's id, or CHANNEL:ACCOUNT"),
          yes: bool = typer.Option(False, "--yes", help="do it (without: say what would be erased and stop)"),
          now: str = NOW_OPTION) -> None:
    """Remove or anonymise the person's personal data; their tickets and the statistics stay (masked)."""
    from hotline.privacy import erase_citizen, export_citizen  # noqa: PLC0415

    app = get_app()
    if not yes:
        held = export_citizen(app, ref, parse_now(now))
        counts = {k: len(v) for k, v in held.items() if isinstance(v, list)}
        listed = "、".join(f"{name} {count} 条" for name, count in counts.items() if count)
        typer.echo(f"将删除或匿名化群众 {ref} 的个人信息：{listed}。确认请加 --yes 再运行一次。", err=True)
        raise typer.Exit(1)
    changed = erase_citizen(app, ref, parse_now(now))
    typer.echo("已删除或匿名化（erased）：" + "、".join(f"{name} {count}" for name, count in changed.items()))


@citizen.command("access-log")
@handles_errors
def access_log(
    ticket: str = typer.Option("", "--ticket", help="only this ticket's views"),
    as_: int = typer.Option(..., "--as", help="your staff id (a leader of the centre)"),
    limit: int = typer.Option(200, "--limit", min=1, max=10000),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Who viewed which ticket's page and when (leaders only; the same record as /workbench/access)."""
    from sqlmodel import Session  # noqa: PLC0415

    from tickets.models import Staff  # noqa: PLC0415
    from tickets.views import TicketViews  # noqa: PLC0415

    app = get_app()
    with Session(app.engine) as session:
        staff = session.get(Staff, as_)
    if staff is None:
        fail(f"没有工作人员 #{as_}（见 hotline staff list）。")
        return
    rows = TicketViews(app.engine).access_log(staff, ticket, limit)
    if fmt == Format.json:
        emit_json([{"at": iso(r.at, app), "ticket": r.number, "staff": r.staff_name, "role": r.staff_role,
                    "department": r.department_code, "personal": r.personal} for r in rows])
        return
    print_table(["时间", "工单号", "查阅人", "身份", "单位", "含个人信息"],
                [[iso(r.at, app), r.number, r.staff_name, role_zh(r.staff_role), r.department_code or "热线中心",
                  "是" if r.personal else "否（已遮挡）"] for r in rows])
