"""`hotline staff …`: people who work the hotline, their roles and web logins."""

from __future__ import annotations

import typer

from hotline.cli.common import FORMAT_OPTION, Format, emit_json, fail, get_app, handles_errors, table
from hotline.cli.words import role_zh
from hotline.passwords import hash_password
from tickets.directory import Directory

app = typer.Typer(help="Staff, dispatchers and leaders: add, list, invite.", no_args_is_help=True)


def _directory() -> Directory:
    return Directory(get_app().engine)


@app.command()
@handles_errors
def add(
    name: str = typer.Option(..., "--name"),
    role: str = typer.Option(..., "--role", help="staff | head | dispatcher | leader | operator | kb_editor"),
    department: str = typer.Option(None, "--department", help="department code (staff and head)"),
    telegram_id: str = typer.Option(None, "--telegram-id"),
    username: str = typer.Option(None, "--username", help="login name for the web workbench"),
    password: str = typer.Option(None, "--password", help="web password (prompted when --username is given)"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Add a member of staff."""
    if username and not password:
        password = typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = hash_password(password) if password else None
    except ValueError as err:
        fail(str(err))
    staff = _directory().add(name, role, department, telegram_id, username, password_hash)
    if fmt is Format.json:
        emit_json(staff.model_dump(exclude={"password_hash"}, mode="json"))
    else:
        where = f"，{get_app().tickets.department_name(staff.department_code)}" if staff.department_code else ""
        typer.echo(f"已添加工作人员 #{staff.id} {staff.name}（{role_zh(staff.role)}{where}）")


@app.command()
@handles_errors
def password(username: str = typer.Option(..., "--username"), password: str = typer.Option(None, "--password")) -> None:
    """Set a web password."""
    if not password:
        password = typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    try:
        _directory().set_password(username, hash_password(password))
    except ValueError as err:
        fail(str(err))
    typer.echo(f"已为 {username} 设置密码")


@app.command("list")
@handles_errors
def list_(fmt: Format = FORMAT_OPTION) -> None:
    """Everyone, with their ids (use them with --as)."""
    people = _directory().everyone()
    if fmt is Format.json:
        emit_json([p.model_dump(exclude={"password_hash"}, mode="json") for p in people])
        return
    table(
        ["id", "姓名", "角色", "单位", "Telegram", "登录名", "在职"],
        [(p.id, p.name, role_zh(p.role), p.department_code, p.telegram_id, p.username, "是" if p.active else "否")
         for p in people],
    )


@app.command()
@handles_errors
def invite(
    department: str = typer.Option(None, "--department"),
    role: str = typer.Option("staff", "--role", help="staff | head | dispatcher | leader | operator | kb_editor"),
) -> None:
    """Print a one-time code; the person sends /join CODE to the bot."""
    hotline = get_app()
    code = Directory(hotline.engine).invite(role, department, hotline.now())
    typer.echo(code.code)
