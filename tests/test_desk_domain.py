"""The desk's transitions on a real database: callbacks, repeat contacts, dispatchers' control."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from hotline.bootstrap import App
from tests.conftest import local
from tests.factories import people, staff_id, submit
from tickets.corrections import NluCorrection
from tickets.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from tickets.intake import CitizenRef, Submission
from tickets.models import Notice
from tickets.states import State


def _answered(app: App, channel: str = "phone", **kw: object):
    p = people(app)
    ticket = submit(app, now=local(2026, 11, 23, 9), channel=channel, **kw)  # type: ignore[arg-type]
    app.tickets.accept(ticket.number, p["housing_staff"], local(2026, 11, 23, 10))
    app.tickets.answer(ticket.number, p["housing_staff"], "已处理", local(2026, 11, 23, 11))
    return ticket


def test_unanswered_callbacks_close_the_ticket_unrated_after_the_configured_attempts(hotline: App):
    operator = staff_id(hotline, "话务员张敏")
    ticket = _answered(hotline)
    assert [d.ticket.number for d in hotline.tickets.callbacks_due(local(2026, 11, 23, 11, 1))] == [ticket.number]
    for hour in (12, 14):
        assert hotline.tickets.record_callback(ticket.number, operator, "no_answer", now=local(2026, 11, 23, hour)).state == State.answered
    closed = hotline.tickets.record_callback(ticket.number, operator, "no_answer", "关机", now=local(2026, 11, 23, 16))
    assert closed.state == State.closed and closed.close_reason == "unrated" and closed.rating is None
    notes = [e.note for e in hotline.tickets.events(ticket.number) if e.action == "callback"]
    assert len(notes) == 3 and "第 3 次" in notes[-1]


def test_a_dissatisfied_callback_reopens_like_the_citizens_own_rating(hotline: App):
    operator = staff_id(hotline, "话务员张敏")
    ticket = _answered(hotline)
    reopened = hotline.tickets.record_callback(ticket.number, operator, "dissatisfied", "还在漏", local(2026, 11, 23, 12))
    assert reopened.state == State.reopened and reopened.rating == "dissatisfied" and reopened.reopened_count == 1
    with Session(hotline.engine) as session:
        assert session.exec(select(Notice).where(Notice.kind == "reopened")).first() is not None


def test_web_tickets_are_due_for_a_callback_only_after_the_configured_hours(hotline: App):
    ticket = _answered(hotline, channel="web")
    assert hotline.tickets.callbacks_due(local(2026, 11, 23, 12)) == []
    due = hotline.tickets.callbacks_due(local(2026, 11, 24, 11, 0))
    assert [d.ticket.number for d in due] == [ticket.number]


def test_callback_refused_before_the_answer_and_to_non_operators(hotline: App):
    p = people(hotline)
    ticket = submit(hotline, now=local(2026, 11, 23, 9), channel="phone")
    with pytest.raises(TransitionNotAllowed):
        hotline.tickets.record_callback(ticket.number, staff_id(hotline, "话务员张敏"), "satisfied")
    answered = _answered(hotline)
    with pytest.raises(PermissionDenied):
        hotline.tickets.record_callback(answered.number, p["dispatcher"], "satisfied")
    with pytest.raises(InvalidInput):
        hotline.tickets.record_callback(answered.number, staff_id(hotline, "话务员张敏"), "happy")
    assert hotline.tickets.callback_attempts(answered.number) == []
    assert hotline.tickets.get(answered.number).state == State.answered


def test_a_dispatcher_reroutes_and_retypes_an_assigned_ticket_and_the_nlu_corrections_are_kept(hotline: App):
    p = people(hotline)
    ticket = hotline.tickets.submit(Submission("web", "m-1", CitizenRef("web", "c-1"), "我们小区物业乱收费，开发商交房后房屋漏水也不管"),
                                    local(2026, 11, 23, 9)).ticket
    assert ticket.state == State.assigned and ticket.department_code == "housing"
    moved = hotline.tickets.reroute(ticket.number, p["dispatcher"], "water", local(2026, 11, 23, 10))
    assert moved.state == State.assigned and moved.department_code == "water"
    before = moved.answer_due
    retyped = hotline.tickets.retype(ticket.number, p["dispatcher"], "consultation", local(2026, 11, 23, 11))
    assert retyped.type == "consultation" and retyped.answer_due is not None and retyped.answer_due < before  # type: ignore[operator]
    retype_event = [e for e in hotline.tickets.events(ticket.number) if e.action == "retype"][0]
    assert "complaint -> consultation" in (retype_event.note or "") and "答复时限" in (retype_event.note or "")
    with Session(hotline.engine) as session:
        rows = {(c.field, c.from_value, c.to_value) for c in session.exec(select(NluCorrection)).all()}
    assert rows == {("department", "housing", "water"), ("type", "complaint", "consultation")}


def test_supervision_is_seen_and_acknowledged_by_the_department(hotline: App):
    p = people(hotline)
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    hotline.tickets.supervise(ticket.number, p["dispatcher"], "请今天内联系群众", local(2026, 11, 23, 10))
    with pytest.raises(PermissionDenied):
        hotline.tickets.acknowledge_supervision(ticket.number, p["water_head"])
    assert hotline.tickets.acknowledge_supervision(ticket.number, p["housing_staff"], local(2026, 11, 23, 11)) == 1
    assert hotline.tickets.supervisions(ticket.number)[0].acknowledged_by == p["housing_staff"]
    with pytest.raises(TransitionNotAllowed):
        hotline.tickets.acknowledge_supervision(ticket.number, p["housing_staff"])


def test_an_urgent_message_waits_for_a_dispatcher_even_with_a_department_chosen(hotline: App):
    ticket = hotline.tickets.submit(Submission("web", "m-2", CitizenRef("web", "c-2"), "人民广场地铁站门口有人拿刀砍人了，快来人",
                                               department="transport"), local(2026, 11, 23, 9)).ticket
    assert ticket.urgent and ticket.state == State.new and ticket.department_code is None


def test_a_repeat_contact_tells_the_department_and_a_closed_ticket_refuses_it(hotline: App):
    operator = staff_id(hotline, "话务员张敏")
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    hotline.tickets.add_contact(ticket.number, "又来电催办", "phone", staff_id=operator, now=local(2026, 11, 23, 10))
    assert hotline.tickets.contact_count(ticket.number) == 2
    with Session(hotline.engine) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "contact")).one()
    assert notice.recipient == "housing" and "又来电催办" in notice.text
    answered = _answered(hotline)
    hotline.tickets.record_callback(answered.number, operator, "satisfied")
    with pytest.raises(TransitionNotAllowed):
        hotline.tickets.add_contact(answered.number, "再问一下", "phone", staff_id=operator)
    assert hotline.tickets.contact_count(answered.number) == 1


def test_weekly_report_counts_transfers_repeat_contacts_and_callbacks(hotline: App):
    from tickets.stats.periods import parse_week
    from tickets.stats.report import build_report

    operator = staff_id(hotline, "话务员张敏")
    answered = _answered(hotline)
    hotline.tickets.record_callback(answered.number, operator, "no_answer", now=local(2026, 11, 23, 12))
    submit(hotline, now=local(2026, 11, 23, 9, 30))  # answered by nobody
    hotline.tickets.add_contact(answered.number, "再次来电", "phone", staff_id=operator, now=local(2026, 11, 23, 13))
    held = hotline.tickets.submit(Submission("phone", "m-9", CitizenRef("phone", "13800000000"), "家里着火了", hold=True),
                                  local(2026, 11, 23, 14)).ticket
    hotline.tickets.close_at_once(held.number, "transferred", staff_id=operator, service="119", note="火情",
                                  now=local(2026, 11, 23, 14))
    city = build_report(hotline.engine, hotline.policy, parse_week("2026-W48"), local(2026, 11, 25, 9))["city"]
    assert (city["transferred"], city["contacts"], city["repeat_rate"]) == (1, 4, 0.25)
    assert (city["callbacks"], city["callback_rate"]) == (1, 1.0)
    assert city["previous"]["contacts"] == 0 and city["previous"]["repeat_rate"] is None


def test_the_desk_figures_leave_out_a_ticket_invalidated_or_merged_by_the_period_end_only(hotline: App):
    from tickets.stats.periods import parse_week
    from tickets.stats.report import build_report

    p, t = people(hotline), hotline.tickets
    kept = submit(hotline, citizen="a", now=local(2026, 11, 23, 9))
    spam = submit(hotline, text="哈哈哈哈哈", department=None, now=local(2026, 11, 23, 9, 30))
    duplicate = submit(hotline, citizen="b", now=local(2026, 11, 24, 9))
    late_spam = submit(hotline, text="呵呵呵呵呵", department=None, now=local(2026, 11, 27, 9))
    t.invalidate(spam.number, p["dispatcher"], "无实际诉求", local(2026, 11, 23, 10))
    t.merge(duplicate.number, kept.number, p["dispatcher"], local(2026, 11, 25, 10))
    t.invalidate(late_spam.number, p["dispatcher"], "无实际诉求", local(2026, 12, 1, 10))  # after the week
    city = build_report(hotline.engine, hotline.policy, parse_week("2026-W48"), local(2026, 12, 2, 9))["city"]
    assert city["contacts"] == 2  # kept, and late_spam: still valid when the week ended
