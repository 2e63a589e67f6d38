"""What a citizen meets in the web chat, over HTTP: the conversation survives a reload, typed words act
like the buttons, odd input gets a sensible answer, a rating keeps the answer it rates, and urgent
tickets stay marked for the people who handle them."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from hotline.bootstrap import App, bootstrap
from hotline.nlu_wiring import nlu_settings
from nlu.pipeline import Pipeline
from tests.conftest import PROJECT, FakeClock, TrainedNlu, make_settings
from tests.factories import people
from tickets.delivery import deliver_pending
from tickets.models import Notice
from tickets.states import State
from web.app import create_app

COMPLAINT = "我家楼上天天漏水，物业一直不管，开发商也不理"
SURE_OF_HOUSING = "幸福小区物业乱收费，开发商交房后房屋漏水也不管"
_ids = itertools.count(1)


class Citizen:
    """One browser: a cookie, and the messages the page would send."""

    def __init__(self, hotline: App) -> None:
        self.client = TestClient(create_app(hotline))
        self.client.get("/chat")

    def say(self, text: str, label: str = "") -> dict[str, Any]:
        body = {"id": f"m{next(_ids)}", "kind": "text", "text": text, "label": label}
        response = self.client.post("/chat/api/events", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def press(self, data: str, message: str = "") -> dict[str, Any]:
        body = {"id": f"b{next(_ids)}", "kind": "button", "data": data, "message": message}
        return self.client.post("/chat/api/events", json=body).json()

    def resume(self) -> dict[str, Any]:
        response = self.client.post("/chat/api/resume")
        assert response.status_code == 200, response.text
        return response.json()

    def notices(self) -> list[dict[str, Any]]:
        return self.client.get("/chat/api/notices").json()["notices"]


def data_of(reply: dict[str, Any], prefix: str) -> str:
    return next(b["data"] for row in reply["buttons"] for b in row if b["data"].startswith(prefix))


def labels(reply: dict[str, Any]) -> list[str]:
    return [b["text"] for row in reply["buttons"] for b in row]


def live(entry: dict[str, Any]) -> list[str]:
    return [b["data"] for row in entry["buttons"] for b in row if b.get("live", True)]


def to_card(citizen: Citizen, text: str = COMPLAINT) -> dict[str, Any]:
    """Describe a problem and answer the place question: the draft card with its buttons."""
    reply = citizen.say(text)["replies"][0]
    if "这是关于工单" in reply["text"]:  # the same words while their ticket is open: a new one, this time
        reply = citizen.press(data_of(reply, "c:new:"), reply["id"])["replies"][0]
    if "在哪里" in reply["text"]:
        reply = citizen.say("幸福小区5栋")["replies"][0]
    assert "请确认" in reply["text"]
    return reply


def file_to_housing(citizen: Citizen) -> str:
    card = to_card(citizen)
    picker = citizen.press(data_of(card, "c:depts:"), card["id"])["replies"][0]
    card = citizen.press(data_of(picker, "c:dept:"), card["id"])["replies"][0]
    done = citizen.press(data_of(card, "c:submit:"), card["id"])
    return str(done["replies"][-1]["text"].split("工单号：")[1].split("\n")[0])


def answered(hotline: App, citizen: Citizen, answer: str) -> tuple[str, dict]:
    """A housing ticket of the citizen's, accepted and answered, and the answer's notice as delivered."""
    number = file_to_housing(citizen)
    who = people(hotline)
    hotline.tickets.accept(number, who["housing_staff"])
    hotline.tickets.answer(number, who["housing_staff"], answer)
    deliver_pending(hotline.engine, hotline.notifier, hotline.now())
    return number, citizen.notices()[0]


# -- 1. a rating keeps the answer ------------------------------------------------------------------
def test_rating_keeps_the_departments_answer_and_adds_the_rating_below_it(hotline: App) -> None:
    citizen = Citizen(hotline)
    _, notice = answered(hotline, citizen, "已安排维修师傅明天上门。")

    rated = citizen.press(data_of(notice, "rate:"), f"n{notice['id']}")  # 满意
    edited = rated["replies"][0]
    assert edited["edit"] and edited["id"] == f"n{notice['id']}"
    assert "已安排维修师傅明天上门。" in edited["text"] and edited["text"].rstrip().endswith("您的评价：满意")
    assert edited["buttons"] == []

    restored = next(m for m in citizen.resume()["messages"] if m["id"] == f"n{notice['id']}")
    assert "已安排维修师傅明天上门。" in restored["text"] and "您的评价：满意" in restored["text"]
    assert live(restored) == []


# -- 2. a reload restores the conversation ---------------------------------------------------------
def test_reload_restores_the_conversation_with_the_pending_drafts_buttons(hotline: App) -> None:
    citizen = Citizen(hotline)
    first = citizen.resume()["messages"]
    assert len(first) == 1 and "个人信息说明" in first[0]["text"]  # the welcome, once
    card = to_card(citizen)

    restored = citizen.resume()["messages"]
    assert [m["from"] for m in restored][:2] == ["bot", "me"] and restored[1]["text"] == COMPLAINT
    assert len([m for m in restored if "个人信息说明" in m["text"]]) == 1  # a reload does not greet again
    last = restored[-1]
    assert last["id"] == card["id"] and "请确认" in last["text"]
    assert {label for row in last["buttons"] for label in [b["text"] for b in row]} >= {"提交", "改类型", "改部门", "取消"}
    assert all(b.get("live", True) for row in last["buttons"] for b in row)

    done = citizen.press(data_of(last, "c:submit:"), last["id"])
    assert "工单号" in done["replies"][-1]["text"]
    after = citizen.resume()["messages"]
    card_again = next(m for m in after if m["id"] == card["id"])
    assert "已提交" in card_again["text"] and live(card_again) == []
    assert "工单号" in after[-1]["text"]


def test_buttons_that_can_no_longer_act_come_back_disabled(hotline: App) -> None:
    citizen = Citizen(hotline)
    number, notice = answered(hotline, citizen, "已处理。")
    status = citizen.say(f"/status {number}")["replies"][0]
    assert live({"buttons": status["buttons"]})  # rating buttons under the status while answered
    citizen.press(f"rate:{number}:satisfied", status["id"])  # rated from the status message

    restored = {m["id"]: m for m in citizen.resume()["messages"]}
    assert live(restored[f"n{notice['id']}"]) == []  # the notice's rating buttons are dead now
    assert restored[f"n{notice['id']}"]["buttons"]  # shown disabled, not silently dropped


def test_typed_submit_files_the_draft_instead_of_joining_its_text(hotline: App) -> None:
    citizen = Citizen(hotline)
    to_card(citizen)
    said = citizen.say("提交")
    assert "工单号" in said["replies"][-1]["text"]
    (ticket,) = hotline.tickets.find()
    assert "提交" not in ticket.text and ticket.text.startswith(COMPLAINT)


def test_typed_cancel_and_confirm_act_like_the_buttons(hotline: App) -> None:
    citizen = Citizen(hotline)
    to_card(citizen)
    assert "已取消" in citizen.say("取消")["replies"][0]["text"]
    assert hotline.tickets.find() == []
    reply = citizen.say(COMPLAINT)["replies"][0]
    assert "在哪里" in reply["text"]
    said = citizen.say("确认")  # at the place question: file it without a place
    assert "工单号" in said["replies"][-1]["text"]
    assert [t.text for t in hotline.tickets.find()] == [COMPLAINT]


# -- 3. English, and questions that fit the channel ------------------------------------------------
def test_web_chat_asks_for_a_typed_address_without_a_location_button(hotline: App) -> None:
    citizen = Citizen(hotline)
    asked = citizen.say(COMPLAINT)["replies"][0]
    assert "在哪里" in asked["text"] and "输入" in asked["text"]
    assert "按钮发送位置" not in asked["text"] and "位置" not in asked["text"].split("？", 1)[1]


def test_english_message_gets_chinese_and_english_help_and_may_still_be_filed(hotline: App) -> None:
    citizen = Citizen(hotline)
    said = citizen.say("The street light outside my building has been broken for a week")["replies"][0]
    assert "请用中文描述" in said["text"] and "12345" in said["text"]
    assert "Please describe your request in Chinese" in said["text"]
    assert "请确认" not in said["text"]
    pressed = citizen.press(data_of(said, "insist:"), said["id"])["replies"]
    assert pressed[0]["edit"] and pressed[0]["id"] == said["id"] and pressed[0]["buttons"] == []
    insist = pressed[-1]
    if "在哪里" in insist["text"]:
        insist = citizen.say("No. 5 Renmin Road")["replies"][0]
    assert "请确认" in insist["text"]
    done = citizen.press(data_of(insist, "c:submit:"), insist["id"])
    assert "工单号" in done["replies"][-1]["text"]
    (ticket,) = hotline.tickets.find()
    assert ticket.text.startswith("The street light") and ticket.state == State.new  # a dispatcher reads it


def test_a_second_english_message_goes_ahead(hotline: App) -> None:
    citizen = Citizen(hotline)
    assert "请用中文" in citizen.say("Hello, I want to complain about noise")["replies"][0]["text"]
    reply = citizen.say("Loud music every night at the bar downstairs")["replies"][0]
    assert "请用中文" not in reply["text"]
    if "在哪里" in reply["text"]:
        reply = citizen.say("跳过")["replies"][0]
    assert "请确认" in reply["text"]
    citizen.press(data_of(reply, "c:submit:"), reply["id"])
    (ticket,) = hotline.tickets.find()
    assert ticket.text == "Hello, I want to complain about noise\nLoud music every night at the bar downstairs"


# -- 4. emoji or punctuation only ------------------------------------------------------------------
def test_emoji_or_punctuation_only_asks_for_words_and_makes_no_draft(hotline: App) -> None:
    citizen = Citizen(hotline)
    for text in ("😡😡😡", "？？？！！", "👍"):
        reply = citizen.say(text)["replies"][0]
        assert "文字" in reply["text"] and "请确认" not in reply["text"] and not reply["buttons"]
    reply = citizen.say("小区门口的路灯坏了")["replies"][0]
    assert "😡" not in reply["text"]
    card = to_card(citizen, "另外小区垃圾没人清运") if "请确认" not in reply["text"] else reply
    assert "😡" not in card["text"]


# -- 5. a citizen who does not know the department -------------------------------------------------
def test_not_sure_of_the_department_sends_the_ticket_to_a_dispatcher(hotline: App) -> None:
    citizen = Citizen(hotline)
    card = to_card(citizen, SURE_OF_HOUSING)
    assert "市住房和城乡建设局" in card["text"]  # the keyword router is sure of it
    picker = citizen.press(data_of(card, "c:depts:"), card["id"])["replies"][0]
    assert "不确定（由派单员分派）" in labels(picker)
    unsure = next(b["data"] for row in picker["buttons"] for b in row if b["text"].startswith("不确定"))
    card = citizen.press(unsure, card["id"])["replies"][0]
    assert "承办单位：由派单员分派" in card["text"]
    citizen.press(data_of(card, "c:submit:"), card["id"])
    (ticket,) = hotline.tickets.find()
    assert ticket.state == State.new and ticket.department_code is None and ticket.needs_review


# -- 6. a refused message stays with the citizen ---------------------------------------------------
def test_too_long_message_is_refused_with_the_limit_and_not_kept_in_the_conversation(hotline: App) -> None:
    citizen = Citizen(hotline)
    limit = hotline.config.bot.max_message_chars
    said = citizen.say("漏" * 6000)
    assert said["keep_input"] is True
    assert f"{limit} 字" in said["replies"][0]["text"] and "6000" in said["replies"][0]["text"]
    assert all(m["text"] != "漏" * 6000 for m in citizen.resume()["messages"])
    assert citizen.say(COMPLAINT)["keep_input"] is False


def test_a_message_ignored_for_flooding_stays_in_the_box(hotline: App) -> None:
    citizen = Citizen(hotline)
    for i in range(hotline.config.bot.flood_limit_per_minute):
        assert citizen.say(f"路灯坏了{i}")["keep_input"] is False
    slowed = citizen.say("还有一件事")
    assert slowed["keep_input"] is True and "太快" in slowed["replies"][0]["text"]
    for text in ("再说一遍", "在吗"):  # every throttled message is answered, not only the first
        again = citizen.say(text)
        assert again["keep_input"] is True and again["replies"] == []
        assert "秒后再发" in again["toast"] and "10 条" in again["toast"]


# -- 7. my tickets and status without typing commands ----------------------------------------------
def test_status_without_a_number_offers_the_citizens_tickets(hotline: App) -> None:
    citizen = Citizen(hotline)
    assert "还没有" in citizen.say("/status", label="查询进度")["replies"][0]["text"]
    number = file_to_housing(citizen)
    offer = citizen.say("/status", label="查询进度")["replies"][0]
    shown = citizen.press(data_of(offer, f"status:{number}"), offer["id"])["replies"][0]
    assert f"工单 {number}" in shown["text"] and "状态：已派单" in shown["text"]
    mine = citizen.say("/mytickets", label="我的工单")["replies"][0]
    assert number in mine["text"] and data_of(mine, "status:") == f"status:{number}"
    shown_as = [m["text"] for m in citizen.resume()["messages"] if m["from"] == "me"]
    assert shown_as[-2:] == ["查询进度", "我的工单"]


# -- 8. urgent ---------------------------------------------------------------------------------------
def test_urgent_message_is_told_to_call_and_its_ticket_is_marked_for_dispatchers(hotline: App) -> None:
    citizen = Citizen(hotline)
    said = citizen.say("楼下饭店着火了，有人被困在二楼")["replies"][0]
    assert "119" in said["text"] and "记录编号" in said["text"]
    (ticket,) = hotline.tickets.find()
    assert ticket.urgent
    with hotline.tickets.unit_of_work() as session:
        review = session.exec(select(Notice).where(Notice.kind == "review")).one()
    assert "【紧急】" in review.text


def test_urgent_words_added_to_a_draft_are_filed_at_once(hotline: App) -> None:
    citizen = Citizen(hotline)
    to_card(citizen)
    said = citizen.say("现在楼道里冒烟了，好像着火了")["replies"][0]
    assert "119" in said["text"] and "记录编号" in said["text"]
    (ticket,) = hotline.tickets.find()
    assert ticket.urgent and "着火" in ticket.text


# -- 9. an emergency is an emergency whatever the bot asked --------------------------------------------
NOISE = "小区楼下烧烤店每天营业到凌晨两点，噪音很大"
FIRE = "着火了！楼下烧烤店着火了，浓烟很大"
KNIFE = "现在楼下有人打起来了，拿刀砍人！"


def assert_filed_as_emergency(hotline: App, said: dict[str, Any], words: str, place: str | None = None) -> None:
    (reply,) = said["replies"]
    assert "110" in reply["text"] and "119" in reply["text"] and "记录编号" in reply["text"]
    assert "请确认" not in reply["text"]
    (ticket,) = hotline.tickets.find()
    assert ticket.urgent and words in ticket.text and ticket.location == place


def test_an_emergency_sent_as_the_place_is_filed_with_the_advice_and_not_kept_as_the_place(hotline: App) -> None:
    citizen = Citizen(hotline)
    assert "在哪里" in citizen.say(NOISE)["replies"][0]["text"]
    assert_filed_as_emergency(hotline, citizen.say(FIRE), "浓烟很大")
    assert hotline.tickets.find()[0].text == f"{NOISE}\n{FIRE}"


def test_an_emergency_sent_as_the_callback_number_is_filed_with_the_advice(hotline: App) -> None:
    citizen = Citizen(hotline)
    assert "在哪里" in citizen.say(NOISE + "，请给我回电")["replies"][0]["text"]
    assert "手机号码" in citizen.say("幸福小区5栋")["replies"][0]["text"]
    assert_filed_as_emergency(hotline, citizen.say(FIRE), "浓烟很大", place="幸福小区5栋")


def test_an_emergency_on_the_draft_card_or_beyond_the_flood_limit_still_gets_the_advice(hotline: App) -> None:
    citizen = Citizen(hotline)
    card = to_card(citizen)  # two messages: the complaint and its place
    for i in range(hotline.config.bot.flood_limit_per_minute - 2):
        assert "已补充" in citizen.say(f"楼道灯也坏了{i}")["replies"][0]["text"]
    assert citizen.say("还有一件事")["keep_input"] is True  # throttled
    said = citizen.say(FIRE)
    assert said["keep_input"] is False and "119" in said["replies"][0]["text"]
    (ticket,) = hotline.tickets.find()
    assert ticket.urgent and ticket.text.startswith(COMPLAINT) and ticket.text.endswith(FIRE)
    assert ticket.location == "幸福小区5栋" and "还有一件事" not in ticket.text
    assert "已经处理过" in citizen.press(data_of(card, "c:submit:"), card["id"])["toast"]  # the card is done


def test_a_flood_of_alarms_gets_the_advice_every_time_and_one_ticket_over_the_limit(hotline: App) -> None:
    citizen = Citizen(hotline)
    limit = hotline.config.bot.flood_limit_per_minute
    for i in range(limit):
        citizen.say(f"路灯坏了{i}")
    replies = [citizen.say(f"着火了！楼下{n}号着火了")["replies"] for n in range(25)]
    assert all(len(r) == 1 and "110" in r[0]["text"] and "119" in r[0]["text"] for r in replies)
    (ticket,) = [t for t in hotline.tickets.find() if t.urgent]
    assert all(f"记录编号：{ticket.number}" in r[0]["text"] for r in replies)
    assert "楼下0号着火了" in ticket.text and "不再另行记录" in replies[-1][0]["text"]


def test_alarms_under_the_limit_are_each_filed_and_the_rest_join_the_last(hotline: App) -> None:
    citizen = Citizen(hotline)
    limit = hotline.config.bot.flood_limit_per_minute
    replies = [citizen.say(f"着火了！楼下{n}号着火了")["replies"][0]["text"] for n in range(25)]
    urgent = [t for t in hotline.tickets.find() if t.urgent]
    assert len(urgent) == limit and all("119" in text for text in replies)
    last = max(urgent, key=lambda t: t.id or 0)
    assert all(f"记录编号：{last.number}" in text for text in replies[limit:])


def test_an_emergency_too_long_to_read_is_refused_with_its_length_and_a_draft_stays_bounded(hotline: App) -> None:
    citizen = Citizen(hotline)
    limit = hotline.config.bot.max_message_chars
    said = citizen.say(FIRE + "漏" * limit)
    assert said["keep_input"] is True and str(limit + len(FIRE)) in said["replies"][0]["text"]
    assert hotline.tickets.find() == []
    long_noise = (NOISE + "，") * ((limit - 20) // (len(NOISE) + 1))
    assert "在哪里" in citizen.say(long_noise)["replies"][0]["text"]
    assert_filed_as_emergency(hotline, citizen.say(FIRE), "浓烟很大")
    (ticket,) = hotline.tickets.find()
    assert len(ticket.text) <= limit and ticket.text.endswith(FIRE) and ticket.text.startswith(NOISE)


def test_an_emergency_given_as_the_reason_of_a_rating_records_both(hotline: App) -> None:
    citizen = Citizen(hotline)
    number, notice = answered(hotline, citizen, "已修好。")
    citizen.press(f"rate:{number}:dissatisfied", f"n{notice['id']}")
    said = citizen.say("根本没修，现在楼道又着火了")["replies"]
    assert "119" in said[0]["text"] and "记录编号" in said[0]["text"]
    assert f"工单 {number} 已转回" in said[1]["text"]
    rated = hotline.tickets.get(number)
    assert rated.state == State.reopened
    (urgent,) = [t for t in hotline.tickets.find() if t.urgent]
    assert "着火" in urgent.text and urgent.number != number
    assert "没有等待说明原因" in citizen.say("不说明原因")["replies"][0]["text"]  # no rating left half done


class Down:
    """A classifier whose server is down."""

    class Error(RuntimeError):
        pass

    def classify(self, text: str) -> Any:
        raise Down.Error("connection refused")


def test_with_the_classifier_down_buttons_words_numbers_and_reasons_still_work(
    hotline: App, caplog: pytest.LogCaptureFixture
) -> None:
    citizen = Citizen(hotline)
    number, notice = answered(hotline, citizen, "已修好。")
    assert "在哪里" in citizen.say(NOISE + "，请给我回电")["replies"][0]["text"]
    assert "手机号码" in citizen.say("幸福小区5栋")["replies"][0]["text"]
    hotline.classifier = Down()  # type: ignore[assignment, misc]
    with caplog.at_level(logging.ERROR, logger="bot.conversation"):
        card = citizen.say("13812345678")["replies"][0]
    assert "请确认" in card["text"] and "联系电话：13812345678" in card["text"]
    assert "emergency check" in caplog.text
    assert number in citizen.say("我的工单")["replies"][0]["text"]
    assert "已取消" in citizen.say("取消")["replies"][0]["text"]
    citizen.press(f"rate:{number}:dissatisfied", f"n{notice['id']}")
    assert "已转回" in citizen.say("还是漏水")["replies"][0]["text"]
    assert hotline.tickets.get(number).state == State.reopened
    with pytest.raises(Down.Error):  # a new appeal needs the classifier: its failure is reported as before
        citizen.client.post("/chat/api/events", json={"id": "down", "kind": "text", "text": "路灯坏了"})


def test_a_knife_fight_sent_as_the_place_is_an_emergency_to_the_built_in_nlu(
    tmp_path: Path, sqlite_url: str, clock: FakeClock, nlu_model: TrainedNlu
) -> None:
    """The shipped classifier (its emergency lexicon knows 拿刀砍人; the keyword router does not)."""
    app = bootstrap(make_settings(tmp_path, sqlite_url), clock=clock, classifier="keywords")
    app.classifier = Pipeline(nlu_settings(app.config), nlu_model.model, PROJECT)  # type: ignore[arg-type, misc]
    try:
        citizen = Citizen(app)
        assert "在哪里" in citizen.say(NOISE)["replies"][0]["text"]
        assert_filed_as_emergency(app, citizen.say(KNIFE), "拿刀砍人")
    finally:
        app.engine.dispose()


# -- 10. an answer to "where?" that names no place ---------------------------------------------------
def test_thanks_or_assent_as_the_place_is_asked_again_then_left_out(hotline: App) -> None:
    citizen = Citizen(hotline)
    citizen.say(NOISE)
    again = citizen.say("谢谢")["replies"][0]
    assert "具体地点" in again["text"] and "12号" in again["text"] and "跳过" in again["text"]
    assert "跳过" in labels(again)
    card = citizen.say("好的")["replies"][0]  # a second non-answer: go on without a place
    assert "请确认" in card["text"] and "地点：未提供" in card["text"]
    citizen.press(data_of(card, "c:submit:"), card["id"])
    (ticket,) = hotline.tickets.find()
    assert ticket.location is None and ticket.text == NOISE


def test_i_dont_know_skips_the_place_and_an_address_is_kept(hotline: App, clock: FakeClock) -> None:
    citizen = Citizen(hotline)
    citizen.say(NOISE)
    card = citizen.say("不知道")["replies"][0]
    assert "请确认" in card["text"] and "地点：未提供" in card["text"]
    citizen.say("取消")
    for address in ("人民路12号", "幸福小区东门对面", "No. 5 Renmin Road", "不清楚门牌号，在万达广场"):
        citizen.say(NOISE)
        card = citizen.say(address)["replies"][0]
        assert f"地点：{address}" in card["text"], address
        citizen.say("取消")
        clock.advance(minutes=1)  # not a flood


def test_traditional_thanks_twice_is_not_kept_as_the_place(hotline: App) -> None:
    citizen = Citizen(hotline)
    citizen.say(NOISE)
    assert "具体地点" in citizen.say("謝謝")["replies"][0]["text"]
    assert "地点：未提供" in citizen.say("謝謝")["replies"][0]["text"]


def test_a_place_the_bot_does_not_recognise_is_kept_when_given_again(hotline: App) -> None:
    citizen = Citizen(hotline)
    citizen.say(NOISE)
    assert "具体地点" in citizen.say("老地方")["replies"][0]["text"]
    assert "地点：万达" in citizen.say("万达")["replies"][0]["text"]


# -- 11. the buttons' words typed ----------------------------------------------------------------------
def test_typed_button_labels_do_what_the_buttons_do_and_open_no_appeal(hotline: App) -> None:
    citizen = Citizen(hotline)
    does = {"查询进度": "还没有提交过", "我的工单": "还没有提交过", " 我的工單 ": "还没有提交过", "查詢進度": "还没有提交过",
            "取消": "需要时直接描述", "提交": "请先用文字描述", "跳过": "没有需要跳过", "改类型": "请先用文字描述"}
    for typed, answer in does.items():
        (reply,) = citizen.say(typed)["replies"]
        assert answer in reply["text"] and not reply["buttons"], typed
    assert "个人信息说明" in citizen.say("使用说明")["replies"][0]["text"]
    assert hotline.tickets.find() == []
    number = file_to_housing(citizen)
    offer = citizen.say("查询进度")["replies"][0]
    assert data_of(offer, "status:") == f"status:{number}"
    assert number in citizen.say("我的工单")["replies"][0]["text"]
    assert f"工单 {number}" in citizen.say(f"查看 {number}（已派单）")["replies"][0]["text"]
    card = to_card(citizen)
    assert "请选择诉求类型" in citizen.say("改类型")["replies"][0]["text"]
    assert "请选择承办单位" in citizen.say("改部门")["replies"][0]["text"]
    assert "请确认" in citizen.say("返回")["replies"][0]["text"]
    assert card and len(hotline.tickets.find()) == 1


def test_typed_satisfied_rates_the_answered_ticket(hotline: App) -> None:
    citizen = Citizen(hotline)
    number, _ = answered(hotline, citizen, "已安排维修，请留意。")
    thanks = citizen.say("满意")
    assert "感谢您的评价" in thanks["replies"][-1]["text"]
    assert hotline.tickets.get(number).state == State.closed
    assert "没有待评价" in citizen.say("不满意")["replies"][0]["text"]


def test_typed_back_or_pickers_at_a_question_leave_it_for_the_card(hotline: App) -> None:
    citizen = Citizen(hotline)
    assert "在哪里" in citizen.say(NOISE + "，请给我回电")["replies"][0]["text"]
    assert "请选择承办单位" in citizen.say("改部门")["replies"][0]["text"]
    assert "请确认" in citizen.say("返回")["replies"][0]["text"]
    added = citizen.say("晚上还有人在楼下喝酒吵闹")["replies"]  # added to the draft, not taken as the place
    assert "已补充" in added[0]["text"] and "地点：未提供" in added[1]["text"]
    citizen.say("取消")
    assert "在哪里" in citizen.say(NOISE)["replies"][0]["text"]
    assert "请选择诉求类型" in citizen.say("改类型")["replies"][0]["text"]
    assert "已补充" in citizen.say("人民路12号")["replies"][0]["text"]


def test_typed_dissatisfied_during_a_draft_asks_to_finish_the_draft_first(hotline: App) -> None:
    citizen = Citizen(hotline)
    number, _ = answered(hotline, citizen, "已安排维修，请留意。")
    assert "在哪里" in citizen.say(NOISE)["replies"][0]["text"]
    assert "请先提交或取消" in citizen.say("不满意")["replies"][0]["text"]
    assert "地点：人民路12号" in citizen.say("人民路12号")["replies"][0]["text"]  # still the place question
    assert hotline.tickets.get(number).state == State.answered


def test_typed_labels_have_their_own_higher_limit(hotline: App) -> None:
    citizen = Citizen(hotline)
    limit = hotline.config.bot.flood_limit_per_minute
    for _ in range(3 * limit):
        said = citizen.say("我的工单")
        assert said["keep_input"] is False and "还没有提交过" in said["replies"][0]["text"]
    slowed = citizen.say("我的工单")
    assert slowed["keep_input"] is True and f"{3 * limit} 条" in slowed["replies"][0]["text"]
    assert citizen.say(NOISE)["keep_input"] is False  # a description is counted apart
