"""Tickets moved through their life on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from tests.conftest import local
from tests.factories import people, submit
from tickets.errors import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from tickets.models import Notice, TicketEvent
from tickets.states import State


def event_count(app) -> int:
    with Session(app.engine) as session:
        return session.exec(select(func.count()).select_from(TicketEvent)).one()


def test_whole_life_writes_one_event_per_transition(hotline, clock):
    p = people(hotline)
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    assert ticket.state == State.assigned
    assert ticket.accept_due == local(2026, 11, 24, 9)
    assert ticket.answer_due == local(2026, 11, 30, 9)  # 5 working days, over a weekend
    t = hotline.tickets
    t.accept(ticket.number, p["housing_staff"], local(2026, 11, 23, 11))
    t.answer(ticket.number, p["housing_staff"], "已联系物业退还多收费用，漏水已维修。", local(2026, 11, 25, 16))
    closed = t.rate(ticket.number, ticket.citizen_id, "satisfied", now=local(2026, 11, 26, 8))
    assert closed.state == State.closed and closed.close_reason == "rated"
    assert closed.accepted_on_time and closed.answered_on_time
    events = t.events(ticket.number)
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("submit", None, "new"),
        ("assign", "new", "assigned"),
        ("accept", "assigned", "accepted"),
        ("answer", "accepted", "answered"),
        ("rate", "answered", "closed"),
    ]
    assert events[2].actor_id == p["housing_staff"]
    assert [r.text for r in t.replies(ticket.number)] == ["已联系物业退还多收费用，漏水已维修。"]


def test_dissatisfied_rating_reopens_with_a_new_time_limit(hotline):
    p, t = people(hotline), hotline.tickets
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    t.accept(ticket.number, p["housing_head"], local(2026, 11, 23, 10))
    t.answer(ticket.number, p["housing_head"], "已处理。", local(2026, 11, 24, 10))
    reopened = t.rate(ticket.number, ticket.citizen_id, "dissatisfied", "漏水还在", local(2026, 11, 25, 10))
    assert reopened.state == State.reopened
    assert reopened.rating == "dissatisfied" and reopened.reopened_count == 1
    assert reopened.answer_due == local(2026, 12, 2, 10)
    answered = t.answer(ticket.number, p["housing_staff"], "已再次上门维修。", local(2026, 11, 26, 10))
    assert answered.state == State.answered and answered.first_answered_at == local(2026, 11, 24, 10)
    with Session(hotline.engine) as session:
        kinds = session.exec(select(Notice.kind).where(Notice.ticket_id == ticket.id)).all()
    assert sorted(kinds) == ["answer", "answer", "assigned", "reopened"]


def test_returned_ticket_goes_back_to_dispatcher_and_is_rerouted(hotline):
    p, t = people(hotline), hotline.tickets
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    returned = t.return_ticket(ticket.number, p["housing_staff"], "属于供水问题，非我局职责", local(2026, 11, 23, 10))
    assert returned.state == State.returned and returned.returned_count == 1
    with pytest.raises(PermissionDenied):
        t.reroute(ticket.number, p["housing_head"], "water", local(2026, 11, 23, 11))
    rerouted = t.reroute(ticket.number, p["dispatcher"], "water", local(2026, 11, 23, 11))
    assert rerouted.state == State.assigned and rerouted.department_code == "water"
    assert rerouted.accept_due == local(2026, 11, 24, 11)
    with pytest.raises(PermissionDenied):  # housing no longer owns it
        t.accept(ticket.number, p["housing_staff"], local(2026, 11, 23, 12))
    assert t.accept(ticket.number, p["water_head"], local(2026, 11, 23, 12)).state == State.accepted
    with Session(hotline.engine) as session:
        review = session.exec(select(Notice).where(Notice.kind == "review", Notice.ticket_id == ticket.id)).one()
    assert review.recipient_kind == "dispatchers" and review.buttons[-1][0]["data"] == f"inv:{ticket.number}"


def test_extension_can_be_asked_once_and_moves_the_deadline_when_granted(hotline):
    p, t = people(hotline), hotline.tickets
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    t.accept(ticket.number, p["housing_staff"], local(2026, 11, 23, 10))
    t.request_extension(ticket.number, p["housing_staff"], 3, "需要协调开发商", local(2026, 11, 24, 10))
    granted = t.grant_extension(ticket.number, p["dispatcher"], local(2026, 11, 24, 11))
    assert granted.answer_due == local(2026, 12, 3, 9)  # Nov 30 09:00 + 3 working days
    with pytest.raises(TransitionNotAllowed, match="already asked"):
        t.request_extension(ticket.number, p["housing_staff"], 2, "还要更久", local(2026, 11, 25, 10))
    with pytest.raises(TransitionNotAllowed, match="no extension request is pending"):
        t.refuse_extension(ticket.number, p["dispatcher"], local(2026, 11, 25, 10))


def test_extension_longer_than_allowed_is_refused(hotline):
    p, t = people(hotline), hotline.tickets
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    t.accept(ticket.number, p["housing_staff"], local(2026, 11, 23, 10))
    with pytest.raises(InvalidInput, match="1 to 10"):
        t.request_extension(ticket.number, p["housing_staff"], 30, "很复杂", local(2026, 11, 24, 10))
    assert t.get(ticket.number).extension_state is None


def test_auto_close_waits_for_the_callback_window_and_counts_as_unrated(hotline):
    p, t = people(hotline), hotline.tickets
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    t.accept(ticket.number, p["housing_staff"], local(2026, 11, 23, 10))
    t.answer(ticket.number, p["housing_staff"], "已处理。", local(2026, 11, 24, 10))
    with pytest.raises(TransitionNotAllowed, match="may still rate"):
        t.auto_close(ticket.number, local(2026, 11, 27, 9))
    closed = t.auto_close(ticket.number, local(2026, 11, 27, 10))
    assert closed.state == State.closed and closed.close_reason == "unrated" and closed.rating is None


def test_unsure_ticket_stays_new_for_dispatcher_then_is_assigned_or_invalidated(hotline):
    p, t = people(hotline), hotline.tickets
    unsure = submit(hotline, text="你好，我想问个事情", department=None, now=local(2026, 11, 23, 9))
    assert unsure.state == State.new and unsure.needs_review and unsure.department_code is None
    assigned = t.assign(unsure.number, p["dispatcher"], "civil_affairs", local(2026, 11, 23, 10))
    assert assigned.state == State.assigned and assigned.answer_due is not None
    spam = submit(hotline, text="哈哈哈哈哈", department=None, now=local(2026, 11, 23, 9))
    invalid = t.invalidate(spam.number, p["dispatcher"], "无实际诉求", local(2026, 11, 23, 10))
    assert invalid.state == State.invalid and invalid.invalid_reason == "无实际诉求"


def test_merge_points_the_duplicate_at_the_original(hotline):
    p, t = people(hotline), hotline.tickets
    first = submit(hotline, citizen="a", now=local(2026, 11, 23, 9))
    second = submit(hotline, citizen="b", now=local(2026, 11, 23, 9, 30))
    merged = t.merge(second.number, first.number, p["dispatcher"], local(2026, 11, 23, 10))
    assert merged.state == State.merged and merged.merged_into_id == first.id
    with pytest.raises(TransitionNotAllowed):
        t.merge(first.number, second.number, p["dispatcher"], local(2026, 11, 23, 10))
    with pytest.raises(InvalidInput, match="itself"):
        t.merge(first.number, first.number, p["dispatcher"], local(2026, 11, 23, 10))


def test_refused_transitions_change_nothing(hotline):
    p, t = people(hotline), hotline.tickets
    ticket = submit(hotline, now=local(2026, 11, 23, 9))
    before, events = t.get(ticket.number), event_count(hotline)
    attempts = [
        lambda: t.answer(ticket.number, p["housing_staff"], "未签收就答复", local(2026, 11, 23, 10)),
        lambda: t.accept(ticket.number, p["water_head"], local(2026, 11, 23, 10)),
        lambda: t.accept(ticket.number, p["leader"], local(2026, 11, 23, 10)),
        lambda: t.rate(ticket.number, ticket.citizen_id + 1, "satisfied", now=local(2026, 11, 23, 10)),
        lambda: t.return_ticket(ticket.number, p["housing_staff"], "   ", local(2026, 11, 23, 10)),
        lambda: t.close(ticket.number, p["dispatcher"], now=local(2026, 11, 23, 10)),
        lambda: t.reroute(ticket.number, p["dispatcher"], "nowhere", local(2026, 11, 23, 10)),
        lambda: t.accept("20991231-9999", p["housing_staff"], local(2026, 11, 23, 10)),
        lambda: t.accept(ticket.number, 99999, local(2026, 11, 23, 10)),
        lambda: t.rate(ticket.number, ticket.citizen_id, "great", now=local(2026, 11, 23, 10)),
    ]
    for attempt in attempts:
        with pytest.raises((TransitionNotAllowed, InvalidInput, NotFound)):
            attempt()
    after = t.get(ticket.number)
    assert after.model_dump() == before.model_dump()
    assert event_count(hotline) == events


def test_answer_after_the_deadline_is_counted_late(hotline):
    p, t = people(hotline), hotline.tickets
    ticket = submit(hotline, ticket_type="consultation", now=local(2026, 11, 23, 9))
    assert ticket.answer_due == local(2026, 11, 24, 9)
    t.accept(ticket.number, p["housing_staff"], local(2026, 11, 24, 10))
    late = t.answer(ticket.number, p["housing_staff"], "答复", local(2026, 11, 24, 10))
    assert late.accepted_on_time is False and late.answered_on_time is False
