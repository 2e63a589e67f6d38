"""The desk's HTTP side through TestClient: bad input at /desk gets a clear Chinese answer and
changes nothing; the workbench list pages beyond 200 tickets and finds a caller by phone."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from hotline.bootstrap import App
from hotline.passwords import hash_password
from tests.conftest import local
from tests.factories import people, submit
from tickets.directory import Directory
from tickets.intake import CitizenRef, Submission
from web.app import create_app

PASSWORD = "desk-web-pass-1"


def signed_in(app: App, username: str) -> tuple[TestClient, str]:
    Directory(app.engine).set_password(username, hash_password(PASSWORD))
    client = TestClient(create_app(app))
    client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    page = client.get("/desk" if username == "operator" else "/workbench")
    token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    assert token
    return client, token.group(1)


def test_desk_refuses_bad_input_clearly_and_changes_nothing(hotline: App) -> None:
    client, token = signed_in(hotline, "operator")
    bad = client.post("/desk/submit", data={"csrf_token": token, "phone": "12-34", "text": "噪音扰民"})
    assert bad.status_code == 400 and "电话号码格式不正确" in bad.json()["error"]
    assert hotline.tickets.find() == []
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    p = people(hotline)
    closed = submit(hotline, now=local(2026, 11, 23, 9))
    hotline.tickets.accept(closed.number, p["housing_staff"])
    hotline.tickets.answer(closed.number, p["housing_staff"], "已处理")
    hotline.tickets.close(closed.number, p["dispatcher"])
    refused = client.post("/desk/join", data={"csrf_token": token, "number": closed.number, "text": "再问"})
    assert refused.status_code == 400 and "已办结" in refused.json()["error"]
    assert hotline.tickets.contact_count(closed.number) == 1
    assert client.post("/desk/join", data={"number": ticket.number}).status_code == 403  # no CSRF token
    staff_client, _ = signed_in(hotline, "dispatcher")
    assert staff_client.get("/desk").status_code == 200  # dispatchers may take calls too
    caller = client.get("/desk/caller", params={"phone": "139"}).json()
    assert caller == {"valid": False}


def test_workbench_list_pages_past_200_and_finds_a_caller_by_phone(hotline: App) -> None:
    for i in range(205):
        submit(hotline, f"小区物业乱收费第{i}号楼", now=local(2026, 11, 23, 9))
    hotline.tickets.submit(Submission("phone", "call-1", CitizenRef("phone", "13912345678", phone="13912345678"),
                                      "市民来电反映路灯不亮", phone="13912345678"), local(2026, 11, 23, 10))
    client, _ = signed_in(hotline, "dispatcher")
    first = client.get("/workbench/tickets")
    assert "共 206 张，第 1 / 5 页" in first.text
    last = client.get("/workbench/tickets", params={"page": 5})
    assert len(re.findall(r'<tr data-number=', last.text)) == 6
    found = client.get("/workbench/tickets", params={"q": "139 1234 5678"})
    assert "共 1 张" in found.text and "路灯不亮" in found.text
    phone_only = client.get("/workbench/tickets", params={"channel": "phone"})
    assert "共 1 张" in phone_only.text
    assert client.get("/workbench/tickets", params={"date_from": "23-11"}).status_code == 400
