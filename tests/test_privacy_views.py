"""Leaders read masked tickets, the handling department reads them whole, and every view of a
ticket's page is recorded for the leaders (issue 15, items 3 and the access log)."""

from __future__ import annotations

import re

from hotline.bootstrap import App
from tests.conftest import FakeClock, local
from tests.factories import people, staff_id
from tests.test_workbench import PHONE, accounts, login  # noqa: F401 - the fixture is used by name
from tickets.intake import CitizenRef, Submission

PLACE = "幸福路12号3栋2单元501室"
ANSWER = "经办人周杰已上门，有问题请拨打13800001111"
COMMENT = "维修师傅张建军态度很好，我的电话13700002222"
AGAIN = "又被堵了，邻居孙美华可以作证，她的电话13600003333"  # a repeat contact: the citizen's words
CALLBACK = "接电话的是其女儿王小红，说晚上再打"  # the operator's note of what was said on the callback


def handled_ticket(hotline: App, clock: FakeClock) -> str:
    clock.now = local(2026, 11, 23, 9)
    submitted = hotline.tickets.submit(Submission(
        "web", "privacy-1", CitizenRef("web", "citizen-privacy"), f"车主刘大伟天天堵门，我的电话{PHONE}",
        ticket_type="complaint", department="housing", phone=PHONE, location=PLACE,
        attachments=[("photo", "uploads/x.jpg")]))
    number = submitted.ticket.number
    ids = people(hotline)
    hotline.tickets.accept(number, ids["housing_staff"])
    hotline.tickets.add_contact(number, AGAIN, "web", citizen_id=submitted.ticket.citizen_id)
    hotline.tickets.answer(number, ids["housing_staff"], ANSWER)
    hotline.tickets.record_callback(number, staff_id(hotline, "话务员张敏"), "no_answer", note=CALLBACK)
    hotline.tickets.rate(number, submitted.ticket.citizen_id, "satisfied", COMMENT)
    return number


def test_a_leader_reads_the_ticket_page_masked(hotline: App, accounts: dict[str, str], clock: FakeClock) -> None:  # noqa: F811
    number = handled_ticket(hotline, clock)
    page = login(hotline, accounts["leader"]).get(f"/workbench/ticket/{number}")
    assert page.status_code == 200
    for secret in (PHONE, "刘大伟", "501", "12号", "周杰", "13800001111", "张建军", "13700002222", "/workbench/attachment/",
                   "孙美华", "13600003333", "王小红"):
        assert secret not in page.text, secret
    assert "幸福路" in page.text and "已上门" in page.text and "态度很好" in page.text
    assert "又被堵了" in page.text and "晚上再打" in page.text


def test_the_handling_department_reads_it_whole(hotline: App, accounts: dict[str, str], clock: FakeClock) -> None:  # noqa: F811
    number = handled_ticket(hotline, clock)
    page = login(hotline, accounts["housing"]).get(f"/workbench/ticket/{number}").text
    for kept in (PHONE, "刘大伟", PLACE, "周杰", "13800001111", "13700002222", "/workbench/attachment/", AGAIN, "王小红"):
        assert kept in page, kept


def test_a_leader_may_not_open_attachments(hotline: App, accounts: dict[str, str], clock: FakeClock) -> None:  # noqa: F811
    number = handled_ticket(hotline, clock)
    link = re.search(r"/workbench/attachment/(\d+)", login(hotline, accounts["housing"]).get(
        f"/workbench/ticket/{number}").text)
    assert link
    assert login(hotline, accounts["leader"]).get(link.group(0)).status_code == 403


def test_the_leaders_overdue_list_and_search_are_masked(
    hotline: App, accounts: dict[str, str], clock: FakeClock  # noqa: F811
) -> None:
    clock.now = local(2026, 11, 16, 10)
    submitted = hotline.tickets.submit(Submission(
        "web", "privacy-2", CitizenRef("web", "citizen-2"), "房东李建华不退押金，电话13912340000",
        ticket_type="complaint", department="housing"))
    clock.now = local(2026, 11, 24, 9)
    leader = login(hotline, accounts["leader"])
    home = leader.get("/workbench").text
    assert submitted.ticket.number in home and "李建华" not in home and "13912340000" not in home
    day = submitted.ticket.number.split("-")[0]
    found = leader.get("/workbench/search", params={"q": day}).text
    assert submitted.ticket.number in found and "李建华" not in found


def test_every_view_is_recorded_and_only_leaders_read_the_record(
    hotline: App, accounts: dict[str, str], clock: FakeClock  # noqa: F811
) -> None:
    number = handled_ticket(hotline, clock)
    clock.now = local(2026, 11, 25, 14, 30)
    housing = login(hotline, accounts["housing"])
    housing.get(f"/workbench/ticket/{number}")
    refused = housing.get("/workbench/access")
    assert refused.status_code == 403 and number not in refused.text

    leader = login(hotline, accounts["leader"])
    leader.get(f"/workbench/ticket/{number}")
    record = leader.get("/workbench/access", params={"ticket": number}).text
    rows = [re.findall(r"<td>(?:<a [^>]+>)?([^<]*)", row) for row in re.findall(r'<tr data-number=.*?</tr>', record, re.S)]
    rows = [(cells[1], cells[0], cells[2], cells[5]) for cells in rows]
    assert rows == [(number, "2026-11-25 14:30", "李副市长", "否（已遮挡）"),
                    (number, "2026-11-25 14:30", "住建局小李", "是")]


def test_the_leaders_overdue_notice_is_masked_and_the_heads_is_not(hotline: App) -> None:
    from sqlmodel import Session, select

    from hotline.jobs import run_jobs
    from tickets.models import Notice
    from tickets.sweeps import SWEEPS

    submitted = hotline.tickets.submit(Submission(
        "web", "privacy-3", CitizenRef("web", "citizen-3"), "房东李建华不退押金，电话13912340000",
        ticket_type="complaint", department="housing"), local(2026, 11, 16, 10))
    assert "李建华" in submitted.ticket.summary
    run_jobs(hotline, local(2026, 11, 24, 10), SWEEPS)
    with Session(hotline.engine) as session:
        sent = {n.recipient_kind: n.text for n in session.exec(select(Notice).where(Notice.kind == "overdue")).all()}
    assert "李建华" in sent["staff"] and "李建华" not in sent["leaders"] and submitted.ticket.number in sent["leaders"]
