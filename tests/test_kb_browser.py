"""The knowledge base in a real headless Chromium: a citizen's consultation answered in the web chat,
已解决 counted on the dashboard, and 没解决 filed with the entry offered shown to the staff."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from hotline.bootstrap import App
from hotline.passwords import hash_password
from tests import browser as kit
from tests.conftest import PROJECT, FakeClock, local
from tickets import kb_files
from tickets.directory import Directory

QUESTION = "请问身份证丢了怎么补办？"


@pytest.fixture
def served(hotline_sqlite: App, clock: FakeClock) -> Iterator[str]:
    kit.require_chromium()
    clock.now = local(2026, 11, 23, 9)
    hotline_sqlite.kb.import_rows(kb_files.read(PROJECT / "data" / "kb" / "sample.csv"))
    hotline_sqlite.kb_search.warm()
    Directory(hotline_sqlite.engine).add("派单员甲", "dispatcher", None, None, "disp", hash_password("disp-pass-123"))
    with kit.served(hotline_sqlite) as url:
        yield url


def ask(page: object, url: str) -> None:
    page.goto(url + "/chat")  # type: ignore[attr-defined]
    page.get_by_text("个人信息说明").wait_for()  # type: ignore[attr-defined]
    page.fill("#text", QUESTION)  # type: ignore[attr-defined]
    page.click("button.send")  # type: ignore[attr-defined]
    page.get_by_text("这个回答解决您的问题了吗？").wait_for(timeout=30_000)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_consultation_answered_from_the_knowledge_base_in_the_browser(served: str, hotline_sqlite: App,
                                                                         clock: FakeClock) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = kit.launch(playwright)
        staff = browser.new_page(viewport={"width": 1400, "height": 900})
        staff.goto(f"{served}/dashboard?week=2026-W48")
        staff.fill("#username", "disp")
        staff.fill("#password", "disp-pass-123")
        staff.click("#login")
        staff.wait_for_url(re.compile(r".*/dashboard.*"))
        before = int(staff.locator('#city [data-figure="direct_answers"] b').inner_text())

        citizen = browser.new_context(locale="zh-CN").new_page()
        ask(citizen, served)
        assert "户政窗口" in citizen.locator(".msg.bot").last.inner_text()
        citizen.get_by_role("button", name="已解决").click()
        citizen.get_by_text("本次咨询已办结").wait_for()
        citizen.screenshot(path=str(kit.ARTIFACTS / "kb_direct_answer.png"), full_page=True)

        clock.advance(minutes=1)  # the figures count what happened before now
        staff.reload()
        assert int(staff.locator('#city [data-figure="direct_answers"] b').inner_text()) == before + 1
        assert "身份证丢了怎么补办" in staff.locator("#kb-top").inner_text()

        other = browser.new_context(locale="zh-CN").new_page()
        ask(other, served)
        other.get_by_role("button", name="没解决，转人工").click()
        other.get_by_text("我理解您的诉求如下").wait_for()
        other.get_by_role("button", name="提交").click()
        other.get_by_text("已受理，工单号").wait_for()
        number = re.search(r"工单号：(\d{8}-\d{4})", other.locator(".msg.bot").last.inner_text())
        assert number is not None
        staff.goto(f"{served}/workbench/ticket/{number.group(1)}")
        offered = staff.locator("#kb-offered").inner_text()
        assert "身份证丢了怎么补办" in offered and "没解决" in offered
        staff.screenshot(path=str(kit.ARTIFACTS / "kb_offered_ticket.png"), full_page=True)
        browser.close()
