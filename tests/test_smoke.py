from tickets.intake import CitizenRef, Submission
from tickets.states import State


def test_keyword_routed_complaint_is_assigned_with_deadlines(hotline):
    result = hotline.tickets.submit(
        Submission("cli", "m1", CitizenRef("cli", "c1"), "小区物业乱收费，开发商交房拖延，业主很不满")
    )
    ticket = result.ticket
    assert result.created
    assert ticket.state == State.assigned
    assert ticket.department_code == "housing"
    assert ticket.answer_due > ticket.accept_due > ticket.created_at
