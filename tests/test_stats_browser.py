"""The dashboard and the public page in a real headless Chromium (Debian's chromium package) on a
simulated city (`hotline demo`), with screenshots kept in test-artifacts/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from hotline.bootstrap import App, keyword_router
from hotline.demo import simulate
from hotline.passwords import hash_password
from tests import browser as kit
from tests.conftest import FakeClock, local
from tickets.directory import Directory
from tickets.models import Ticket

ARTIFACTS = kit.ARTIFACTS
PERSONAL = re.compile(r"1[3-9]\d{9}|\d{17}[\dXx]")
NOW = local(2026, 11, 23, 9)


@pytest.fixture
def demo_city(hotline_sqlite: App, clock: FakeClock) -> Iterator[str]:
    kit.require_chromium()
    clock.now = NOW
    simulate(hotline_sqlite.engine, hotline_sqlite.policy, keyword_router(hotline_sqlite.config), 3, 20, 7, NOW)
    Directory(hotline_sqlite.engine).add("赵领导", "leader", None, None, "zhao", hash_password("leader-pass-1"))
    with kit.served(hotline_sqlite) as url:
        yield url


def _personal_numbers(app: App) -> dict[str, set[str]]:
    with Session(app.engine) as session:
        return {t.number: set(PERSONAL.findall(t.text)) for t in session.exec(select(Ticket)).all()}


@pytest.mark.slow
def charts_loaded(page, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Wait until every chart image has loaded. Polled from here: the page's CSP forbids the eval
    behind Playwright's wait_for_function, and a one-off evaluation is allowed."""
    page.locator("img.chart").first.wait_for(timeout=seconds * 1000)
    deadline = time.monotonic() + seconds
    while not page.eval_on_selector_all("img.chart", "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)"):
        assert time.monotonic() < deadline, "the charts did not load"
        time.sleep(0.1)


def test_dashboard_and_public_page_in_headless_chromium(demo_city: str, hotline_sqlite: App) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = kit.launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        page.goto(f"{demo_city}/dashboard")
        assert "/login?next=" in page.url  # no login, no dashboard
        page.fill("#username", "zhao")
        page.fill("#password", "leader-pass-1")
        page.click("#login")
        page.wait_for_url(re.compile(r".*/dashboard.*"))
        charts_loaded(page)
        widths = page.eval_on_selector_all("img.chart", "imgs => imgs.map(i => i.naturalWidth)")
        assert len(widths) == 3 and min(widths) > 400
        assert page.locator("#departments tr.bottom").count() == 3
        received = page.locator('#city [data-figure="received"] b').inner_text()
        assert int(received) > 50
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        channels = page.inner_text("#channels")
        assert "电话" in channels and "网页" in channels and not re.search(r"phone|web|telegram", channels)
        overdue_links = page.eval_on_selector_all("#overdue a", "links => links.map(a => a.getAttribute('href'))")
        assert overdue_links and all(re.fullmatch(r"/workbench/ticket/\d{8}-\d{4}", h) for h in overdue_links)
        labels = page.eval_on_selector_all("#hot tr td:first-child", "cells => cells.map(c => c.innerText)")
        assert labels and not [label for label in labels if re.search(r"哪里|这里|那里|我们|请问", label)]

        page.select_option("#week", "2026-W46")
        page.wait_for_url(re.compile(r".*week=2026-W46.*"))
        assert "2026-11-09 至 2026-11-15" in page.content()

        assert "本周（截至目前）" in page.inner_text("#week")
        page.select_option("#week", "2026-W48")
        page.wait_for_url(re.compile(r".*week=2026-W48.*"))
        assert "截至目前" in page.inner_text("#period")
        page.screenshot(path=str(ARTIFACTS / "dashboard_this_week.png"), full_page=True)

        page.goto(f"{demo_city}/dashboard?week=2026-W30")
        assert page.inner_text("#no-data") == "该周暂无数据"
        charts_loaded(page)
        page.screenshot(path=str(ARTIFACTS / "dashboard_empty_week.png"), full_page=True)

        public = browser.new_page(viewport={"width": 1400, "height": 900})
        public.goto(f"{demo_city}/public")
        public.screenshot(path=str(ARTIFACTS / "public.png"), full_page=True)
        text = public.inner_text("body")
        browser.close()

    shown = re.findall(r"\d{8}-\d{4}", text)
    assert len(shown) >= 10 and "市住房和城乡建设局" in text
    personal = _personal_numbers(hotline_sqlite)
    assert any(personal.get(number) for number in shown), "no displayed case had a phone or ID to mask"
    leaked = {n for numbers in personal.values() for n in numbers if n in text}
    assert leaked == set()
