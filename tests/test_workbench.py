"""The staff web workbench at /workbench: departments, dispatchers and leaders through FastAPI's
TestClient on both databases; every action goes through the domain and its refusals are Chinese."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from hotline.bootstrap import App
from hotline.passwords import hash_password
from tests.conftest import FakeClock, local
from tests.factories import people, submit
from tickets.directory import Directory
from tickets.states import State
from web.app import create_app

PASSWORD = "workbench-pass-1"
PHONE = "13912345678"
UNSURE = "物业不管，停水三天，垃圾没人清运"  # three departments' words: the keyword router is unsure


@pytest.fixture
def accounts(hotline: App) -> dict[str, str]:
    """Login names of one person per role (the dispatcher and leader come from config.yml)."""
    directory = Directory(hotline.engine)
    secret = hash_password(PASSWORD)
    directory.add("住建局小李", "staff", "housing", username="housing1", password_hash=secret)
    directory.add("水务局小王", "staff", "water", username="water1", password_hash=secret)
    directory.set_password("dispatcher", secret)
    directory.set_password("leader", secret)
    return {"housing": "housing1", "water": "water1", "dispatcher": "dispatcher", "leader": "leader"}


def login(hotline: App, username: str) -> TestClient:
    client = TestClient(create_app(hotline))
    response = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/workbench"
    return client


def csrf_of(page: Response) -> str:
    found = re.search(r'name="csrf[-_]token" (?:value|content)="([0-9a-f]+)"', page.text)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def post(client: TestClient, number: str, action: str, **form: str) -> Response:
    token = csrf_of(client.get(f"/workbench/ticket/{number}"))
    return client.post(f"/workbench/ticket/{number}/{action}", data={"csrf_token": token, **form},
                       follow_redirects=False)


def state(hotline: App, number: str) -> str:
    return hotline.tickets.get(number).state


def test_workbench_needs_a_login_and_api_docs_are_closed(hotline: App) -> None:
    client = TestClient(create_app(hotline))
    response = client.get("/workbench", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/workbench"
    for path in ("/api/docs", "/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404, path


def test_department_queue_lists_its_open_tickets_overdue_first_in_beijing_time(
    hotline: App, accounts: dict[str, str], clock: FakeClock
) -> None:
    late = submit(hotline, "物业不修电梯", now=local(2026, 11, 16, 10))  # complaint: 5 working days
    fresh = submit(hotline, "物业费涨价了", now=local(2026, 11, 23, 8, 30))
    fire = submit(hotline, "小区地下室物业堆放杂物冒烟了", now=local(2026, 11, 23, 8, 45))
    assert fire.state == State.new  # urgent: the dispatchers' emergency queue first, never straight to a department
    hotline.tickets.assign(fire.number, people(hotline)["dispatcher"], "housing", local(2026, 11, 23, 8, 50))
    submit(hotline, "停水三天了", department="water")
    clock.now = local(2026, 11, 23, 11)  # the first ticket's answer deadline was 2026-11-23 10:00

    page = login(hotline, accounts["housing"]).get("/workbench")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-number="([\d-]+)"( class="overdue")?', page.text)
    assert [n for n, _ in rows] == [late.number, fresh.number, fire.number]
    assert rows[0][1] and not rows[1][1]
    assert "2026-11-23 10:00" in page.text  # the deadline in Beijing time (02:00 UTC)
    assert "【紧急】" in page.text.split(f'data-number="{fire.number}"')[1].split("</tr>")[0]
    assert "停水三天了" not in page.text


def test_department_accepts_and_answers_and_the_page_shows_text_phone_history_and_reply(
    hotline: App, accounts: dict[str, str]
) -> None:
    ticket = submit(hotline, f"物业乱收费，请联系我{PHONE}")
    client = login(hotline, accounts["housing"])
    page = client.get(f"/workbench/ticket/{ticket.number}")
    assert "物业乱收费" in page.text and PHONE in page.text and 'id="accept"' in page.text
    assert 'id="answer"' not in page.text  # a department answers only after 签收
    assert "（网页）" in page.text  # the channel in Chinese, not its code

    accepted = post(client, ticket.number, "accept")
    assert accepted.status_code == 303 and state(hotline, ticket.number) == State.accepted
    assert "已签收" in client.get(accepted.headers["location"]).text

    answered = post(client, ticket.number, "answer", text="已约谈物业，多收费用将退还。")
    assert answered.status_code == 303 and state(hotline, ticket.number) == State.answered
    page = client.get(f"/workbench/ticket/{ticket.number}")
    assert "已约谈物业，多收费用将退还。" in page.text
    actions = re.findall(r'<tr data-action="(\w+)">', page.text)
    assert actions == ["submit", "assign", "accept", "answer"]
    assert "住建局小李" in page.text  # who did it

    again = post(client, ticket.number, "accept")
    assert again.status_code == 409 and "当前为“已答复”，不能签收" in again.text


def test_return_needs_a_reason_and_then_goes_back_to_the_dispatchers(hotline: App, accounts: dict[str, str]) -> None:
    ticket = submit(hotline, "物业不让装充电桩")
    client = login(hotline, accounts["housing"])
    refused = post(client, ticket.number, "return", reason="  ")
    assert refused.status_code == 400 and "退单理由不能为空" in refused.text
    assert state(hotline, ticket.number) == State.assigned
    assert post(client, ticket.number, "return", reason="属于供电部门职责").status_code == 303
    assert state(hotline, ticket.number) == State.returned

    review = login(hotline, accounts["dispatcher"]).get("/workbench")
    row = review.text.split(f'data-number="{ticket.number}"')[1].split("</tr>")[0]
    assert "市住房和城乡建设局退回：属于供电部门职责" in row


def test_extension_is_asked_once_and_the_dispatcher_grants_it(hotline: App, accounts: dict[str, str]) -> None:
    ticket = submit(hotline, "物业不修漏水的屋顶")
    staff = login(hotline, accounts["housing"])
    post(staff, ticket.number, "accept")
    too_long = post(staff, ticket.number, "request_extension", days="30", reason="需要施工")
    assert too_long.status_code == 400 and "延期天数须为 1 至 10 个工作日" in too_long.text
    not_a_number = post(staff, ticket.number, "request_extension", days="三", reason="需要施工")
    assert not_a_number.status_code == 400 and "延期天数须为" in not_a_number.text
    assert post(staff, ticket.number, "request_extension", days="3", reason="需要协调施工队").status_code == 303
    due = hotline.tickets.get(ticket.number).answer_due

    dispatcher = login(hotline, accounts["dispatcher"])
    home = dispatcher.get("/workbench").text
    assert "3 个工作日：需要协调施工队" in home.split('id="extensions"')[1]
    assert post(dispatcher, ticket.number, "grant_extension").status_code == 303
    extended = hotline.tickets.get(ticket.number)
    assert extended.extension_state == "granted" and extended.answer_due is not None and due is not None
    assert extended.answer_due > due

    twice = post(staff, ticket.number, "request_extension", days="2", reason="还要再等")
    assert twice.status_code == 409 and "已经申请过延期" in twice.text
    refused = post(dispatcher, ticket.number, "refuse_extension")
    assert refused.status_code == 409 and "没有待审批的延期申请" in refused.text


def test_another_departments_ticket_is_neither_visible_nor_actionable(hotline: App, accounts: dict[str, str]) -> None:
    ticket = submit(hotline, f"物业乱停车，电话{PHONE}")
    water = login(hotline, accounts["water"])
    page = water.get(f"/workbench/ticket/{ticket.number}")
    assert page.status_code == 403 and "不属于本单位" in page.text and "物业乱停车" not in page.text
    assert ticket.number not in water.get("/workbench").text
    assert "没有找到本单位" in water.get("/workbench/search", params={"q": ticket.number}).text

    token = csrf_of(water.get("/workbench"))  # water's own valid token, on a forged form
    events_before = len(hotline.tickets.events(ticket.number))
    for action, form in (("accept", {}), ("return", {"reason": "x"}), ("answer", {"text": "x"})):
        forged = water.post(f"/workbench/ticket/{ticket.number}/{action}", data={"csrf_token": token, **form})
        assert forged.status_code == 403 and "物业乱停车" not in forged.text and PHONE not in forged.text
    assert state(hotline, ticket.number) == State.assigned
    assert len(hotline.tickets.events(ticket.number)) == events_before
    assert water.get("/workbench/attachment/1").status_code == 404


def test_a_form_without_this_sessions_csrf_token_changes_nothing(hotline: App, accounts: dict[str, str]) -> None:
    ticket = submit(hotline, "物业不开发票")
    client = login(hotline, accounts["housing"])
    missing = client.post(f"/workbench/ticket/{ticket.number}/accept", data={})
    assert missing.status_code == 403 and "安全令牌" in missing.text
    other_session = csrf_of(login(hotline, accounts["housing"]).get(f"/workbench/ticket/{ticket.number}"))
    stolen = client.post(f"/workbench/ticket/{ticket.number}/accept", data={"csrf_token": other_session})
    assert stolen.status_code == 403
    assert state(hotline, ticket.number) == State.assigned


def test_dispatcher_reviews_urgent_first_with_the_nlus_departments_and_routes(
    hotline: App, accounts: dict[str, str]
) -> None:
    plain = submit(hotline, UNSURE, department=None)
    urgent = submit(hotline, UNSURE + "，楼道还冒烟了", department=None)
    client = login(hotline, accounts["dispatcher"])
    home = client.get("/workbench").text
    review = home.split('id="review"')[1].split("</table>")[0]
    assert re.findall(r'data-number="([\d-]+)"', review) == [urgent.number, plain.number]
    assert "市住房和城乡建设局（33%）" in review and "【紧急】" in review

    page = client.get(f"/workbench/ticket/{plain.number}").text
    assert "系统推荐" in page and PHONE not in page and 'id="assign"' in page
    assert post(client, plain.number, "assign", department="water").status_code == 303
    assigned = hotline.tickets.get(plain.number)
    assert assigned.state == State.assigned and assigned.department_code == "water"
    unknown = post(client, urgent.number, "assign", department="nowhere")
    assert unknown.status_code == 400 and "有效的承办单位" in unknown.text

    water = login(hotline, accounts["water"])
    post(water, plain.number, "return", reason="主要是物业问题")
    assert post(client, plain.number, "reroute", department="housing").status_code == 303
    assert hotline.tickets.get(plain.number).department_code == "housing"
    assert water.get(f"/workbench/ticket/{plain.number}").status_code == 403  # no longer water's


def test_dispatcher_invalidates_merges_closes_and_searches(hotline: App, accounts: dict[str, str]) -> None:
    spam = submit(hotline, "哈哈哈", department=None)
    duplicate = submit(hotline, UNSURE, department=None)
    original = submit(hotline, "物业不管停水")
    client = login(hotline, accounts["dispatcher"])

    no_reason = post(client, spam.number, "invalidate", reason="")
    assert no_reason.status_code == 400 and "无效原因不能为空" in no_reason.text
    assert post(client, spam.number, "invalidate", reason="骚扰信息").status_code == 303
    assert state(hotline, spam.number) == State.invalid

    missing = post(client, duplicate.number, "merge", into="20991231-9999")
    assert missing.status_code == 404 and "没有找到工单 20991231-9999" in missing.text
    into_spam = post(client, duplicate.number, "merge", into=spam.number)
    assert into_spam.status_code == 409 and state(hotline, duplicate.number) == State.new
    assert post(client, duplicate.number, "merge", into=original.number).status_code == 303
    merged = client.get(f"/workbench/ticket/{duplicate.number}").text
    assert state(hotline, duplicate.number) == State.merged and f">{original.number}</a>" in merged

    housing = login(hotline, accounts["housing"])
    post(housing, original.number, "accept")
    post(housing, original.number, "answer", text="已协调恢复供水")
    assert "已协调恢复供水" not in client.get("/workbench").text  # the queue lists numbers and summaries
    assert original.number in client.get("/workbench").text.split('id="answered"')[1]
    assert post(client, original.number, "close", note="联系不上群众").status_code == 303
    assert hotline.tickets.get(original.number).close_reason == "dispatcher"

    found = client.get("/workbench/search", params={"q": original.number}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/workbench/ticket/{original.number}"
    day = original.number.split("-")[0]
    listing = client.get("/workbench/search", params={"q": day}).text
    assert all(t.number in listing for t in (spam, duplicate, original))


def test_leader_reads_without_phone_or_actions_and_cannot_post(
    hotline: App, accounts: dict[str, str], clock: FakeClock
) -> None:
    ticket = submit(hotline, f"物业不修路灯，联系电话{PHONE}", now=local(2026, 11, 16, 10))
    clock.now = local(2026, 11, 24, 9)
    leader = login(hotline, accounts["leader"])
    home = leader.get("/workbench").text
    assert 'href="/dashboard"' in home and ticket.number in home.split('id="overdue"')[1]
    assert re.search(r'data-code="housing"><td>市住房和城乡建设局</td><td>1</td>', home)

    page = leader.get(f"/workbench/ticket/{ticket.number}").text
    assert "物业不修路灯" in page and PHONE not in page and "仅承办单位和派单员可见" in page
    assert 'id="actions"' not in page
    refused = post(leader, ticket.number, "accept")  # the leader's own token, on a hand-made form
    assert refused.status_code == 403 and "只有该工单的承办单位可以" in refused.text
    assert state(hotline, ticket.number) == State.assigned

