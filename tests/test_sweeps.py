"""The scheduler's sweeps on a real database (SQLite and PostgreSQL), with an injected clock.

Dates: National Day 2026 is Thu 1 – Wed 7 October (chinese-calendar), Saturday 10 October is a
make-up working day (调休) and Sunday 11 October a weekend day.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from hotline.jobs import run_jobs
from tests.conftest import local
from tests.factories import people, submit
from tickets.models import Notice
from tickets.states import State
from tickets.sweeps import SWEEPS, SweepSettings, working_moment_before


def notices(app, kind: str | None = None) -> list[Notice]:
    with Session(app.engine) as session:
        query = select(Notice).order_by(Notice.id)
        if kind:
            query = query.where(Notice.kind == kind)
        return list(session.exec(query).all())


def sweep_twice(app, at: datetime) -> list[tuple[str, str, str | None]]:
    """Run every ticket sweep twice at the same instant; return what the first run recorded."""
    before = {n.id for n in notices(app)}
    app.clock.now = at
    first = run_jobs(app, at, SWEEPS)
    made = [(n.kind, n.recipient_kind, n.recipient) for n in notices(app) if n.id not in before]
    again = run_jobs(app, at, SWEEPS)
    assert sum(again.values()) == 0, f"second run at {at} did something: {again}"
    assert len(notices(app)) == len(before) + len(made)
    assert sum(first.values()) == len(made)  # auto_close: one closure, one notice to the citizen
    return made


def test_a_ticket_lives_through_reminder_escalation_answer_callback_and_auto_close(hotline):
    p = people(hotline)
    staff = lambda name: ("staff", str(p[name]))  # noqa: E731
    leaders = ("leaders", None)
    ticket = submit(hotline, now=local(2026, 9, 30, 10))  # Wednesday before National Day, a complaint
    assert ticket.accept_due == local(2026, 10, 8, 10)  # 14 h on 30 Sep, 10 h on 8 Oct
    assert ticket.answer_due == local(2026, 10, 13, 10)  # 30 Sep, 8, 9, 10 (调休 Saturday), 12, 13 Oct

    assert sweep_twice(hotline, local(2026, 9, 30, 21, 59)) == []
    # half the accept limit (12 working hours) has passed at 22:00
    assert sweep_twice(hotline, local(2026, 9, 30, 22)) == [("accept_reminder", "department", "housing")]
    assert sweep_twice(hotline, local(2026, 10, 5, 12)) == []  # the holiday: no working time passes
    assert sweep_twice(hotline, local(2026, 10, 8, 9, 59)) == []
    assert sweep_twice(hotline, local(2026, 10, 8, 10)) == [("accept_overdue", *staff("housing_head"))]

    hotline.tickets.accept(ticket.number, p["housing_staff"], local(2026, 10, 8, 11))
    assert sweep_twice(hotline, local(2026, 10, 11, 12)) == []  # Sunday: the deadline is still 1 working day off
    assert sweep_twice(hotline, local(2026, 10, 12, 9, 59)) == []
    assert sweep_twice(hotline, local(2026, 10, 12, 10)) == [("answer_reminder", "department", "housing")]
    assert sweep_twice(hotline, local(2026, 10, 13, 10)) == [("overdue", *staff("housing_head")), ("overdue", *leaders)]
    assert sweep_twice(hotline, local(2026, 10, 15, 9, 59)) == []
    # escalate_every_days = 2: the second level two working days after the deadline
    assert sweep_twice(hotline, local(2026, 10, 15, 10)) == [("overdue", *staff("housing_head")), ("overdue", *leaders)]
    assert "第2级" in notices(hotline, "overdue")[-1].text

    hotline.tickets.answer(ticket.number, p["housing_staff"], "已约谈物业，退还多收费用并维修漏水。", local(2026, 10, 16, 9))
    assert sweep_twice(hotline, local(2026, 10, 17, 8, 59)) == []
    citizen = ("citizen", str(ticket.citizen_id))
    assert sweep_twice(hotline, local(2026, 10, 17, 9)) == [("callback", *citizen)]  # a Saturday: citizens rate then too
    callback = notices(hotline, "callback")[0]
    assert callback.buttons and "评价" in callback.text
    assert sweep_twice(hotline, local(2026, 10, 19, 8, 59)) == []
    assert sweep_twice(hotline, local(2026, 10, 19, 9)) == [("closed_unrated", *citizen)]

    closed = hotline.tickets.get(ticket.number)
    assert closed.state == State.closed and closed.close_reason == "unrated" and closed.rating is None
    assert closed.answered_on_time is False and closed.accepted_on_time is False
    actions = [e.action for e in hotline.tickets.events(ticket.number)]
    assert actions == ["submit", "assign", "accept", "answer", "auto_close"]


def test_a_rerouted_ticket_gets_reminders_for_its_new_clock(hotline):
    p = people(hotline)
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    assert sweep_twice(hotline, local(2026, 11, 23, 21)) == [("accept_reminder", "department", "housing")]
    hotline.tickets.return_ticket(ticket.number, p["housing_head"], "不属于本单位职责", local(2026, 11, 23, 22))
    hotline.tickets.reroute(ticket.number, p["dispatcher"], "water", local(2026, 11, 24, 9))
    made = sweep_twice(hotline, local(2026, 11, 24, 21))
    assert made == [("accept_reminder", "department", "water")]


def test_a_scheduler_down_for_two_days_sends_one_notice_per_ticket_and_kind(hotline):
    p = people(hotline)
    never_accepted = submit(hotline, now=local(2026, 11, 23, 9))  # Monday; accept due Tue 09:00
    late = submit(hotline, now=local(2026, 11, 16, 9))  # answer due Mon 23 Nov 09:00
    hotline.tickets.accept(late.number, p["housing_staff"], local(2026, 11, 16, 10))
    answered = submit(hotline, now=local(2026, 11, 19, 9))
    hotline.tickets.accept(answered.number, p["housing_staff"], local(2026, 11, 19, 10))
    hotline.tickets.answer(answered.number, p["housing_staff"], "已处理。", local(2026, 11, 23, 8))
    # Down from Monday 08:00 to Thursday 12:00: the late ticket is 3 working days overdue (level 2),
    # the new one missed both its reminder and its accept limit, the answered one its whole window.
    made = sweep_twice(hotline, local(2026, 11, 26, 12))
    assert sorted(made) == sorted([
        ("accept_overdue", "staff", str(p["housing_head"])),  # not the reminder it missed
        ("overdue", "staff", str(p["housing_head"])), ("overdue", "leaders", None),  # level 2 only
        ("closed_unrated", "citizen", str(answered.citizen_id)),  # closed; no late callback
    ])
    keys = {n.key.split("/")[0] for n in notices(hotline)}
    assert f"overdue:{late.id}:0.0:2" in keys and f"overdue:{late.id}:0.0:1" not in keys
    assert f"accept_overdue:{never_accepted.id}:0" in keys
    assert hotline.tickets.get(answered.number).state == State.closed


def test_short_limits_get_no_answer_reminder(hotline):
    consultation = submit(hotline, text="请问公租房怎么申请？", ticket_type="consultation", now=local(2026, 11, 23, 9))
    assert consultation.answer_due == local(2026, 11, 24, 9)
    made = sweep_twice(hotline, local(2026, 11, 23, 21))
    assert ("answer_reminder", "department", "housing") not in made


def test_a_department_without_a_head_escalates_to_the_dispatchers(hotline):
    from tickets.models import Staff

    with Session(hotline.engine) as session:
        for head in session.exec(select(Staff).where(Staff.department_code == "water")).all():
            head.active = False
            session.add(head)
        session.commit()
    submit(hotline, department="water", now=local(2026, 11, 23, 9))
    made = sweep_twice(hotline, local(2026, 11, 24, 9, 30))
    assert ("accept_overdue", "dispatchers", None) in made


def test_the_daily_digest_goes_out_once_on_working_days_only(hotline):
    p = people(hotline)
    due_today = submit(hotline, text="请问物业费标准？", ticket_type="consultation", now=local(2026, 11, 23, 10))
    overdue = submit(hotline, now=local(2026, 11, 13, 9))
    submit(hotline, now=local(2026, 11, 23, 8))
    hotline.tickets.accept(overdue.number, p["housing_staff"], local(2026, 11, 13, 10))
    assert run_jobs(hotline, local(2026, 11, 24, 8, 59), ["digest"]) == {"digest": 0}  # before the hour
    assert run_jobs(hotline, local(2026, 11, 24, 9), ["digest"]) == {"digest": 1}
    assert run_jobs(hotline, local(2026, 11, 24, 15), ["digest"]) == {"digest": 0}
    text = notices(hotline, "digest")[0].text
    assert "在办工单 3 件，今日到期 1 件，已超期 1 件" in text and overdue.number in text
    assert due_today.number not in text
    assert run_jobs(hotline, local(2026, 11, 28, 10), ["digest"]) == {"digest": 0}  # Saturday


def test_the_weekly_report_is_recorded_once_a_week_for_the_leaders(hotline):
    assert run_jobs(hotline, local(2026, 11, 23, 8, 59), ["weekly_report"])["weekly_report"] == 1  # last week's
    assert run_jobs(hotline, local(2026, 11, 23, 9), ["weekly_report"])["weekly_report"] == 1
    assert run_jobs(hotline, local(2026, 11, 25, 9), ["weekly_report"])["weekly_report"] == 0
    keys = [n.key for n in notices(hotline, "weekly_report")]
    assert keys == ["weekly:2026-W47", "weekly:2026-W48"]
    assert all(n.recipient_kind == "leaders" for n in notices(hotline, "weekly_report"))


def test_working_moment_before_counts_back_over_holidays(hotline):
    calendar = hotline.policy.calendar
    assert working_moment_before(calendar, local(2026, 10, 8, 10), 1) == local(2026, 9, 30, 10)
    assert working_moment_before(calendar, local(2026, 10, 12, 0), 2) == local(2026, 10, 9, 0)
    assert working_moment_before(calendar, local(2026, 11, 23, 9), 0) == local(2026, 11, 23, 9)
    for days in (0.5, 1, 3, 7.25):
        start = working_moment_before(calendar, local(2026, 10, 13, 15), days)
        assert calendar.add_working_days(start, days) == local(2026, 10, 13, 15)


def test_sweep_settings_come_from_config(hotline):
    from hotline.jobs import sweep_settings

    assert sweep_settings(hotline.config.scheduler) == SweepSettings(2, 1, 24)


def test_the_nightly_snapshot_takes_each_missing_day_once(hotline):
    submit(hotline, now=local(2026, 11, 23, 9))
    assert run_jobs(hotline, local(2026, 11, 25, 1), ["snapshot"]) == {"snapshot": 14}  # the last two weeks
    assert run_jobs(hotline, local(2026, 11, 25, 3), ["snapshot"]) == {"snapshot": 0}
    assert run_jobs(hotline, local(2026, 11, 26, 1), ["snapshot"]) == {"snapshot": 1}  # the day that ended


def test_a_batch_records_texts_buttons_and_keys_as_given_and_each_key_once(hotline):
    """The sweeps' batch insert (PostgreSQL: one statement from a JSON array) stores what
    SQLAlchemy's JSON column would: the same text, the same JSON text of the buttons."""
    import json

    from sqlalchemy import text as sql

    from tickets.sweeps_outbox import Batch

    at = local(2026, 10, 8, 10)
    buttons = [[{"text": "签收", "data": "acc:20261008-0001"}, {"text": "退单", "data": "ret:20261008-0001"}]]
    batch = Batch(at)
    batch.add("test:1:0", "test", "department", "housing", "【签收提醒】工单 20261008-0001\n“引号” \\ \"x\" 100%", buttons=buttons)
    batch.add("test:1:0", "test", "leaders", None, "给领导", attachments=["reports/a.png"])
    batch.add("test:2:0", "test", "dispatchers", None, "无工单")
    with Session(hotline.engine) as session:
        assert batch.record(session) == 3
        session.commit()
    again = Batch(at)
    again.add("test:1:0", "test", "department", "housing", "另一段文字")
    again.add("test:3:0", "test", "citizen", "7", "新的")
    with Session(hotline.engine) as session:
        assert again.record(session) == 1
        session.commit()
        raw = session.connection().execute(sql(
            "SELECT key, recipient_kind, recipient, text, CAST(buttons AS TEXT), CAST(attachments AS TEXT), attempts "
            "FROM notice WHERE kind = 'test' ORDER BY id")).all()
    assert [tuple(r) for r in raw] == [
        ("test:1:0", "department", "housing", "【签收提醒】工单 20261008-0001\n“引号” \\ \"x\" 100%", json.dumps(buttons), "[]", 0),
        ("test:1:0/leaders", "leaders", None, "给领导", "[]", json.dumps(["reports/a.png"]), 0),
        ("test:2:0", "dispatchers", None, "无工单", "[]", "[]", 0),
        ("test:3:0", "citizen", "7", "新的", "[]", "[]", 0),
    ]
    recorded = notices(hotline, "test")
    assert recorded[0].buttons == buttons and recorded[0].created_at == at and recorded[0].next_attempt_at == at


def test_a_batch_that_cannot_be_recorded_fails_the_sweep_and_records_nothing_after_it(hotline, monkeypatch):
    """Batches are recorded on a thread of their own: its failure must reach the sweep, not hang it.
    (The Python path: on PostgreSQL the database records what it can word itself, tickets/sweeps_sql.)"""
    import pytest

    from tickets import sweeps
    from tickets.sweeps_outbox import Batch

    monkeypatch.setattr(sweeps, "SET_BASED", False)

    people(hotline)
    for _ in range(3):
        submit(hotline, now=local(2026, 11, 16, 10))
    before = len(notices(hotline))

    def unreachable(self, session):
        raise ConnectionError("the database went away")

    original = Batch.record

    monkeypatch.setattr(Batch, "record", unreachable)
    with pytest.raises(ConnectionError, match="went away"):
        run_jobs(hotline, local(2026, 11, 24, 10), SWEEPS)
    assert len(notices(hotline)) == before
    monkeypatch.setattr(Batch, "record", original)
    assert run_jobs(hotline, local(2026, 11, 24, 10), SWEEPS)["overdue"] == 3 * 2  # the head and the leaders
