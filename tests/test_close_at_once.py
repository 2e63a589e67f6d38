"""The `new` → `closed` transition for what is settled at first contact: a direct answer from the
knowledge base (直接答复) and an emergency handed to 110/119/120 (紧急转办)."""

from __future__ import annotations

import itertools

import pytest
from sqlmodel import Session, select

from tests.factories import people
from tickets.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from tickets.intake import CitizenRef, Submission
from tickets.models import Notice
from tickets.states import State

_serial = itertools.count(1)


def held(app, text: str = "请问公积金提取需要带什么材料？", citizen: str = "c-held"):
    submission = Submission("web", f"held-{next(_serial)}", CitizenRef("web", citizen), text,
                            ticket_type="consultation", department="housing", hold=True)
    return app.tickets.submit(submission).ticket


def notices(app) -> int:
    with Session(app.engine) as session:
        return len(session.exec(select(Notice)).all())


def test_a_held_ticket_stays_new_and_tells_nobody(hotline):
    before = notices(hotline)
    ticket = held(hotline)
    assert ticket.state == State.new and ticket.department_code == "housing"
    assert notices(hotline) == before


def test_the_citizen_closes_their_own_ticket_as_a_direct_answer(hotline):
    ticket = held(hotline)
    closed = hotline.tickets.close_at_once(ticket.number, "direct_answer", citizen_id=ticket.citizen_id, entry_id=17)
    assert closed.state == State.closed and closed.close_reason == "direct_answer" and closed.kb_entry_id == 17
    last = hotline.tickets.events(ticket.number)[-1]
    assert (last.action, last.from_state, last.to_state) == ("close_at_once", "new", "closed")


def test_a_direct_answer_needs_its_entry_and_another_citizen_may_not_close_it(hotline):
    ticket = held(hotline)
    with pytest.raises(InvalidInput):
        hotline.tickets.close_at_once(ticket.number, "direct_answer", citizen_id=ticket.citizen_id)
    with pytest.raises(PermissionDenied):
        hotline.tickets.close_at_once(ticket.number, "direct_answer", citizen_id=ticket.citizen_id + 999, entry_id=1)
    assert hotline.tickets.get(ticket.number).state == State.new


def test_a_dispatcher_transfers_an_emergency_with_its_service_and_reason(hotline):
    p = people(hotline)
    ticket = held(hotline, "人民广场地铁站门口有人晕倒了，没有呼吸了")
    with pytest.raises(InvalidInput):
        hotline.tickets.close_at_once(ticket.number, "transferred", staff_id=p["dispatcher"], service="999", note="晕倒")
    with pytest.raises(InvalidInput):
        hotline.tickets.close_at_once(ticket.number, "transferred", staff_id=p["dispatcher"], service="120", note=" ")
    closed = hotline.tickets.close_at_once(ticket.number, "transferred", staff_id=p["dispatcher"], service="120",
                                           note="路人晕倒无呼吸")
    assert closed.state == State.closed and closed.close_reason == "transferred" and closed.transferred_to == "120"
    assert hotline.tickets.events(ticket.number)[-1].note == "转120：路人晕倒无呼吸"


def test_citizens_and_department_staff_cannot_transfer_and_routed_tickets_cannot_close_at_once(hotline):
    p = people(hotline)
    ticket = held(hotline)
    with pytest.raises(PermissionDenied):
        hotline.tickets.close_at_once(ticket.number, "transferred", citizen_id=ticket.citizen_id, service="110", note="x")
    with pytest.raises(PermissionDenied):
        hotline.tickets.close_at_once(ticket.number, "transferred", staff_id=p["housing_staff"], service="110", note="x")
    hotline.tickets.assign(ticket.number, p["dispatcher"], "housing")
    with pytest.raises(TransitionNotAllowed):
        hotline.tickets.close_at_once(ticket.number, "transferred", staff_id=p["dispatcher"], service="110", note="x")
