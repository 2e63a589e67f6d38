"""Corrections the NLU learns from: one row per field a person changed, none when they agreed."""

from __future__ import annotations

from sqlmodel import Session, select

from tests.factories import people, submit
from tickets.corrections import NluCorrection
from tickets.intake import CitizenRef, Submission


def corrections(app, ticket_id: int) -> list[tuple[str, str | None, str, str]]:
    with Session(app.engine) as session:
        rows = session.exec(select(NluCorrection).where(NluCorrection.ticket_id == ticket_id).order_by(NluCorrection.id)).all()
        return [(r.field, r.from_value, r.to_value, r.actor_kind) for r in rows]


def unrouted(app, text: str, serial: str):
    submission = Submission("web", f"corr-{serial}", CitizenRef("web", "c-corr"), text, to_dispatcher=True)
    return app.tickets.submit(submission).ticket


def test_a_dispatcher_routing_elsewhere_than_the_model_writes_one_correction_and_agreeing_none(hotline):
    p = people(hotline)
    first = unrouted(hotline, "小区门口的路灯坏了一个月没人修", "1")
    second = unrouted(hotline, "小区门口的路灯坏了一个月没人修，晚上很黑", "2")
    predicted = first.nlu["department"]
    assert first.state == "new" and predicted
    target = "water" if predicted != "water" else "housing"
    hotline.tickets.assign(first.number, p["dispatcher"], target)
    hotline.tickets.assign(second.number, p["dispatcher"], second.nlu["department"])
    assert corrections(hotline, first.id) == [("department", predicted, target, "staff")]
    assert corrections(hotline, second.id) == []


def test_agreeing_with_the_model_writes_nothing_and_a_reroute_writes_one(hotline):
    p = people(hotline)
    ticket = submit(hotline, department="housing")  # the citizen chose housing on the card
    before = corrections(hotline, ticket.id)
    hotline.tickets.return_ticket(ticket.number, p["housing_staff"], "属于水务")
    hotline.tickets.reroute(ticket.number, p["dispatcher"], "water")
    assert corrections(hotline, ticket.id) == [*before, ("department", "housing", "water", "staff")]


def test_the_citizens_choice_on_the_card_is_a_correction_only_where_it_differs(hotline):
    ticket = submit(hotline, "我想咨询一下公积金贷款的额度怎么算", department="water", ticket_type="complaint")
    rows = corrections(hotline, ticket.id)
    expected = []
    if ticket.nlu["type"] != "complaint":
        expected.append(("type", ticket.nlu["type"], "complaint", "citizen"))
    if ticket.nlu["department"] != "water":
        expected.append(("department", ticket.nlu["department"], "water", "citizen"))
    assert rows == expected and expected  # the model does not read this consultation as a water complaint
