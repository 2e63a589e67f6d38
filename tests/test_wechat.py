"""The WeChat Official Account channel end to end: messages signed (and in safe mode encrypted)
as WeChat does, posted to /wechat of the real app; the passive XML replies read back with wechatpy;
later messages sent by the real wechatpy client to the WeChat API server of
tests/wechat_api_server.py on 127.0.0.1."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import string
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xmltodict
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from wechatpy.crypto import WeChatCrypto

from bot import choices
from bot.store import BotStore
from bot.wechat_adapter import FAILED
from hotline.bootstrap import App, bootstrap
from hotline.settings import ConfigError, load_environment
from tests.botapi_server import free_port
from tests.conftest import PROJECT, FakeClock, make_settings
from tests.factories import people
from tests.wechat_api_server import APPID, SECRET, WeChatApiServer
from tickets.delivery import deliver_pending
from tickets.models import Attachment, Notice
from tickets.states import State
from web.app import create_app

TOKEN = "hotlinetoken"
ACCOUNT = "gh_hotline"
CITIZEN = "oCitizen-0000000000000000001"
OTHER = "oCitizen-0000000000000000002"
COMPLAINT = "我家楼上天天漏水，物业一直不管，开发商也不理"


class WeChat:
    """What WeChat's server does: sign (and in safe mode encrypt) a pushed message and read the
    passive reply."""

    def __init__(self, client: TestClient, clock: FakeClock, aes_key: str | None = None) -> None:
        self.client = client
        self.clock = clock
        self.crypto = WeChatCrypto(TOKEN, aes_key, APPID) if aes_key else None
        self.ids = itertools.count(6_000_000_000_000_000_001)

    def query(self, token: str = TOKEN) -> dict[str, str]:
        timestamp, nonce = str(int(self.clock.now.timestamp())), secrets.token_hex(5)
        signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
        return {"signature": signature, "timestamp": timestamp, "nonce": nonce, "openid": CITIZEN}

    def xml(self, openid: str, kind: str, msg_id: int | None = None, **fields: Any) -> str:
        body = {"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": int(self.clock.now.timestamp()),
                "MsgType": kind, **fields}
        if kind != "event":
            body["MsgId"] = msg_id if msg_id is not None else next(self.ids)
        return str(xmltodict.unparse({"xml": body}, full_document=False))

    def post(self, xml: str, **query: str) -> Any:
        params = self.query()
        if self.crypto is not None:
            wrapped = xmltodict.parse(self.crypto.encrypt_message(xml, params["nonce"], params["timestamp"]))["xml"]
            params |= {"encrypt_type": "aes", "msg_signature": wrapped["MsgSignature"]}
            xml = xmltodict.unparse({"xml": {"ToUserName": ACCOUNT, "Encrypt": wrapped["Encrypt"]}}, full_document=False)
        return self.client.post("/wechat", params=params | query, content=xml.encode(),
                                headers={"Content-Type": "text/xml"})

    def reply(self, response: Any) -> str:
        """The passive reply's text ("" for WeChat's "success"), decrypted in safe mode."""
        assert response.status_code == 200, response.text
        if response.text == "success":
            return ""
        xml = response.text
        if self.crypto is not None:
            outer = xmltodict.parse(xml)["xml"]
            xml = self.crypto.decrypt_message(xml, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        body = xmltodict.parse(xml)["xml"]
        assert body["MsgType"] == "text" and body["ToUserName"] == CITIZEN or body["ToUserName"] == OTHER
        return str(body["Content"])

    def say(self, text: str, openid: str = CITIZEN, msg_id: int | None = None) -> str:
        return self.reply(self.post(self.xml(openid, "text", msg_id, Content=text)))


def quick_config(tmp_path: Path) -> Path:
    """The shipped config without sentence encoders: these tests are about the channel, and loading an
    encoder on a busy machine can take longer than WeChat's 4-second budget for a passive reply."""
    config = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    config["nlu"]["encoder"] = "none"
    config.setdefault("kb", {})["encoder"] = "none"
    path = tmp_path / "quick-config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def wechat_settings(tmp_path: Path, database_url: str, server: WeChatApiServer, **extra: str) -> Any:
    if "HOTLINE_CONFIG" not in extra:
        extra["HOTLINE_CONFIG"] = str(quick_config(tmp_path))
    return make_settings(tmp_path, database_url, WECHAT_TOKEN=TOKEN, WECHAT_APPID=APPID, WECHAT_SECRET=SECRET,
                         WECHAT_API_BASE_URL=server.base_url, **extra)


@pytest.fixture
def server() -> Iterator[WeChatApiServer]:
    api = WeChatApiServer().start()
    yield api
    api.stop()


@pytest.fixture
def hotline(tmp_path: Path, database_url: str, clock: FakeClock, server: WeChatApiServer) -> Iterator[App]:
    """The hotline as `hotline serve` builds it with WECHAT_TOKEN set, pointed at the test server."""
    app = bootstrap(wechat_settings(tmp_path, database_url, server), clock=clock)
    yield app
    app.engine.dispose()


@pytest.fixture
def wechat(hotline: App, clock: FakeClock) -> Iterator[WeChat]:
    with TestClient(create_app(hotline)) as client:
        yield WeChat(client, clock)


def ticket_number(text: str) -> str:
    return text.split("工单号：")[1].split("\n")[0].strip()


def choice(text: str, label: str) -> str:
    """The number a typed-choice line offers for `label` (回复「3」改部门 → "3")."""
    for line in text.splitlines():
        for cell in line.removeprefix("回复").split("　"):
            if cell.startswith("「") and cell.split("」", 1)[1] == label:
                return cell[1:].split("」")[0]
    raise AssertionError(f"no choice {label!r} in {text!r}")


def test_signed_message_gets_a_chinese_reply_typed_numbers_file_the_ticket_and_a_retry_files_nothing(
    hotline: App, wechat: WeChat, server: WeChatApiServer
) -> None:
    asked = wechat.say(COMPLAINT)
    assert "发生在哪里" in asked and "回复「1」跳过" in asked
    card = wechat.say("幸福小区5栋")
    assert "请确认" in card and "地点：幸福小区5栋" in card
    assert card.splitlines()[-3:] == ["回复「1」提交", "回复「2」改类型　「3」改部门", "回复「4」取消"]
    picker = wechat.say(choice(card, "改部门"))
    assert "请选择承办单位" in picker
    card = wechat.say(choice(picker, "市住房和城乡建设局"))
    assert "承办单位：市住房和城乡建设局" in card

    retried_id = 7_000_000_000_000_000_001
    done = wechat.say(choice(card, "提交"), msg_id=retried_id)
    number = ticket_number(done)
    assert "已受理" in done and "前答复" in done and "（已提交）" not in done
    ticket = hotline.tickets.get(number)
    assert ticket.state == State.assigned and ticket.department_code == "housing" and ticket.channel == "wechat"
    # WeChat asks again with the same MsgId: the same reply, and no second ticket.
    assert wechat.say(choice(card, "提交"), msg_id=retried_id) == done
    assert len(hotline.tickets.find()) == 1
    # The old card's number, typed later, files nothing and shows the ticket it filed.
    assert f"已提交，工单号：{number}" in wechat.say("1")
    assert len(hotline.tickets.find()) == 1

    # The department answers; the outbox sends it through the customer-service API with its rating
    # choices, and the citizen rates by typing a number.
    who = people(hotline)
    hotline.tickets.accept(number, who["housing_staff"])
    hotline.tickets.answer(number, who["housing_staff"], "已联系物业，明天上门维修。")
    sent, failed = deliver_pending(hotline.engine, hotline.notifier, hotline.now())
    assert sent >= 1 and failed == 0 and len(server.tokens) == 1
    [answer] = server.texts_to(CITIZEN)
    assert "已联系物业，明天上门维修。" in answer
    rated = wechat.say(choice(answer, "满意"))
    assert "感谢您的评价" in rated
    assert hotline.tickets.get(number).state == State.closed


def test_words_submit_and_confirm_work_and_skip_passes_the_question(hotline: App, wechat: WeChat) -> None:
    assert "发生在哪里" in wechat.say(COMPLAINT)
    card = wechat.say("跳过")
    assert "请确认" in card and "地点：未提供" in card
    assert "已受理" in wechat.say("提交")
    assert "发生在哪里" in wechat.say("小区路灯坏了一个星期没人修，晚上很黑", openid=OTHER)
    assert "请确认" in wechat.say("跳过", openid=OTHER)
    assert "已受理" in wechat.say("确认", openid=OTHER)
    assert len(hotline.tickets.find()) == 2
    # Every question before the card is skipped by 跳过: where, the callback number, writing in Chinese.
    assert "发生在哪里" in wechat.say("楼下饭店油烟很大，请给我回电话")
    assert "手机号码" in wechat.say("跳过")
    assert "联系电话：未提供" in wechat.say("跳过")
    assert "已受理" in wechat.say("提交")
    assert "请用中文" in wechat.say("The street light outside my building is broken", openid=OTHER)
    skipped = wechat.say("跳过", openid=OTHER)
    assert "请确认" in skipped or "发生在哪里" in skipped


def test_a_number_without_choices_or_out_of_range_gets_a_clear_answer(wechat: WeChat) -> None:
    assert wechat.say("1") == choices.NO_CHOICES
    asked = wechat.say(COMPLAINT)
    assert "回复「1」跳过" in asked
    assert wechat.say("5") == choices.OUT_OF_RANGE.format(n=5, last=1)
    assert "请确认" in wechat.say("１")  # a full-width digit is the same number


def test_without_wechat_token_there_is_no_wechat_route(hotline_sqlite: App) -> None:
    assert TestClient(create_app(hotline_sqlite)).get("/wechat").status_code == 404


def test_bad_signature_and_stale_timestamp_are_refused(wechat: WeChat, clock: FakeClock) -> None:
    good = wechat.query()
    assert wechat.client.get("/wechat", params=good | {"echostr": "4242"}).text == "4242"
    forged = wechat.query(token="not-the-token")
    assert wechat.client.get("/wechat", params=forged | {"echostr": "4242"}).status_code == 403
    xml = wechat.xml(CITIZEN, "text", Content=COMPLAINT)
    refused = wechat.client.post("/wechat", params=forged, content=xml.encode())
    assert refused.status_code == 403
    clock.advance(minutes=10)  # a signature made ten minutes ago is a replay
    assert wechat.client.post("/wechat", params=good, content=xml.encode()).status_code == 403
    assert wechat.client.post("/wechat", params=wechat.query(), content=b"<xml>not wechat").status_code == 400


def test_safe_mode_decrypts_the_message_and_encrypts_the_reply(
    tmp_path: Path, database_url: str, clock: FakeClock, server: WeChatApiServer
) -> None:
    aes_key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))
    app = bootstrap(wechat_settings(tmp_path, database_url, server, WECHAT_AES_KEY=aes_key), clock=clock)
    try:
        with TestClient(create_app(app)) as client:
            wechat = WeChat(client, clock, aes_key)
            response = wechat.post(wechat.xml(CITIZEN, "text", Content=COMPLAINT))
            assert "<Encrypt>" in response.text and COMPLAINT[:4] not in response.text
            assert "发生在哪里" in wechat.reply(response)
            assert "请确认" in wechat.say("跳过")
            assert "已受理" in wechat.say("1")
            # A plain message, or one whose msg_signature does not match, is not WeChat's in safe mode.
            plain = WeChat(client, clock)
            assert plain.post(plain.xml(CITIZEN, "text", Content="你好")).status_code == 403
            forged = wechat.xml(CITIZEN, "text", Content="你好")
            assert wechat.post(forged, msg_signature="0" * 40).status_code == 403
        assert len(app.tickets.find()) == 1
    finally:
        app.engine.dispose()


def test_subscribe_is_welcomed_and_unsubscribe_drops_the_draft(hotline: App, wechat: WeChat) -> None:
    welcome = wechat.reply(wechat.post(wechat.xml(CITIZEN, "event", Event="subscribe", EventKey="")))
    assert "市民服务热线" in welcome and "个人信息" in welcome
    assert "发生在哪里" in wechat.say(COMPLAINT)
    # A custom menu item keyed 我的工单 answers as the typed words do.
    assert "还没有提交过" in wechat.reply(wechat.post(wechat.xml(CITIZEN, "event", Event="CLICK", EventKey="我的工单")))
    assert wechat.reply(wechat.post(wechat.xml(CITIZEN, "event", Event="unsubscribe"))) == ""
    assert BotStore(hotline.engine).load("wechat", "user", CITIZEN) is None


def test_image_is_attached_to_the_ticket_and_voice_gets_a_clear_answer(
    hotline: App, wechat: WeChat, server: WeChatApiServer
) -> None:
    kept = wechat.reply(wechat.post(wechat.xml(CITIZEN, "image", PicUrl=server.picture_url(), MediaId="media-1")))
    assert "已收到照片" in kept
    assert "回复" in wechat.say(COMPLAINT)
    card = wechat.say("跳过")
    assert "照片：1 张" in card
    number = ticket_number(wechat.say("提交"))
    with Session(hotline.engine) as session:
        [attachment] = session.exec(select(Attachment)).all()
    assert attachment.ticket_id == hotline.tickets.get(number).id and attachment.ref.startswith("uploads/wechat/")
    assert (hotline.settings.env.home / attachment.ref).read_bytes()[:4] == b"\x89PNG"

    voice = wechat.reply(wechat.post(wechat.xml(CITIZEN, "voice", MediaId="media-2", Format="amr")))
    assert "语音" in voice and "文字" in voice
    # With WeChat's speech recognition on, the recognised words are the message.
    heard = wechat.reply(wechat.post(wechat.xml(OTHER, "voice", MediaId="media-3", Format="amr",
                                                Recognition="小区路灯坏了一个星期没人修")))
    assert "发生在哪里" in heard


def test_an_answer_slower_than_the_budget_follows_as_a_customer_service_message(
    tmp_path: Path, database_url: str, clock: FakeClock, server: WeChatApiServer
) -> None:
    config = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    config["bot"]["wechat_reply_seconds"] = 0  # every answer misses the passive reply
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    settings = wechat_settings(tmp_path, database_url, server, HOTLINE_CONFIG=str(tmp_path / "config.yml"))
    app = bootstrap(settings, clock=clock)
    try:
        with TestClient(create_app(app)) as client:
            wechat = WeChat(client, clock)
            assert wechat.say(COMPLAINT) == "您的消息已收到，正在处理，稍后会在这里回复您。"
            deadline = time.monotonic() + 20
            while not server.texts_to(CITIZEN) and time.monotonic() < deadline:
                time.sleep(0.05)
            [late] = server.texts_to(CITIZEN)
            assert "发生在哪里" in late and "回复「1」跳过" in late
    finally:
        app.engine.dispose()


def test_customer_service_refusals_keep_or_drop_the_notice(hotline: App, wechat: WeChat, server: WeChatApiServer) -> None:
    assert "发生在哪里" in wechat.say(COMPLAINT)
    wechat.say("跳过")
    number = ticket_number(wechat.say("提交"))
    who = people(hotline)
    if hotline.tickets.get(number).state == State.new:  # the keyword router was not sure
        hotline.tickets.assign(number, who["dispatcher"], "housing")
    hotline.tickets.accept(number, who["housing_staff"])
    hotline.tickets.answer(number, who["housing_staff"], "已处理。")
    server.refuse_next.append(45015)  # the citizen has not written for 48 hours: try again later
    assert deliver_pending(hotline.engine, hotline.notifier, hotline.now())[1] == 1
    with Session(hotline.engine) as session:
        notice = session.exec(select(Notice).where(Notice.recipient_kind == "citizen")).one()
    assert notice.sent_at is None and "45015" in (notice.last_error or "")
    assert server.texts_to(CITIZEN) == []
    # The citizen writes again (the 48 hours start anew): the next attempt delivers the answer.
    assert number in wechat.say("我的工单")
    assert deliver_pending(hotline.engine, hotline.notifier, notice.next_attempt_at) == (1, 0)
    assert "已处理。" in server.texts_to(CITIZEN)[0]


def test_a_citizen_who_unsubscribed_is_not_retried_for_ever(hotline: App, wechat: WeChat, server: WeChatApiServer) -> None:
    wechat.say(COMPLAINT)
    wechat.say("跳过")
    number = ticket_number(wechat.say("提交"))
    who = people(hotline)
    if hotline.tickets.get(number).state == State.new:
        hotline.tickets.assign(number, who["dispatcher"], "housing")
    hotline.tickets.accept(number, who["housing_staff"])
    hotline.tickets.answer(number, who["housing_staff"], "已处理。")
    server.refuse_next.append(43004)  # not subscribed any more
    assert deliver_pending(hotline.engine, hotline.notifier, hotline.now())[1] == 0
    with Session(hotline.engine) as session:
        notice = session.exec(select(Notice).where(Notice.recipient_kind == "citizen")).one()
    assert notice.sent_at is not None and server.texts_to(CITIZEN) == []


@pytest.mark.parametrize(("environ", "key"), [
    ({"WECHAT_TOKEN": "hotlinetoken"}, "WECHAT_APPID"),
    ({"WECHAT_TOKEN": "hotlinetoken", "WECHAT_APPID": APPID}, "WECHAT_SECRET"),
    ({"WECHAT_TOKEN": "a b", "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET}, "WECHAT_TOKEN"),
    ({"WECHAT_TOKEN": "hotlinetoken", "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_AES_KEY": "short"},
     "WECHAT_AES_KEY"),
])
def test_wechat_settings_name_the_bad_key(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=f"^{key}:"):
        load_environment(environ)
    assert load_environment({}).wechat is None  # no WECHAT_TOKEN: no /wechat


def test_a_message_that_fails_is_answered_with_an_apology_not_silence(
    tmp_path: Path, database_url: str, clock: FakeClock, server: WeChatApiServer
) -> None:
    """The NLU backend is down (a Rasa URL nobody listens on): the claimed message gets a Chinese
    apology, since WeChat's retries of it would get nothing."""
    config = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    config["nlu"]["rasa_url"] = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    settings = wechat_settings(tmp_path, database_url, server, HOTLINE_CONFIG=str(tmp_path / "config.yml"),
                               HOTLINE_NLU_BACKEND="rasa")
    app = bootstrap(settings, clock=clock)
    try:
        with TestClient(create_app(app)) as client:
            wechat = WeChat(client, clock)
            assert wechat.say(COMPLAINT) == FAILED
            assert app.tickets.find() == []
    finally:
        app.engine.dispose()


def test_a_long_answer_arrives_in_pieces_with_the_rating_choices_last(
    hotline: App, wechat: WeChat, server: WeChatApiServer
) -> None:
    wechat.say(COMPLAINT)
    wechat.say("跳过")
    number = ticket_number(wechat.say("提交"))
    who = people(hotline)
    if hotline.tickets.get(number).state == State.new:
        hotline.tickets.assign(number, who["dispatcher"], "housing")
    hotline.tickets.accept(number, who["housing_staff"])
    answer = "经现场核查，" + "维修工程已安排，" * 120 + "请您留意。"
    hotline.tickets.answer(number, who["housing_staff"], answer)
    assert deliver_pending(hotline.engine, hotline.notifier, hotline.now())[1] == 0
    texts = server.texts_to(CITIZEN)
    assert len(texts) >= 2 and all(len(t.encode()) <= 2048 for t in texts)
    assert "请您留意。" in "".join(texts) and "回复「1」满意" in texts[-1]
