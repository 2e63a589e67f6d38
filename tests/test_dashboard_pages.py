"""The dashboard reads as a Chinese page: channel, type labels in Chinese, overdue tickets linked to
the workbench, this week so far in the week picker, and an explicit 本周暂无数据 instead of empty charts."""

from __future__ import annotations

import re

import matplotlib.image
from fastapi.testclient import TestClient

from hotline import reports
from hotline.bootstrap import App
from hotline.passwords import hash_password
from tests.conftest import FakeClock, local
from tests.factories import submit
from tests.stats_week import REPORT_NOW, WEEK, build_week
from tickets.directory import Directory
from tickets.stats import parse_week
from web.app import create_app


def _leader_client(app: App) -> TestClient:
    Directory(app.engine).add("赵领导", "leader", None, None, "zhao", hash_password("leader-pass-1"))
    client = TestClient(create_app(app))
    response = client.post("/login", data={"username": "zhao", "password": "leader-pass-1", "next": "/dashboard"},
                           follow_redirects=False)
    assert response.status_code == 303
    return client


def test_channels_and_types_are_shown_in_chinese_and_overdue_tickets_link_to_the_workbench(
    hotline: App, clock: FakeClock
) -> None:
    week = build_week(hotline)
    submit(hotline, text="新华路路灯不亮", department="urban_mgmt", channel="telegram", now=local(2026, 5, 7, 20))
    submit(hotline, text="人民路井盖松动", department="urban_mgmt", channel="phone", now=local(2026, 5, 8, 8))
    clock.now = REPORT_NOW
    page = _leader_client(hotline).get(f"/dashboard?week={WEEK}").text
    channels = page.split('id="channels"', 1)[1].split("</p>", 1)[0]
    assert "网页" in channels and "Telegram" in channels and "电话" in channels
    assert not re.search(r"\b(web|phone|telegram)\b", channels)
    types = page.split('id="types"', 1)[1].split("</table>", 1)[0]
    assert "咨询" in types and "投诉" in types and "建议" in types
    assert not re.search(r">(consultation|complaint|suggestion)<", page)
    overdue = page.split('id="overdue"', 1)[1].split("</table>", 1)[0]
    assert f'<a href="/workbench/ticket/{week.numbers["T5"]}">{week.numbers["T5"]}</a>' in overdue
    assert "咨询" in overdue


def test_the_week_picker_offers_this_week_so_far(hotline: App, clock: FakeClock) -> None:
    clock.now = local(2026, 11, 25, 15)  # Wednesday of 2026-W48
    today = submit(hotline, text="幸福里小区门口垃圾没人清运", department="urban_mgmt", now=local(2026, 11, 25, 10))
    client = _leader_client(hotline)
    opening = client.get("/dashboard").text
    assert re.search(r'<option value="2026-W47" selected>上周 · 2026年第47周', opening)
    assert re.search(r'<option value="2026-W48" >本周（截至目前）· 2026年第48周（11月23日—29日）</option>', opening)
    running = client.get("/dashboard?week=2026-W48").text
    assert "截至目前" in running.split('id="period"', 1)[1].split("</span>", 1)[0]
    received = re.search(r'data-figure="received">[^<]*<b>(\d+)</b>', running)
    assert received is not None and received.group(1) == "1"
    assert today.number not in opening  # last week's page knows nothing of today


def test_a_week_without_tickets_says_so_instead_of_drawing_empty_axes(hotline: App, clock: FakeClock) -> None:
    clock.now = local(2026, 11, 23, 9)  # Monday morning: nothing received this week yet
    client = _leader_client(hotline)
    page = client.get("/dashboard?week=2026-W48").text
    assert '<p class="empty" id="no-data">本周暂无数据</p>' in page
    assert "departments.png" not in page and "ranking.png" not in page
    assert "无超期工单" in page
    past = client.get("/dashboard?week=2026-W40").text
    assert "该周暂无数据" in past
    report = reports.report_for(hotline, parse_week("2026-W48"))
    for name in reports.CHART_NAMES:
        height, width = matplotlib.image.imread(reports.chart_file(hotline, report, name)).shape[:2]
        assert height < width / 3, f"{name}.png should be the one-line no-data notice, not empty axes"
