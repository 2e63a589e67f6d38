"""What reaches the hotline's edges: control characters, malformed numbers and bodies, a lost answer
to 提交, refusals and the pages' security headers (issue 15, items 7-10)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from bot.conversation import Conversation
from bot.events import Event
from bot.store import BotStore
from bot.telegram_adapter import build_application
from hotline.bootstrap import App
from hotline.passwords import hash_password
from hotline.server import add_webhook_route
from tests.factories import people, submit
from tickets.directory import Directory
from tickets.errors import InvalidInput
from tickets.states import State
from web.app import create_app

COMPLAINT = "楼上天天漏水，物业一直不管"
_ids = itertools.count(1)


class Page:
    """One browser's chat page."""

    def __init__(self, hotline: App) -> None:
        self.client = TestClient(create_app(hotline), raise_server_exceptions=False)
        self.client.get("/chat")

    def post(self, **body: Any) -> Any:
        return self.client.post("/chat/api/events", json={"id": f"e{next(_ids)}", **body})

    def say(self, words: str) -> dict[str, Any]:
        response = self.post(kind="text", text=words)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def press(self, data: str, ident: str | None = None) -> dict[str, Any]:
        response = self.post(kind="button", data=data, **({"id": ident} if ident else {}))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def button(reply: dict[str, Any], prefix: str) -> str:
    return next(b["data"] for row in reply["buttons"] for b in row if b["data"].startswith(prefix))


def card_of(page: Page, place: str = "幸福路1号") -> dict[str, Any]:
    reply = page.say(COMPLAINT)["replies"][0]
    if "在哪里" in reply["text"]:
        reply = page.say(place)["replies"][0]
    assert "请确认" in reply["text"], reply
    return reply


def number_in(result: dict[str, Any]) -> str:
    found = [r["text"].split("工单号：")[1].split("\n")[0] for r in result["replies"] if "工单号：" in r["text"]]
    assert found, result
    return found[0]


# -- item 7: control characters ------------------------------------------------------------------
def test_a_place_answer_with_nul_is_cleaned_and_the_ticket_is_filed(hotline: App) -> None:
    page = Page(hotline)
    card = card_of(page, "幸福路1号\x00\x07")
    number = number_in(page.press(button(card, "c:submit:")))
    ticket = hotline.tickets.get(number)
    assert ticket.state in (State.assigned, State.new) and "\x00" not in (ticket.location or "")
    assert "幸福路1号" in (ticket.location or "") or "幸福路1号" in ticket.text
    assert page.say("再反映一件事：路灯坏了\x00")["replies"]  # and the next message is answered too


def test_nul_in_an_event_id_a_status_number_or_an_address_gets_a_clear_4xx(hotline: App) -> None:
    page = Page(hotline)
    refused = page.client.post("/chat/api/events", json={"id": "x\x00y", "kind": "text", "text": "你好"})
    assert refused.status_code == 422 and "消息格式有误" in refused.json()["detail"]
    status = page.say(f"/status {submit(hotline).number}\x00")
    assert status["replies"]  # answered (the number, cleaned, is looked up), not a 500
    for path in ("/workbench/ticket/2026%00", "/public?week=2026-W01%00", "/chat/api/notices?after=1%00"):
        response = page.client.get(path)
        assert response.status_code == 400 and "控制字符" in response.text, path


def test_every_channel_cleans_its_texts_in_the_event() -> None:
    event = Event(channel="telegram", user_id="1", chat_id="1", event_id="u1", kind="text",
                  text="幸福路\x001号\ud800", place_name="广场\x1b", name="王\x00")
    assert (event.text, event.place_name, event.name) == ("幸福路1号", "广场", "王")


def test_a_staff_form_with_nul_is_cleaned_before_the_service_sees_it(hotline: App) -> None:
    Directory(hotline.engine).add("住建局小陈", "staff", "housing", username="chen", password_hash=hash_password("edge-pass-1"))
    client = TestClient(create_app(hotline), raise_server_exceptions=False)
    wrong = client.post("/login", data={"username": "chen\x00", "password": "nope\x00"}, follow_redirects=False)
    right = client.post("/login", data={"username": "chen\x00", "password": "edge-pass-1"}, follow_redirects=False)
    assert wrong.status_code == 401 and right.status_code == 303


# -- item 8: a lost answer to 提交 ---------------------------------------------------------------
def test_a_spent_submit_button_pressed_again_shows_the_ticket(hotline: App) -> None:
    page = Page(hotline)
    submit_data = button(card_of(page), "c:submit:")
    first = number_in(page.press(submit_data))
    again = page.press(submit_data)  # the page never saw the first answer and the citizen presses again
    assert number_in(again) == first and "失效" not in str(again)


def test_a_resent_event_is_shown_what_the_first_was_answered(hotline: App) -> None:
    page = Page(hotline)
    submit_data = button(card_of(page), "c:submit:")
    first = page.press(submit_data, ident="same-id")
    resent = page.press(submit_data, ident="same-id")
    assert resent["duplicate"] is True and number_in(resent) == number_in(first)


@pytest.mark.parametrize("pressed_again", [True, False])
def test_a_failed_transcript_write_keeps_the_draft_so_the_ticket_still_shows(hotline_sqlite: App,
                                                                            pressed_again: bool) -> None:
    """The ticket is committed, then saving the conversation fails: state and transcript are written
    together, so the draft is still there and 提交 again (or a reload) shows the same ticket."""
    hotline = hotline_sqlite
    page = Page(hotline)
    submit_data = button(card_of(page), "c:submit:")
    trigger = ("CREATE TRIGGER fail_{0} BEFORE {0} ON bot_state WHEN NEW.kind = 'transcript' "
               "BEGIN SELECT RAISE(ABORT, 'disk unavailable'); END")
    with hotline.engine.begin() as connection:
        connection.execute(text(trigger.format("INSERT")))
        connection.execute(text(trigger.format("UPDATE")))
    for _ in range(2):  # the first and a second page's 提交
        failed = page.post(kind="button", data=submit_data)
        assert failed.status_code == 500
    filed = hotline.tickets.find(limit=5)
    assert len(filed) == 1  # the ticket was committed before the failure
    with hotline.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER fail_INSERT"))
        connection.execute(text("DROP TRIGGER fail_UPDATE"))
    if pressed_again:
        assert number_in(page.press(submit_data)) == filed[0].number
    history = page.client.post("/chat/api/resume").json()["messages"]
    assert any(filed[0].number in m["text"] for m in history)  # a reload shows the number
    live = [b["data"] for m in history for row in m["buttons"] for b in row if b["live"]]
    assert submit_data not in live
    assert len(hotline.tickets.find(limit=5)) == 1


def test_state_and_transcript_are_saved_together(hotline: App) -> None:
    store = BotStore(hotline.engine)
    store.save_together("web", [("transcript", "s1", {"n": 1}), ("user", "s1", {"step": "idle"})], attempts=3)
    assert store.load("web", "transcript", "s1") == {"n": 1} and store.load("web", "user", "s1") == {"step": "idle"}


# -- item 9: 500s that are 4xx -------------------------------------------------------------------
@pytest.mark.parametrize("week", ["0001-W01", "9999-W52", "2026-W99"])
def test_a_week_out_of_range_is_a_400_in_chinese(hotline: App, week: str) -> None:
    response = TestClient(create_app(hotline), raise_server_exceptions=False).get(f"/public?week={week}")
    assert response.status_code == 400 and "周次" in response.json()["detail"]


def test_a_notice_id_beyond_64_bits_is_refused_in_chinese(hotline: App) -> None:
    page = Page(hotline)
    for after in ("9223372036854775808", "2147483648", "-1"):
        response = page.client.get(f"/chat/api/notices?after={after}")
        assert response.status_code == 422 and "消息格式有误" in response.json()["detail"]
    assert page.client.get("/chat/api/notices?after=2147483647").status_code == 200


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"update_id": 5, "message": {"text": 7}}', b'"x"'])
def test_a_malformed_webhook_body_with_the_right_secret_is_a_400(hotline_sqlite: App, body: bytes) -> None:
    application = build_application(Conversation(hotline_sqlite), BotStore(hotline_sqlite.engine), "123456:ABCDEFGHIJKL")
    api = FastAPI()
    add_webhook_route(api, application, "s3cret")
    response = TestClient(api, raise_server_exceptions=False).post(
        "/telegram/webhook", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret",
                                                    "Content-Type": "application/json"})
    assert response.status_code == 400 and "Telegram" in response.json()["detail"]


# -- item 10: smaller ----------------------------------------------------------------------------
def test_an_answer_of_only_invisible_characters_is_refused(hotline: App) -> None:
    who = people(hotline)
    number = submit(hotline).number
    hotline.tickets.accept(number, who["housing_staff"])
    for blank in ("\u200b", " \u200b\u200c\ufeff ", "\x00\x07"):
        with pytest.raises(InvalidInput):
            hotline.tickets.answer(number, who["housing_staff"], blank)
    assert hotline.tickets.get(number).state == State.accepted


def test_a_refused_dashboard_answers_403(hotline: App) -> None:
    Directory(hotline.engine).add("住建局小吴", "staff", "housing", username="wu", password_hash=hash_password("edge-pass-2"))
    client = TestClient(create_app(hotline))
    client.post("/login", data={"username": "wu", "password": "edge-pass-2"})
    refused = client.get("/dashboard")
    assert refused.status_code == 403 and "退出登录" in refused.text


def test_every_page_has_the_security_headers_and_the_favicon_is_served(hotline: App) -> None:
    client = TestClient(create_app(hotline), raise_server_exceptions=False)
    for path in ("/chat", "/login", "/public", "/static/chat.js", "/workbench/ticket/1%00", "/healthz", "/nothing"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon" and icon.content[:4] == b"\0\0\1\0"
    home = client.get("/", follow_redirects=False)  # the bare address is not a 404 for a new user
    assert home.status_code == 303 and home.headers["location"] == "/chat"
    for page in ("/chat", "/login", "/public"):  # no inline script is left for the CSP to block
        assert "<script>" not in client.get(page).text and "onchange=" not in client.get(page).text
