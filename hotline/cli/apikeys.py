"""`hotline apikey add|list|revoke`: keys of the client apps that file requests through Open311."""

from __future__ import annotations

import typer

from hotline.cli.common import FORMAT_OPTION, Format, emit_json, get_app, handles_errors, iso, table
from tickets.apikeys import ApiKeys
from tickets.open311_models import ApiKey

app = typer.Typer(help="API keys of the client apps that file requests through Open311: add, list, revoke.",
                  no_args_is_help=True)


def _keys() -> ApiKeys:
    return ApiKeys(get_app().engine)


def _row(key: ApiKey) -> dict[str, object]:
    return {"id": key.id, "name": key.name, "prefix": key.prefix, "created_at": iso(key.created_at),
            "revoked_at": iso(key.revoked_at), "active": key.revoked_at is None}


@app.command()
@handles_errors
def add(name: str = typer.Argument(..., help="the client app's name, e.g. fixmystreet")) -> None:
    """Issue a key; it is shown once, alone on the last line (only its hash is stored)."""
    row, key = _keys().add(name, get_app().now())
    typer.echo(f"已为 {row.name} 新建 API 密钥 #{row.id}（只显示这一次，请妥善保存）：")
    typer.echo(key)


@app.command("list")
@handles_errors
def list_(fmt: Format = FORMAT_OPTION) -> None:
    """Every key: name, first characters, when issued, whether revoked."""
    rows = [_row(k) for k in _keys().everyone()]
    if fmt is Format.json:
        emit_json(rows)
        return
    table(["id", "名称", "前缀", "新建时间", "吊销时间", "状态"],
          [(r["id"], r["name"], f"{r['prefix']}…", r["created_at"], r["revoked_at"] or "",
            "有效" if r["active"] else "已吊销") for r in rows])


@app.command()
@handles_errors
def revoke(name: str = typer.Argument(..., help="the name given to `apikey add`")) -> None:
    """Revoke a key at once: requests with it are refused with 403."""
    row = _keys().revoke(name, get_app().now())
    typer.echo(f"已吊销 {row.name} 的 API 密钥 #{row.id}")
