"""The web chat's questions about the citizen (issue 14): the card asks for a phone number when a
reply is owed, 保密 hides name and phone from the department, and writing again with the number of
one's open ticket asks 「这是关于工单 N 的补充吗？」; yes adds a repeat contact, closed tickets refuse."""

from __future__ import annotations

from hotline.bootstrap import App
from tests.factories import people
from tests.test_web_chat_conversation import SURE_OF_HOUSING, Citizen, data_of
from tickets.models import Staff
from tickets.views import TicketViews


def card_of(citizen: Citizen, text: str) -> dict:
    reply = citizen.say(text)["replies"][0]
    if "在哪里" in reply["text"]:
        reply = citizen.say("幸福小区5栋")["replies"][0]
    return reply


def test_the_card_asks_for_a_phone_and_a_confidential_ticket_hides_it_from_the_department(hotline: App) -> None:
    citizen = Citizen(hotline)
    card = card_of(citizen, SURE_OF_HOUSING)
    assert "请直接发送您的手机号码" in card["text"]
    card = citizen.say("139 1234 5678")["replies"][-1]
    assert "13912345678" in card["text"] and "请直接发送您的手机号码" not in card["text"]
    card = citizen.press(data_of(card, "c:secret:"), card["id"])["replies"][0]
    assert "已设为保密" in card["text"]
    done = citizen.press(data_of(card, "c:submit:"), card["id"])["replies"][-1]
    number = done["text"].split("工单号：")[1].split("\n")[0]
    ticket = hotline.tickets.get(number)
    assert ticket.confidential and ticket.contact_phone == "13912345678"
    p = people(hotline)
    head = Staff(id=p["housing_head"], name="住建局张伟", role="head", department_code="housing")
    assert TicketViews(hotline.engine).page(number, head).phone is None
    dispatcher = Staff(id=p["dispatcher"], name="调度员王芳", role="dispatcher")
    assert TicketViews(hotline.engine).page(number, dispatcher).phone == "13912345678"


def test_writing_again_with_the_number_joins_the_open_ticket_as_a_repeat_contact(hotline: App) -> None:
    citizen = Citizen(hotline)
    card = card_of(citizen, SURE_OF_HOUSING)
    done = citizen.press(data_of(card, "c:submit:"), card["id"])["replies"][-1]
    number = done["text"].split("工单号：")[1].split("\n")[0]
    asked = citizen.say(f"关于 {number}，今天又漏水了，请尽快处理")["replies"][0]
    assert f"这是关于工单 {number} 的补充吗？" in asked["text"]
    joined = citizen.press(data_of(asked, "c:join:"), asked["id"])["replies"][0]
    assert "第 2 次" in joined["text"]
    assert hotline.tickets.contact_count(number) == 2 and len(hotline.tickets.find()) == 1
