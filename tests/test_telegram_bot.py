"""The real python-telegram-bot Application, over HTTP, against the Bot API server of
tests/botapi_server.py on 127.0.0.1: citizens, department staff and dispatchers, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from telegram.ext import Application

from bot.conversation import Conversation
from bot.store import BotStore
from bot.telegram_adapter import build_application
from hotline.bootstrap import App, bootstrap
from tests.botapi_server import BotApiServer, User
from tests.conftest import FakeClock, make_settings
from tests.factories import people
from tickets.delivery import deliver_pending
from tickets.directory import Directory
from tickets.models import Attachment, Notice, Ticket
from tickets.states import State

CITIZEN = User(1001, "张三")
OTHER_CITIZEN = User(1002, "李四")
HOUSING_STAFF = User(2001, "刘洋")
WATER_STAFF = User(2002, "孙丽")
DISPATCHER = User(3001, "王芳")
COMPLAINT = "我家楼上天天漏水，物业一直不管，开发商也不理"


async def start_bot(hotline: App, server: BotApiServer) -> Application:  # type: ignore[type-arg]
    application = build_application(Conversation(hotline), BotStore(hotline.engine), server.token, server.base_url)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    return application


async def stop_bot(application: Application) -> None:  # type: ignore[type-arg]
    assert application.updater is not None
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    api = BotApiServer().start()
    yield api
    api.stop()


@pytest.fixture
def hotline(tmp_path: Path, database_url: str, clock: FakeClock, server: BotApiServer) -> Iterator[App]:
    """The hotline as `hotline serve` builds it with TELEGRAM_TOKEN set, pointed at the test server."""
    settings = make_settings(tmp_path, database_url, TELEGRAM_TOKEN=server.token, TELEGRAM_API_BASE_URL=server.base_url)
    app = bootstrap(settings, clock=clock)
    yield app
    app.engine.dispose()


@pytest.fixture
async def bot(hotline: App, server: BotApiServer) -> AsyncIterator[dict[str, Any]]:
    running = {"app": await start_bot(hotline, server)}
    yield running
    await stop_bot(running["app"])


def tickets(hotline: App) -> list[Ticket]:
    return hotline.tickets.find()


async def deliver(hotline: App) -> tuple[int, int]:
    return await asyncio.to_thread(deliver_pending, hotline.engine, hotline.notifier, hotline.now())


def button(message: dict[str, Any], prefix: str) -> str:
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for cell in row:
            if cell["callback_data"].startswith(prefix):
                return str(cell["callback_data"])
    raise AssertionError(f"no button {prefix!r} on {message.get('text', '')[:60]!r}")


async def join(hotline: App, server: BotApiServer, user: User, role: str, department: str | None) -> None:
    invite = Directory(hotline.engine).invite(role, department, hotline.now())
    text = await server.reply_to(user.id, lambda: server.text(user, f"/join {invite.code}"))
    assert "欢迎加入" in text


async def file_complaint(server: BotApiServer, user: User, text: str = COMPLAINT, department: str = "housing") -> str:
    """Describe, answer the place question, choose the department, submit. Returns the ticket number."""
    reply = await server.reply_to(user.id, lambda: server.text(user, text))
    if "在哪里" in reply:  # the bot asks once where it happened; a shared location answers it
        reply = await server.reply_to(user.id, lambda: server.send(user, location={"latitude": 31.23, "longitude": 121.47}))
    assert "请确认" in reply
    card = server.bot_message(user.id, "请确认")
    draft = button(card, "c:submit:").split(":")[2]
    server.press(user, card, button(card, "c:depts:"))
    await server.wait_for(lambda: "请选择承办单位" in server.messages[card["message_id"]].get("text", ""))
    server.press(user, server.messages[card["message_id"]], f"c:dept:{draft}:{department}")
    name = {"housing": "市住房和城乡建设局", "water": "市水务局"}[department]
    await server.wait_for(lambda: f"承办单位：{name}\n" in server.messages[card["message_id"]].get("text", ""))
    card = server.messages[card["message_id"]]
    done = await server.reply_to(user.id, lambda: server.press(user, card, button(card, "c:submit:")))
    assert "工单号" in done and "前答复" in done
    return done.split("工单号：")[1].split("\n")[0].strip()


async def test_citizen_files_complaint_department_accepts_and_answers_citizen_reopens(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    welcome = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "/start"))
    assert "个人信息" in welcome and "110" in welcome
    await join(hotline, server, HOUSING_STAFF, "staff", "housing")
    await join(hotline, server, WATER_STAFF, "staff", "water")

    number = await file_complaint(server, CITIZEN)
    ticket = hotline.tickets.get(number)
    assert ticket.state == State.assigned and ticket.department_code == "housing"
    assert ticket.location and "31.23" in ticket.location

    assert (await deliver(hotline))[0] >= 1
    post = server.bot_message(HOUSING_STAFF.id, number)
    assert "新工单" in post["text"]

    # Someone else's press, and a member of another department, change nothing.
    refusals = len(server.sent("answerCallbackQuery"))
    server.press(OTHER_CITIZEN, post, f"acc:{number}")
    server.press(WATER_STAFF, post, f"acc:{number}")
    await server.wait_for(lambda: len(server.sent("answerCallbackQuery")) >= refusals + 2)
    assert all(a.get("show_alert") in (True, "true", "True") for a in server.sent("answerCallbackQuery")[refusals:])
    assert hotline.tickets.get(number).state == State.assigned

    accepted = await server.reply_to(HOUSING_STAFF.id, lambda: server.press(HOUSING_STAFF, post, f"acc:{number}"))
    assert "已签收" in accepted and hotline.tickets.get(number).state == State.accepted
    assert "已签收" in server.messages[post["message_id"]]["text"]

    answered = await server.reply_to(
        HOUSING_STAFF.id, lambda: server.text(HOUSING_STAFF, "已联系物业，明天上门维修。", reply_to=post)
    )
    assert "已答复" in answered and hotline.tickets.get(number).state == State.answered

    await deliver(hotline)
    answer = server.bot_message(CITIZEN.id, "明天上门维修")
    asked = await server.reply_to(CITIZEN.id, lambda: server.press(CITIZEN, answer, f"rate:{number}:dissatisfied"))
    assert "不满意的原因" in asked
    reopened = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "根本没人来修"))
    assert "重新办理" in reopened
    ticket = hotline.tickets.get(number)
    assert ticket.state == State.reopened and ticket.rating_comment == "根本没人来修"

    mine = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "/mytickets"))
    assert number in mine
    theirs = await server.reply_to(OTHER_CITIZEN.id, lambda: server.text(OTHER_CITIZEN, f"/status {number}"))
    assert "没有找到" in theirs


async def test_returned_ticket_reaches_dispatcher_and_is_rerouted(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    await join(hotline, server, HOUSING_STAFF, "staff", "housing")
    await join(hotline, server, DISPATCHER, "dispatcher", None)
    number = await file_complaint(server, CITIZEN, "小区门口的自来水管爆了，停水两天", department="housing")
    await deliver(hotline)
    post = server.bot_message(HOUSING_STAFF.id, number)

    asked = await server.reply_to(HOUSING_STAFF.id, lambda: server.press(HOUSING_STAFF, post, f"ret:{number}"))
    assert "退单理由" in asked
    done = await server.reply_to(HOUSING_STAFF.id, lambda: server.text(HOUSING_STAFF, "供水管网属于水务局"))
    assert "已退回" in done and hotline.tickets.get(number).state == State.returned

    await deliver(hotline)
    review = server.bot_message(DISPATCHER.id, number)
    assert "待分派" in review["text"]
    server.press(DISPATCHER, review, f"route:{number}:water")
    await server.wait_for(lambda: "已分派至市水务局" in server.messages[review["message_id"]]["text"])
    ticket = hotline.tickets.get(number)
    assert ticket.state == State.assigned and ticket.department_code == "water"


async def test_forged_callback_is_refused_and_changes_nothing(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    number = await file_complaint(server, CITIZEN)
    card = server.bot_message(CITIZEN.id, "已受理")
    for data in (f"acc:{number}", f"route:{number}:water", f"inv:{number}", f"rate:{number}:satisfied", "c:submit:ffffff"):
        before = len(server.sent("answerCallbackQuery"))
        server.press(OTHER_CITIZEN, card, data)
        await server.wait_for(lambda b=before: len(server.sent("answerCallbackQuery")) > b)
    ticket = hotline.tickets.get(number)
    assert ticket.state == State.assigned and ticket.department_code == "housing" and ticket.rating is None
    assert len(tickets(hotline)) == 1


async def test_the_same_update_delivered_twice_makes_one_ticket(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    reply = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "建议在人民公园门口增设一个公交站点"))
    card = server.bot_message(CITIZEN.id, "请确认" if "请确认" in reply else reply[:6])
    if "c:submit:" not in str(card.get("reply_markup")):  # asked a question first: skip it
        await server.reply_to(CITIZEN.id, lambda: server.press(CITIZEN, card, button(card, "c:skip:")))
        card = server.bot_message(CITIZEN.id, "请确认")
    submit = server.press(CITIZEN, card, button(card, "c:submit:"))
    await server.wait_for(lambda: "工单号" in server.last_text(CITIZEN.id))
    answers = len(server.sent("answerCallbackQuery"))
    server.redeliver(submit)
    server.redeliver(submit)
    marker = server.text(CITIZEN, "/mytickets")  # processed after the redeliveries
    await server.wait_for(lambda: "您最近的工单" in server.last_text(CITIZEN.id))
    assert marker["update_id"] > submit["update_id"]
    assert len(tickets(hotline)) == 1
    assert len(server.sent("answerCallbackQuery")) == answers  # the duplicates were not even answered


async def test_bot_restarted_mid_conversation_continues(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    reply = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, COMPLAINT))
    await stop_bot(bot["app"])
    bot["app"] = await start_bot(hotline, server)  # a new process: a new Application and persistence
    if "在哪里" in reply:
        reply = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "幸福小区5栋"))
    assert "请确认" in reply
    card = server.bot_message(CITIZEN.id, "请确认")
    done = await server.reply_to(CITIZEN.id, lambda: server.press(CITIZEN, card, button(card, "c:submit:")))
    assert "工单号" in done
    assert [t.text for t in tickets(hotline)] == [COMPLAINT]


async def test_sticker_voice_and_very_long_message_get_sensible_answers(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    sticker = {"file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
               "is_animated": False, "is_video": False}
    said = await server.reply_to(CITIZEN.id, lambda: server.send(CITIZEN, sticker=sticker))
    assert "文字" in said
    voice = {"file_id": "v1", "file_unique_id": "v1", "duration": 3}
    said = await server.reply_to(CITIZEN.id, lambda: server.send(CITIZEN, voice=voice))
    assert "语音" in said and "文字" in said
    said = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "噪音" * 5000))
    assert "10000 字" in said and "上限" in said
    assert tickets(hotline) == []


async def test_photo_is_kept_with_the_ticket_being_written(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    photo = [{"file_id": "photo-small", "file_unique_id": "p1", "width": 90, "height": 90},
             {"file_id": "photo-large", "file_unique_id": "p2", "width": 1280, "height": 960}]
    said = await server.reply_to(CITIZEN.id, lambda: server.send(CITIZEN, photo=photo))
    assert "照片" in said
    number = await file_complaint(server, CITIZEN)
    with hotline.tickets.unit_of_work() as session:
        refs = [a.ref for a in session.exec(select(Attachment)).all()]
    assert refs == ["photo-large"] and number


async def test_urgent_message_is_told_to_call_emergency_numbers_and_recorded(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    said = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "楼下饭店着火了，有人被困在二楼"))
    assert "119" in said and "记录编号" in said
    assert len(tickets(hotline)) == 1


async def test_urgent_ticket_is_marked_in_the_dispatchers_review_and_inbox(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    await join(hotline, server, DISPATCHER, "dispatcher", None)
    said = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "楼下饭店着火了，有人被困在二楼"))
    number = said.split("记录编号：")[1].strip()
    await deliver(hotline)
    review = server.bot_message(DISPATCHER.id, number)
    assert "【待分派】" in review["text"] and "【紧急】" in review["text"]
    inbox = await server.reply_to(DISPATCHER.id, lambda: server.text(DISPATCHER, "/inbox"))
    assert f"【紧急】{number}" in inbox
    status = await server.reply_to(DISPATCHER.id, lambda: server.text(DISPATCHER, f"/status {number}"))
    assert status.startswith(f"【紧急】工单 {number}")


async def test_rating_keeps_the_answer_even_when_telegram_no_longer_shows_the_message(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    number = await file_complaint(server, CITIZEN)
    who = people(hotline)
    hotline.tickets.accept(number, who["housing_staff"])
    hotline.tickets.answer(number, who["housing_staff"], "已安排维修师傅明天上门。")
    await deliver(hotline)
    answer = server.bot_message(CITIZEN.id, "明天上门")
    # A message older than 48 hours reaches the bot as InaccessibleMessage: no text, date 0.
    old = {"message_id": answer["message_id"], "chat": answer["chat"], "date": 0}
    thanks = await server.reply_to(CITIZEN.id, lambda: server.press(CITIZEN, old, f"rate:{number}:satisfied"))
    assert "感谢您的评价" in thanks
    edited = server.messages[answer["message_id"]]
    assert "已安排维修师傅明天上门。" in edited["text"] and edited["text"].endswith("您的评价：满意")
    assert "reply_markup" not in edited


async def test_telegram_asks_for_the_place_with_a_location_button_and_typed_cancel_cancels(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    asked = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, COMPLAINT))
    assert "在哪里" in asked and "发送位置" in asked
    keyboard = server.sent(chat_id=CITIZEN.id)[-1]["reply_markup"]["keyboard"]
    assert any(cell.get("request_location") for row in keyboard for cell in row)
    cancelled = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "取消"))
    assert "已取消" in cancelled and tickets(hotline) == []


async def test_flooding_is_slowed_politely_once(hotline: App, server: BotApiServer, bot: dict[str, Any]) -> None:
    limit = hotline.config.bot.flood_limit_per_minute
    for i in range(limit + 3):
        server.text(CITIZEN, f"/status 20261123-{i:04d}" if i % 2 else "/mytickets")
    await server.wait_for(lambda: len(server.sent(chat_id=CITIZEN.id)) >= limit + 3)
    # Commands are answered; free text beyond the limit is not.
    for _ in range(limit + 3):
        server.text(OTHER_CITIZEN, "路灯坏了")
    await server.wait_for(lambda: any("太快" in m["text"] for m in server.sent(chat_id=OTHER_CITIZEN.id)))
    await asyncio.sleep(0.3)
    slow = [m for m in server.sent(chat_id=OTHER_CITIZEN.id) if "太快" in m["text"]]
    assert len(slow) == 1


NOISE = "小区楼下烧烤店每天营业到凌晨两点，噪音很大"
FIRE = "着火了！楼下烧烤店着火了，浓烟很大"


async def test_an_emergency_answering_the_place_question_gets_the_advice_at_once(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    asked = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, NOISE))
    assert "在哪里" in asked
    said = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, FIRE))
    assert "119" in said and "110" in said and "记录编号" in said
    (ticket,) = tickets(hotline)
    assert ticket.urgent and ticket.location is None and ticket.text == f"{NOISE}\n{FIRE}"


async def test_an_emergency_answering_the_phone_question_gets_the_advice_at_once(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    assert "在哪里" in await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, NOISE + "，请给我回电"))
    share = {"latitude": 31.23, "longitude": 121.47}
    asked = await server.reply_to(CITIZEN.id, lambda: server.send(CITIZEN, location=share))
    assert "手机号码" in asked
    said = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, FIRE))
    assert "119" in said and "记录编号" in said and "请确认" not in said
    (ticket,) = tickets(hotline)
    assert ticket.urgent and ticket.contact_phone is None and "31.23" in (ticket.location or "")


async def test_typed_button_words_and_a_thanks_for_the_place_open_no_appeal(
    hotline: App, server: BotApiServer, bot: dict[str, Any]
) -> None:
    for typed in ("我的工单", "查询进度"):
        said = await server.reply_to(CITIZEN.id, lambda typed=typed: server.text(CITIZEN, typed))
        assert "还没有提交过" in said, typed
    assert "在哪里" in await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, NOISE))
    again = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "谢谢"))
    assert "具体地点" in again and "发送位置" in again
    assert "请确认" in await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "跳过"))
    assert tickets(hotline) == []


async def test_department_inbox_lists_open_tickets_overdue_first(
    hotline: App, server: BotApiServer, bot: dict[str, Any], clock: Any
) -> None:
    await join(hotline, server, HOUSING_STAFF, "staff", "housing")
    first = await file_complaint(server, CITIZEN)
    clock.advance(days=10)
    second = await file_complaint(server, OTHER_CITIZEN, "小区电梯加装的事情物业一直拖着")
    inbox = await server.reply_to(HOUSING_STAFF.id, lambda: server.text(HOUSING_STAFF, "/inbox"))
    assert inbox.index(first) < inbox.index(second) and "【超期】" + first in inbox
    refused = await server.reply_to(CITIZEN.id, lambda: server.text(CITIZEN, "/inbox"))
    assert "工作人员" in refused


def test_notice_stays_pending_when_telegram_is_unreachable(tmp_path: Path, sqlite_url: str, clock: FakeClock) -> None:
    from tests.botapi_server import free_port
    from tests.factories import submit

    settings = make_settings(tmp_path, sqlite_url, TELEGRAM_TOKEN="123456:TEST-token-for-the-hotline",
                             TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{free_port()}/bot")
    app = bootstrap(settings, clock=clock)
    Directory(app.engine).add("承办人甲", "staff", "housing", telegram_id="555")
    submit(app)
    sent, failed = deliver_pending(app.engine, app.notifier, app.now())
    assert (sent, failed) == (0, 1)
    with app.tickets.unit_of_work() as session:
        notice = session.exec(select(Notice)).one()
    assert notice.sent_at is None and "unreachable" in (notice.last_error or "")
    app.engine.dispose()
