"""The workbench in a real headless Chromium (Debian's chromium package): a department signs for
and answers a ticket, a dispatcher routes one; screenshots are kept in test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from hotline.bootstrap import App
from hotline.passwords import hash_password
from tests import browser as kit
from tests.conftest import FakeClock, local
from tests.factories import people, submit
from tickets.directory import Directory
from tickets.states import State

ARTIFACTS = kit.ARTIFACTS
PASSWORD = "workbench-pass-1"


@pytest.fixture
def served(hotline_sqlite: App, clock: FakeClock) -> Iterator[str]:
    kit.require_chromium()
    directory = Directory(hotline_sqlite.engine)
    directory.add("住建局小李", "staff", "housing", username="housing1", password_hash=hash_password(PASSWORD))
    directory.set_password("dispatcher", hash_password(PASSWORD))
    with kit.served(hotline_sqlite) as url:
        yield url


@pytest.mark.slow
def test_department_and_dispatcher_work_in_headless_chromium(served: str, hotline_sqlite: App, clock: FakeClock) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    app = hotline_sqlite
    late = submit(app, "幸福里小区物业不修电梯，老人上下楼困难，联系电话13912345678", now=local(2026, 11, 16, 10))
    submit(app, "小区物业费涨价没有公示", now=local(2026, 11, 23, 8, 30))
    fire = submit(app, "地下车库物业堆放杂物冒烟了", now=local(2026, 11, 23, 8, 45))
    app.tickets.assign(fire.number, people(app)["dispatcher"], "housing", local(2026, 11, 23, 8, 50))  # urgent: via a dispatcher
    unsure = submit(app, "物业不管，停水三天，垃圾没人清运", department=None, now=local(2026, 11, 23, 8, 50))
    clock.now = local(2026, 11, 23, 11)
    with sync_api.sync_playwright() as playwright:
        browser = kit.launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page.goto(f"{served}/workbench")
        assert "/login?next=" in page.url
        page.fill("#username", "housing1")
        page.fill("#password", PASSWORD)
        page.click("#login")
        page.wait_for_url(re.compile(r".*/workbench$"))
        rows = page.locator("#queue tr[data-number]")
        assert rows.count() == 3 and rows.first.get_attribute("data-number") == late.number
        assert "超期" in rows.first.inner_text() and "【紧急】" in rows.nth(2).inner_text()
        page.screenshot(path=str(ARTIFACTS / "workbench_department.png"), full_page=True)

        page.click(f"text={late.number}")
        page.get_by_text("13912345678").wait_for()
        page.click("#accept")
        page.get_by_text("已签收。").wait_for()
        page.fill("#answer-text", "已责成物业三日内修复电梯，并安排专人回访。")
        page.click("#answer")
        page.get_by_text("已答复，答复已发送给群众").wait_for()
        page.screenshot(path=str(ARTIFACTS / "workbench_ticket.png"), full_page=True)

        dispatcher = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        dispatcher.goto(f"{served}/login")
        dispatcher.fill("#username", "dispatcher")
        dispatcher.fill("#password", PASSWORD)
        dispatcher.click("#login")
        dispatcher.wait_for_url(re.compile(r".*/workbench$"))
        dispatcher.screenshot(path=str(ARTIFACTS / "workbench_dispatcher.png"), full_page=True)
        dispatcher.click(f"#review >> text={unsure.number}")
        dispatcher.select_option("#assign-department", "water")
        dispatcher.click("#assign")
        dispatcher.get_by_text("已派单。").wait_for()
        browser.close()
    assert app.tickets.get(late.number).state == State.answered
    routed = app.tickets.get(unsure.number)
    assert routed.state == State.assigned and routed.department_code == "water"
