"""The hotline centre's desk in a real headless Chromium: an operator takes calls with the keyboard
only (counting the actions beyond typing the number and the summary), a repeat caller's call joins
their open ticket, an urgent call reaches the dispatchers' emergency queue; a dispatcher re-routes
and re-types an assigned ticket; an operator records a callback and 不满意 reopens the ticket."""

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

PASSWORD = "desk-pass-1"
CALLER = "13912345678"
COMPLAINT = "市民来电反映幸福里小区物业乱收费，交房后房屋漏水也不管"


@pytest.fixture
def served(hotline_sqlite: App) -> Iterator[str]:
    kit.require_chromium()
    directory = Directory(hotline_sqlite.engine)
    for username in ("operator", "dispatcher"):
        directory.set_password(username, hash_password(PASSWORD))
    with kit.served(hotline_sqlite) as url:
        yield url


def sign_in(browser, url: str, username: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(f"{url}/login?next=/workbench")
    page.focus("#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*:\d+/workbench$"))
    return page


@pytest.mark.slow
def test_operator_takes_calls_with_the_keyboard_only(served: str, hotline_sqlite: App, clock: FakeClock) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    app = hotline_sqlite
    clock.now = local(2026, 11, 23, 10)
    with sync_api.sync_playwright() as playwright:
        browser = kit.launch(playwright)
        page = sign_in(browser, served, "operator")
        page.goto(f"{served}/desk")
        page.locator("#phone:focus").wait_for()  # locators, not wait_for_function: the page's CSP forbids eval
        actions = 0
        page.keyboard.type(CALLER)
        page.keyboard.press("Tab"); actions += 1  # noqa: E702
        page.keyboard.type(COMPLAINT)
        sync_api.expect(page.locator("#topic")).not_to_have_text("—")
        assert page.input_value("#type") == "complaint" and page.input_value("#department") == "housing"
        page.keyboard.press("Control+Enter"); actions += 1  # noqa: E702
        number = page.locator("#result .number").inner_text()
        page.screenshot(path=str(kit.ARTIFACTS / "desk_submitted.png"), full_page=True)
        assert actions <= 3
        ticket = app.tickets.get(number)
        assert (ticket.channel, ticket.contact_phone, ticket.state, ticket.department_code) == (
            "phone", CALLER, State.assigned, "housing")
        assert "答复时限" in page.locator("#result").inner_text()

        page.keyboard.press("Alt+n")  # the same caller calls again
        page.keyboard.type(CALLER)
        page.locator(f"#caller div[data-number='{number}']").wait_for()
        page.keyboard.press("Tab")
        page.keyboard.type("市民再次来电，漏水越来越严重")
        page.keyboard.press("Alt+j")
        page.get_by_text("已合并为重复来电（第 2 次）").wait_for()
        assert app.tickets.contact_count(number) == 2

        page.keyboard.press("Alt+n")  # an emergency: never straight to a department
        page.keyboard.type("13800001111")
        page.keyboard.press("Tab")
        page.keyboard.type("市民来电反映人民广场地铁站门口有人晕倒了，没有呼吸了")
        sync_api.expect(page.locator("#urgent")).to_be_checked()
        page.keyboard.press("Control+Enter")
        page.get_by_text("已受理（紧急，已送派单员）").wait_for()
        urgent_number = page.locator("#result .number").inner_text()
        urgent = app.tickets.get(urgent_number)
        assert urgent.urgent and urgent.state == State.new and urgent.department_code is None
        assert len(app.tickets.handling_times()) == 1 and app.tickets.handling_times()[0].calls == 3

        dispatcher = sign_in(browser, served, "dispatcher")
        dispatcher.locator(f"#emergency [data-number='{urgent_number}']").wait_for()
        assert dispatcher.locator("#handling").inner_text().count("话务员张敏") == 1
        dispatcher.screenshot(path=str(kit.ARTIFACTS / "desk_dispatcher_queue.png"), full_page=True)
        browser.close()


@pytest.mark.slow
def test_dispatcher_controls_an_assigned_ticket_and_a_callback_reopens_it(served: str, hotline_sqlite: App,
                                                                          clock: FakeClock) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    app = hotline_sqlite
    p = people(app)
    routed = submit(app, "小区物业乱收费", now=local(2026, 11, 23, 9))
    answered = submit(app, "小区电梯坏了物业不修", now=local(2026, 11, 23, 9), channel="phone")
    app.tickets.accept(answered.number, p["housing_staff"], local(2026, 11, 23, 9, 30))
    app.tickets.answer(answered.number, p["housing_staff"], "已修复", local(2026, 11, 23, 10))
    clock.now = local(2026, 11, 23, 11)
    with sync_api.sync_playwright() as playwright:
        browser = kit.launch(playwright)
        dispatcher = sign_in(browser, served, "dispatcher")
        dispatcher.goto(f"{served}/workbench/ticket/{routed.number}")
        dispatcher.select_option("#reroute-department", "water")
        dispatcher.click("#reroute")
        dispatcher.get_by_text("已改派。").wait_for()
        dispatcher.select_option("#retype-type", "consultation")
        dispatcher.click("#retype")
        dispatcher.get_by_text("已改类型").wait_for()
        moved = app.tickets.get(routed.number)
        assert (moved.department_code, moved.type, moved.state) == ("water", "consultation", State.assigned)

        operator = sign_in(browser, served, "operator")
        row = operator.locator(f"#callbacks-due tr[data-number='{answered.number}']")
        row.locator("select").select_option("dissatisfied")
        row.locator("input[name=note]").fill("电梯又坏了")
        row.locator("button").click()
        operator.get_by_text("已记录回访结果。").wait_for()
        operator.screenshot(path=str(kit.ARTIFACTS / "desk_callback.png"), full_page=True)
        browser.close()
    reopened = app.tickets.get(answered.number)
    assert reopened.state == State.reopened and reopened.rating == "dissatisfied"
    assert [a.result for a in app.tickets.callback_attempts(answered.number)] == ["dissatisfied"]
