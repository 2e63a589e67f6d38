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
    rows = list(csv.DictReader(io.StringIO(run("stats", "weekly", "--week", WEEK, "-f", "csv", "--now", NOW).stdout)))
    out = tmp_path / "week.xlsx"
    run("stats", "weekly", "--week", WEEK, "-f", "xlsx", "--out", str(out), "--now", NOW)
    sheet = load_workbook(out)["统计"]
    values = list(sheet.iter_rows(values_only=True))
    header, xlsx_rows = list(values[0]), [dict(zip(values[0], row, strict=True)) for row in values[1:]]
    assert header == list(rows[0])
    city_csv, city_xlsx = rows[0], xlsx_rows[0]
    for name in CITY:
        assert _number(city_csv[name]) == CITY[name], name
        assert city_xlsx[name] == CITY[name], name
    housing_csv = next(r for r in rows if r["code"] == "housing")
    housing_xlsx = next(r for r in xlsx_rows if r["code"] == "housing")
    for name in ("received", "closure_rate", "satisfaction_rate", "score", "rank"):
        assert _number(housing_csv[name]) == HOUSING[name] == housing_xlsx[name]


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
    assert exported.text == cli_csv
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
