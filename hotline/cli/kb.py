"""`hotline kb …`: import, export and search the knowledge base (知识库)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from hotline.cli.common import FORMAT_OPTION, Format, fail, get_app, handles_errors, table
from tickets import kb_files
from tickets.knowledge import Status

app = typer.Typer(help="The knowledge base (知识库): import, export, search.", no_args_is_help=True)


@app.command("import")
@handles_errors
def import_(
    file: Path = typer.Argument(..., help="CSV (UTF-8 or GBK; header question,answer,department[,variants,topic,source,valid_from,valid_until]) or YAML"),
    replace: bool = typer.Option(False, "--replace", help="the file becomes the whole knowledge base: entries it does not name are retired"),
) -> None:
    """Import entries (published at once); the same question again updates its entry."""
    hotline = get_app()
    rows = kb_files.read(file)
    if not rows:
        fail(f"{file}：文件中没有条目，知识库未作改动。")
    result = hotline.kb.import_rows(rows, replace=replace, actor=f"import {file.name}")
    typer.echo(f"{file.name}：新增 {result.created} 条，更新 {result.updated} 条，未变 {result.unchanged} 条"
               + (f"，下线 {result.retired} 条" if replace else ""))


@app.command("export")
@handles_errors
def export(file: Path = typer.Argument(..., help="CSV (UTF-8) or, for .yml/.yaml, YAML")) -> None:
    """Write the published entries in the import format."""
    entries = get_app().kb.entries(status=Status.published, limit=10**7)
    kb_files.write(file, entries)
    typer.echo(f"已导出 {len(entries)} 条已发布条目 -> {file}")


@app.command("search")
@handles_errors
def search(
    text: str = typer.Argument(None, help="the question; without it, one question a line from stdin"),
    limit: int = typer.Option(5, "--limit", "-k", min=1, max=100),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Best entries first, with `confident` (a citizen may be answered without a person)."""
    hotline = get_app()
    search = hotline.kb_search
    today = hotline.kb.local_day(hotline.now())

    def results(query: str) -> list[dict[str, object]]:
        return [a.as_json() for a in search.search(query, limit, today)]

    if text is not None:
        found = results(text)
        if fmt is Format.json:
            sys.stdout.write(json.dumps(found, ensure_ascii=False) + "\n")
        elif not found:
            typer.echo("没有找到相关条目。")
        else:
            table(["#", "条目", "问题", "部门", "得分", "可直接答复"],
                  [(a["id"], a["id"], a["question"], a["department"], a["score"], "是" if a["confident"] else "否")
                   for a in found][:limit])
        return
    search.warm()  # everything loads once, before the first line
    for line in sys.stdin:
        sys.stdout.write(json.dumps(results(line.strip()), ensure_ascii=False) + "\n")
        sys.stdout.flush()
