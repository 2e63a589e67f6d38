"""The web chat at /chat: the same conversation as the Telegram bot, over HTTP, and in a real
headless Chromium (Debian's chromium package) with a screenshot kept in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotline.bootstrap import App
from tests import browser as kit
from tests.conftest import FakeClock
from tests.factories import people
from tickets.delivery import deliver_pending
from tickets.states import State
from web.app import create_app

ARTIFACTS = kit.ARTIFACTS
COMPLAINT = "我家楼上天天漏水，物业一直不管，开发商也不理"


def press(client: TestClient, reply: dict[str, Any], prefix: str, serial: list[int]) -> dict[str, Any]:
    data = next(b["data"] for row in reply["buttons"] for b in row if b["data"].startswith(prefix))
    serial[0] += 1
    return client.post("/chat/api/events", json={"id": f"b{serial[0]}", "kind": "button", "data": data}).json()


def test_web_chat_files_a_complaint_and_the_citizen_sees_the_answer_and_rates(hotline: App) -> None:
    client = TestClient(create_app(hotline))
    assert "市民服务热线" in client.get("/chat").text
    serial = [0]
    said = client.post("/chat/api/events", json={"id": "m1", "kind": "text", "text": COMPLAINT}).json()
    reply = said["replies"][0]
    if "在哪里" in reply["text"]:
        reply = client.post("/chat/api/events", json={"id": "m2", "kind": "text", "text": "幸福小区5栋"}).json()["replies"][0]
    assert "请确认" in reply["text"]
    picker = press(client, reply, "c:depts:", serial)["replies"][0]
    card = press(client, picker, "c:dept:", serial)["replies"][0]  # the first department listed: housing
    assert "市住房和城乡建设局" in card["text"]
    done = press(client, card, "c:submit:", serial)
    number = done["replies"][1]["text"].split("工单号：")[1].split("\n")[0]
    assert hotline.tickets.get(number).state == State.assigned

    # The same message sent again by the page (a retry) does nothing.
    again = client.post("/chat/api/events", json={"id": "m1", "kind": "text", "text": COMPLAINT}).json()
    assert again.get("duplicate") is True

    who = people(hotline)
    hotline.tickets.accept(number, who["housing_staff"])
    hotline.tickets.answer(number, who["housing_staff"], "已安排维修，请留意。")
    deliver_pending(hotline.engine, hotline.notifier, hotline.now())
    notices = client.get("/chat/api/notices").json()["notices"]
    assert len(notices) == 1 and "已安排维修" in notices[0]["text"]
    rated = press(client, notices[0], "rate:", serial)  # 满意
    assert "感谢您的评价" in rated["replies"][-1]["text"]
    assert hotline.tickets.get(number).state == State.closed

    stranger = TestClient(create_app(hotline))
    stranger.get("/chat")
    assert stranger.get("/chat/api/notices").json()["notices"] == []
    status = stranger.post("/chat/api/events", json={"id": "s1", "kind": "text", "text": f"/status {number}"}).json()
    assert "没有找到" in status["replies"][0]["text"]


def test_web_chat_without_a_session_is_refused(hotline: App) -> None:
    client = TestClient(create_app(hotline))
    response = client.post("/chat/api/events", json={"id": "x", "kind": "text", "text": "你好"})
    assert response.status_code == 401


def test_an_oversized_or_malformed_message_is_refused_in_chinese_without_echoing_it(hotline: App) -> None:
    client = TestClient(create_app(hotline))
    client.get("/chat")
    limit = hotline.config.bot.max_message_chars
    huge = "噪音扰民" * 13_000  # 52,000 characters, past the API's own bound
    response = client.post("/chat/api/events", json={"id": "m1", "kind": "text", "text": huge})
    assert response.status_code == 422
    body = response.json()
    assert body["limit"] == limit and body["length"] == len(huge)
    assert f"{limit} 字" in body["detail"] and "52000" in body["detail"] and "上限" in body["detail"]
    assert len(response.text) < 300 and "噪音扰民" not in response.text and "String should" not in response.text
    odd = client.post("/chat/api/events", json={"id": "m2", "kind": "voice", "text": "噪音扰民" * 10})
    assert odd.status_code == 422 and odd.json()["detail"] == "消息格式有误，请刷新页面后重试。"
    assert "噪音扰民" not in odd.text
    assert hotline.tickets.find() == []


@pytest.fixture
def served(hotline_sqlite: App) -> Iterator[str]:
    with kit.served(hotline_sqlite) as url:
        yield url


@pytest.mark.slow
def test_web_chat_in_headless_chromium_files_a_ticket(served: str, hotline_sqlite: App) -> None:
    kit.require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = kit.launch(playwright)
        page = browser.new_page(viewport={"width": 420, "height": 860}, locale="zh-CN")
        page.goto(served + "/chat")
        page.get_by_text("个人信息说明").wait_for()
        page.fill("#text", COMPLAINT)
        page.click("button.send")
        page.get_by_text("我家楼上天天漏水").first.wait_for()
        page.locator(".msg.bot").nth(1).wait_for()  # a locator: the page's CSP forbids wait_for_function's eval
        if page.get_by_text("发生在哪里").count():
            page.fill("#text", "幸福小区5栋")
            page.click("button.send")
        page.get_by_text("请确认").wait_for()
        page.get_by_role("button", name="改部门").click()
        page.get_by_role("button", name="市住房和城乡建设局").click()
        page.get_by_text("承办单位：市住房和城乡建设局").wait_for()
        page.get_by_role("button", name="提交").click()
        page.get_by_text("已受理，工单号").wait_for()
        page.screenshot(path=str(ARTIFACTS / "web_chat.png"), full_page=True)
        browser.close()
    found = hotline_sqlite.tickets.find()
    assert len(found) == 1 and found[0].department_code == "housing" and found[0].channel == "web"


@pytest.mark.slow
def test_web_chat_in_headless_chromium_survives_a_reload_keeps_refused_text_and_rates(
    served: str, hotline_sqlite: App, clock: FakeClock
) -> None:
    kit.require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    limit = hotline_sqlite.config.bot.max_message_chars
    no_emoji = "!/\\p{Extended_Pictographic}/u.test(document.body.innerText)"
    with sync_api.sync_playwright() as playwright:
        browser = kit.launch(playwright)
        page = browser.new_page(viewport={"width": 420, "height": 860}, locale="zh-CN")
        page.goto(served + "/chat")
        page.get_by_text("个人信息说明").wait_for()

        # A refused message stays in the box, with the limit said.
        page.fill("#text", "漏" * 6000)
        page.click("button.send")
        page.get_by_text(f"超过了 {limit} 字的上限").wait_for()
        assert len(page.input_value("#text")) == 6000 and page.locator(".msg.me").count() == 0
        assert f"/ {limit} 字" in page.inner_text("#count")

        # A pending draft comes back after a reload, with buttons that work.
        page.fill("#text", COMPLAINT)
        page.click("button.send")
        page.get_by_text("发生在哪里").wait_for()
        assert page.input_value("#text") == ""
        page.fill("#text", "幸福小区5栋")
        page.click("button.send")
        page.get_by_text("请确认").wait_for()
        page.reload()
        page.get_by_text("请确认").wait_for()
        assert page.locator(".msg.me").get_by_text(COMPLAINT).count() == 1 and page.get_by_text("个人信息说明").count() == 1
        page.screenshot(path=str(ARTIFACTS / "web_chat_restored.png"), full_page=True)
        page.get_by_role("button", name="提交").click()
        page.get_by_text("已受理，工单号").wait_for()
        assert page.locator(".bubble svg.icon").count() >= 1 and page.evaluate(no_emoji)

        # Quick buttons instead of commands.
        page.get_by_role("button", name="我的工单").click()
        page.get_by_text("您最近的工单").wait_for()
        (ticket,) = hotline_sqlite.tickets.find()
        assert ticket.state == State.assigned and ticket.department_code == "housing"
        page.get_by_role("button", name=f"查看 {ticket.number}（已派单）").click()
        page.get_by_text("状态：已派单").wait_for()

        # The department answers; rating keeps the answer; a reload shows it rated, without buttons.
        who, number = people(hotline_sqlite), ticket.number
        clock.advance(hours=3)
        hotline_sqlite.tickets.accept(number, who["housing_staff"])
        hotline_sqlite.tickets.answer(number, who["housing_staff"], "已安排维修师傅明天上门。")
        deliver_pending(hotline_sqlite.engine, hotline_sqlite.notifier, hotline_sqlite.now())
        notice = page.locator(".msg.notice")
        notice.get_by_role("button", name="满意", exact=True).click(timeout=15000)
        notice.get_by_text("您的评价：满意").wait_for()
        assert "已安排维修师傅明天上门。" in notice.inner_text()
        page.reload()
        page.locator(".msg.notice").get_by_text("您的评价：满意").wait_for()
        assert "已安排维修师傅明天上门。" in page.locator(".msg.notice").inner_text()
        assert page.locator(".msg.notice button:enabled").count() == 0
        assert page.evaluate(no_emoji)
        page.screenshot(path=str(ARTIFACTS / "web_chat_rated.png"), full_page=True)
        browser.close()
    assert hotline_sqlite.tickets.get(number).state == State.closed


def submit_complaint(client: TestClient, text: str, place: str) -> str:
    """One citizen's complaint through the chat, every message and button with the page-chosen ids
    `collide-*`, as a page that numbers its own messages would send them."""
    reply = client.post("/chat/api/events", json={"id": "collide-x", "kind": "text", "text": text}).json()["replies"][0]
    if "在哪里" in reply["text"]:
        reply = client.post("/chat/api/events", json={"id": "collide-p", "kind": "text", "text": place}).json()["replies"][0]
    data = next(b["data"] for row in reply["buttons"] for b in row if b["data"].startswith("c:submit:"))
    done = client.post("/chat/api/events", json={"id": "collide-s", "kind": "button", "data": data}).json()
    return str(done["replies"][1]["text"].split("工单号：")[1].split("\n")[0])


def test_two_chat_sessions_sending_the_same_event_id_each_get_their_own_ticket(hotline: App) -> None:
    first, second = TestClient(create_app(hotline)), TestClient(create_app(hotline))
    first.get("/chat")
    second.get("/chat")
    one = submit_complaint(first, COMPLAINT, "幸福小区5栋")
    two = submit_complaint(second, "解放路上的烧烤摊每天半夜油烟很大，噪音扰民", "解放路88号")
    assert one != two
    assert "烧烤" in hotline.tickets.get(two).text and "漏水" in hotline.tickets.get(one).text
    # Each citizen sees only their own ticket.
    mine = second.post("/chat/api/events", json={"id": "q1", "kind": "text", "text": f"/status {one}"}).json()
    assert "没有找到" in mine["replies"][0]["text"]
