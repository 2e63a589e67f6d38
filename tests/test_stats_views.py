"""The CLI, JSON, CSV, XLSX, dashboard and Telegram report give the same numbers for the same week."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

import hotline.cli.common as cli_common
from hotline import reports
from hotline.bootstrap import App
from hotline.cli.main import app as cli
from tests.conftest import PROJECT, FakeClock
from tests.stats_week import CITY, HOUSING, REPORT_NOW, WEEK, build_week
from tickets.stats import parse_week
from web.app import create_app

NOW = "2026-05-11T09:00:00+08:00"


@pytest.fixture
def run(hotline: App, tmp_path: Path) -> Iterator[Any]:
    """Invoke the `hotline` CLI against the test's database."""
    env = {"DATABASE_URL": hotline.settings.env.database_url, "HOTLINE_HOME": str(hotline.settings.env.home),
           "HOTLINE_CONFIG": str(PROJECT / "config.yml")}

    def invoke(*args: str) -> Any:
        cli_common._app = None
        result = CliRunner().invoke(cli, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result

    yield invoke
    cli_common._app = None


@pytest.fixture
def week_report(hotline: App) -> dict[str, Any]:
    build_week(hotline)
    return reports.report_for(hotline, parse_week(WEEK), REPORT_NOW)


def _number(text: str) -> Any:
    if text in ("", "None"):
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def test_cli_json_is_the_report(run: Any, week_report: dict[str, Any]) -> None:
    output = json.loads(run("stats", "weekly", "--week", WEEK, "--format", "json", "--now", NOW).stdout)
    assert output["city"] == week_report["city"]
    assert output["departments"] == week_report["departments"]
    assert output["overdue"] == week_report["overdue"]
    assert {k: output["city"][k] for k in CITY} == CITY


def test_cli_range_of_one_week_matches_the_week(run: Any, week_report: dict[str, Any]) -> None:
    output = json.loads(run("stats", "range", "--from", "2026-05-04", "--to", "2026-05-10", "-f", "json",
                            "--now", NOW).stdout)
    current = {k: v for k, v in output["city"].items() if k != "previous"}
    assert current == {k: v for k, v in week_report["city"].items() if k != "previous"}


def test_csv_and_xlsx_carry_the_same_numbers(run: Any, week_report: dict[str, Any], tmp_path: Path) -> None:
    text = run("stats", "weekly", "--week", WEEK, "-f", "csv", "--now", NOW).stdout
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    out = tmp_path / "week.xlsx"
    run("stats", "weekly", "--week", WEEK, "-f", "xlsx", "--out", str(out), "--now", NOW)
    book = load_workbook(out)
    city_xlsx = dict(zip(*list(book["全市"].iter_rows(values_only=True)), strict=True))
    values = list(book["部门"].iter_rows(values_only=True))
    xlsx_rows = [dict(zip(values[0], row, strict=True)) for row in values[1:]]
    city_csv = rows[0]
    assert city_csv["范围"] == "全市" and city_csv["名称"] == "全市"
    labels = dict(reports.COLUMNS)
    for name in CITY:
        expected = f"{100 * CITY[name]:.1f}%" if name in reports.RATES else str(CITY[name])
        assert city_csv[labels[name]] == expected, name
        assert city_xlsx[labels[name]] == CITY[name], name
    housing_csv = next(r for r in rows if r["代码"] == "housing")
    housing_xlsx = next(r for r in xlsx_rows if r["代码"] == "housing")
    assert housing_csv["受理量"] == "6" == str(housing_xlsx["受理量"]) and housing_csv["办结率"] == "66.7%"
    assert housing_csv["综合得分"] == str(HOUSING["score"]) and housing_csv["排名"] == "1" == str(housing_xlsx["排名"])
    for name in ("closure_rate", "satisfaction_rate"):
        assert round(housing_xlsx[labels[name]], 4) == HOUSING[name]
    assert round(housing_xlsx["综合得分"], 2) == HOUSING["score"]


def test_exports_open_right_in_excel_and_wps(run: Any, week_report: dict[str, Any], tmp_path: Path) -> None:
    csv_file, xlsx_file = tmp_path / "week.csv", tmp_path / "week.xlsx"
    run("stats", "weekly", "--week", WEEK, "-f", "csv", "--out", str(csv_file), "--now", NOW)
    run("stats", "weekly", "--week", WEEK, "-f", "xlsx", "--out", str(xlsx_file), "--now", NOW)
    raw = csv_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "全市".encode() in raw
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert header[:5] == ["范围", "代码", "名称", "受理量", "按时响应"] and "上期办结率" in header
    assert not any(re.fullmatch(r"[a-z_]+", name) for name in header)  # no English column names
    scopes = [row["名称"] for row in csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))) if row["范围"] == "诉求类型"]
    assert scopes == ["咨询", "投诉", "建议"]

    book = load_workbook(xlsx_file)
    assert book.sheetnames == ["全市", "部门", "诉求类型", "超期工单", "热点问题", "来件时段", "来件渠道", "说明"]
    departments = book["部门"]
    assert departments.freeze_panes == "D2"  # header row and rank, code, name stay in view
    assert all(book[name].freeze_panes.endswith("2") for name in book.sheetnames)
    headers = [c.value for c in departments[1]]
    assert headers[:4] == ["排名", "代码", "名称", "受理量"] and all(c.font.bold for c in departments[1])
    housing = next(row for row in departments.iter_rows(min_row=2) if row[1].value == "housing")
    by_header = dict(zip(headers, housing, strict=True))
    assert by_header["办结率"].number_format == "0.0%" and round(by_header["办结率"].value, 4) == HOUSING["closure_rate"]
    assert by_header["上期满意率"].number_format == "0.0%"
    assert by_header["受理量"].number_format == "General" and by_header["受理量"].value == 6
    name_width = departments.column_dimensions["C"].width
    assert name_width >= 2 * len("市住房和城乡建设局")  # Chinese characters are two units wide
    types = [row[1] for row in book["诉求类型"].iter_rows(min_row=2, values_only=True)]
    assert types == ["咨询", "投诉", "建议"]
    overdue = list(book["超期工单"].iter_rows(values_only=True))
    assert overdue[0] == ("工单号", "承办单位代码", "承办单位", "诉求类型", "超期(工作日)")
    assert len(overdue) == 2 and overdue[1][3] in ("咨询", "投诉", "建议")


def test_weekly_message_states_the_same_figures_with_charts(hotline: App, week_report: dict[str, Any]) -> None:
    text, files = reports.weekly_message(hotline, REPORT_NOW)
    assert "2026-W19" in text
    assert "受理量：10（上期1）" in text
    assert "响应率：60.0%" in text and "办结率：40.0%" in text and "按时办结率：80.0%" in text
    assert "满意率：66.7%" in text and "评价率：60.0%" in text and "退单率：10.0%" in text
    assert "平均办理时长：21.4 工作小时" in text and "超期工单：1 件" in text
    assert "1.市住房和城乡建设局(68.3)" in text
    assert [f.name for f in files] == ["trend.png", "departments.png", "ranking.png"]
    for path in files:
        assert path.is_relative_to(hotline.settings.env.home)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/login", data={"username": username, "password": password, "next": "/dashboard"},
                       follow_redirects=False)


def test_dashboard_shows_the_same_figures_after_login(
    hotline: App, clock: FakeClock, run: Any, week_report: dict[str, Any]
) -> None:
    clock.now = REPORT_NOW
    run("staff", "add", "--name", "王领导", "--role", "leader", "--username", "wang", "--password", "s3cret-pass")
    client = TestClient(create_app(hotline))
    redirect = client.get(f"/dashboard?week={WEEK}", follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"].startswith("/login?next=")
    assert _login(client, "wang", "wrong-password").status_code == 401
    assert _login(client, "wang", "s3cret-pass").status_code == 303
    page = client.get(f"/dashboard?week={WEEK}").text
    city = dict(re.findall(r'<div class="card" data-figure="(\w+)">[^<]*<b>([^<]*)</b>', page))
    assert city["received"] == "10" and city["closure_rate"] == "40.0%" and city["satisfaction_rate"] == "66.7%"
    assert city["mean_handling_hours"] == "21.4" and city["overdue"] == "1"
    housing = page.split('data-code="housing"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-figure="closure_rate">66.7%', housing) and 'data-figure="score">68.3' in housing
    exported = client.get(f"/dashboard/export?week={WEEK}&format=csv")
    cli_csv = run("stats", "weekly", "--week", WEEK, "-f", "csv", "--now", NOW).stdout
    assert exported.content.startswith("\ufeff".encode())  # the BOM that tells Excel the file is UTF-8
    assert exported.text.replace("\r\n", "\n") == cli_csv  # click's test runner turns CRLF into LF
    chart = client.get(f"/dashboard/chart/{WEEK}/ranking.png")
    assert chart.status_code == 200 and chart.content[:4] == b"\x89PNG"


def test_department_staff_may_not_read_the_dashboard(hotline: App, run: Any) -> None:
    run("staff", "add", "--name", "住建局小李", "--role", "staff", "--department", "housing", "--username", "li",
        "--password", "s3cret-pass")
    client = TestClient(create_app(hotline))
    _login(client, "li", "s3cret-pass")
    page = client.get("/dashboard")
    assert "无权查看" in page.text and 'id="departments"' not in page.text


def test_a_forged_session_cookie_is_refused(hotline: App) -> None:
    client = TestClient(create_app(hotline))
    client.cookies.set("hotline_staff", "1.forged.signature")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
