"""Intake: normalising, routing, numbering, and the same message never making two tickets."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, func, select

from hotline.bootstrap import bootstrap
from tests.conftest import PROJECT, local, make_settings
from tests.factories import submit
from tickets.errors import InvalidInput
from tickets.intake import CitizenRef, Submission
from tickets.models import Citizen, Ticket, TicketEvent
from tickets.states import State


def count(app, model) -> int:
    with Session(app.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_same_message_twice_gives_the_same_ticket(hotline):
    submission = Submission("telegram", "update-42", CitizenRef("telegram", "777"), "小区门口垃圾桶满了没人清运")
    first = hotline.tickets.submit(submission)
    second = hotline.tickets.submit(submission)
    assert first.created and not second.created
    assert second.ticket.number == first.ticket.number
    assert count(hotline, Ticket) == 1


def test_concurrent_duplicate_submissions_make_one_ticket(hotline):
    submission = Submission("telegram", "update-99", CitizenRef("telegram", "888"), "夜里工地施工噪音扰民，严重影响休息")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: hotline.tickets.submit(submission), range(16)))
    assert {r.ticket.number for r in results} == {results[0].ticket.number}
    assert sum(r.created for r in results) == 1
    assert count(hotline, Ticket) == 1 and count(hotline, Citizen) == 1


def test_concurrent_distinct_submissions_get_distinct_consecutive_numbers(hotline, clock):
    def send(i: int):
        return hotline.tickets.submit(
            Submission("web", f"m-{i}", CitizenRef("web", f"c-{i % 3}"), f"第{i}条：路灯坏了很久没人修"), local(2026, 11, 23, 10)
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(40)))
    numbers = sorted(r.ticket.number for r in results)
    assert numbers == [f"20261123-{i:04d}" for i in range(1, 41)]
    assert count(hotline, Citizen) == 3


def _submit_in_process(args: tuple[str, str, int]) -> str:
    database_url, home, worker = args
    app = bootstrap(make_settings(__import__("pathlib").Path(home), database_url), migrate=False)
    from tickets.routing import DepartmentKeywords, KeywordRouter  # noqa: PLC0415

    app.__dict__["classifier"] = KeywordRouter([DepartmentKeywords("urban_mgmt", "城乡建设", ["垃圾"])])
    number = app.tickets.submit(
        Submission("telegram", "same-update", CitizenRef("telegram", "555"), "垃圾站臭气熏天，请尽快处理")
    ).ticket.number
    app.engine.dispose()
    return number


def test_duplicate_submissions_from_several_processes_make_one_ticket(hotline, database_url, tmp_path):
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        numbers = pool.map(_submit_in_process, [(database_url, str(tmp_path), i) for i in range(4)])
    assert len(set(numbers)) == 1
    assert count(hotline, Ticket) == 1


def test_numbers_restart_each_local_day(hotline):
    # 23:30 in Shanghai on the 23rd is still the 23rd; 00:10 is the 24th.
    assert submit(hotline, now=local(2026, 11, 23, 23, 30)).number == "20261123-0001"
    assert submit(hotline, now=local(2026, 11, 24, 0, 10)).number == "20261124-0001"
    assert submit(hotline, now=local(2026, 11, 24, 8, 0)).number == "20261124-0002"


def test_text_is_normalised_before_it_is_stored(hotline):
    ticket = submit(hotline, text="  ＡＢＣ小区\x00\x07物业\u200b乱收费！！  \r\n\r\n\r\n\r\n请处理  ")
    assert ticket.text == "ABC小区物业乱收费！！\n\n请处理"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("   \n\t  ", "empty"), ("\x00\x01\x02", "empty"), ("投诉" * 50_000, "too long")],
)
def test_bad_text_is_refused_and_nothing_is_stored(hotline, text, message):
    with pytest.raises(InvalidInput, match=message):
        hotline.tickets.submit(Submission("web", "bad", CitizenRef("web", "x"), text))
    assert count(hotline, Ticket) == 0 and count(hotline, TicketEvent) == 0 and count(hotline, Citizen) == 0


def test_unknown_department_or_type_is_refused(hotline):
    with pytest.raises(InvalidInput, match="unknown department code 'nowhere'"):
        submit(hotline, department="nowhere")
    with pytest.raises(InvalidInput, match="unknown ticket type"):
        submit(hotline, ticket_type="praise")
    assert count(hotline, Ticket) == 0


def test_keyword_router_sends_clear_messages_to_departments_and_vague_ones_to_review(hotline):
    clear = submit(hotline, text="公交车司机拒载，公交线路站点太远", department=None, ticket_type=None)
    vague = submit(hotline, text="您好，我有点事想反映一下", department=None, ticket_type=None)
    assert clear.state == State.assigned and clear.department_code == "transport" and clear.topic == "交通运输"
    assert vague.state == State.new and vague.needs_review


def test_ticket_keeps_what_the_classifier_and_citizen_said(hotline):
    ticket = submit(hotline, text="请问公租房怎么申请，需要什么材料？", department=None, ticket_type=None)
    assert ticket.type == "consultation"
    assert ticket.nlu["department"] == "housing" and "department_scores" in ticket.nlu
    assert ticket.summary == "请问公租房怎么申请，需要什么材料"


def test_project_root_fixture_points_at_config():
    assert (PROJECT / "config.yml").exists()
