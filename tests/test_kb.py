"""The knowledge base: import and export, re-imports that update, bad files that change nothing,
search that ranks and knows when it is sure, the citizen's 已解决 / 没解决, and the figures."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from hotline.bootstrap import App
from tests.conftest import PROJECT, local
from tests.factories import people
from tickets import kb_files
from tickets.errors import InvalidInput, PermissionDenied
from tickets.kb_models import KbEntry, KbVersion
from tickets.knowledge import Status
from tickets.models import Ticket
from tickets.states import CloseReason, State
from tickets.stats.periods import iso_week
from tickets.stats.report import build_report
from web.app import create_app

HEADER = "question,answer,department,variants,topic,source,valid_from,valid_until\n"
ROWS = [
    "身份证丢了怎么补办？,带户口簿到派出所户政窗口申请补领。,public_security,身份证遗失补领|补办身份证,,示例,,",
    "孩子上小学怎么报名？,按教育部门招生公告登记报名。,市教育局,一年级入学报名,,示例,,",
    "家里停水了怎么办？,先确认是否计划停水，再联系供水企业报修。,water,,,示例,,",
    "低保怎么申请？,向户籍所在地街道提出申请。,civil_affairs,最低生活保障申请,,示例,,",
    "电动自行车怎么上牌？,带购车发票、合格证到登记点办理。,public_security,电瓶车挂牌,,示例,,2026-11-30",
]


def write(tmp_path: Path, rows: list[str], name: str = "kb.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes((HEADER + "\n".join(rows) + "\n").encode(encoding))
    return path


def entries(app: App) -> list[KbEntry]:
    return app.kb.entries(limit=1000)


def test_import_export_round_trip_and_reimport_updates_instead_of_duplicating(hotline: App, tmp_path: Path) -> None:
    first = hotline.kb.import_rows(kb_files.read(write(tmp_path, ROWS)))
    assert (first.created, first.updated) == (5, 0)
    education = next(e for e in entries(hotline) if e.question.startswith("孩子"))
    assert education.department_code == "education" and education.topic == "教育文体"  # Chinese name → code

    out = tmp_path / "out.csv"
    kb_files.write(out, hotline.kb.entries(status=Status.published))
    again = hotline.kb.import_rows(kb_files.read(out))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)

    changed = [ROWS[0].replace("户政窗口申请补领", "户政窗口或网上申请补领"), *ROWS[1:]]
    third = hotline.kb.import_rows(kb_files.read(write(tmp_path, changed, "gbk.csv", "gbk")))
    assert (third.created, third.updated) == (0, 1)
    assert len(entries(hotline)) == 5
    card = next(e for e in entries(hotline) if e.question.startswith("身份证"))
    assert "网上申请" in card.answer and card.version == 2
    assert [v.action for v in hotline.kb.versions(card.id)] == ["import", "import"]  # type: ignore[arg-type]

    replaced = hotline.kb.import_rows(kb_files.read(write(tmp_path, ROWS[:2], "two.csv")), replace=True)
    assert replaced.retired == 3
    assert len(hotline.kb.entries(status=Status.published)) == 2


@pytest.mark.parametrize("content, message", [
    (HEADER + ROWS[0] + "\n" + ROWS[1] + "\n" + ROWS[0] + "\n", "line 4: the same question as line 2"),
    (HEADER + ROWS[0] + "\n身份证怎么办？,答复。,no_such_department,,,,,\n", "line 3: unknown department"),
    ("question,answer\n身份证丢了怎么补办？,去派出所。\n", "missing column department"),
    (HEADER + "问题,,water,,,,,\n", "line 2: answer is empty"),
    (HEADER + "问题,答案,water,,,,2026-13-01,\n", "line 2: valid_from"),
])
def test_a_bad_file_is_named_by_its_line_and_changes_nothing(hotline: App, tmp_path: Path, content: str,
                                                             message: str) -> None:
    hotline.kb.import_rows(kb_files.read(write(tmp_path, ROWS[2:3], "before.csv")))
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message):
        hotline.kb.import_rows(kb_files.read(path))
    assert [e.question for e in entries(hotline)] == ["家里停水了怎么办？"]


def test_a_file_in_neither_utf8_nor_gbk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes((HEADER + ROWS[0]).encode("utf-16"))
    with pytest.raises(InvalidInput, match="neither UTF-8 nor GBK"):
        kb_files.read(path)


def test_yaml_imports_like_csv(hotline: App, tmp_path: Path) -> None:
    path = tmp_path / "kb.yml"
    path.write_text("- question: 家里停水了怎么办？\n  answer: 联系供水企业报修。\n  department: water\n"
                    "  variants: [没有自来水了]\n", encoding="utf-8")
    assert hotline.kb.import_rows(kb_files.read(path)).created == 1
    assert entries(hotline)[0].variants == ["没有自来水了"]


def test_staff_draft_for_their_department_and_only_a_publisher_publishes(hotline: App) -> None:
    who = people(hotline)
    from tickets.knowledge import EntryFields

    draft = hotline.kb.create(who["housing_staff"], EntryFields("物业费怎么定？", "按合同约定。", "housing"))
    assert draft.status == Status.draft
    with pytest.raises(PermissionDenied):
        hotline.kb.create(who["housing_staff"], EntryFields("水费怎么交？", "营业厅。", "water"))
    with pytest.raises(PermissionDenied):
        hotline.kb.set_status(draft.id, who["housing_head"], Status.published)  # type: ignore[arg-type]
    published = hotline.kb.set_status(draft.id, who["dispatcher"], Status.published)  # type: ignore[arg-type]
    assert published.status == Status.published
    with Session(hotline.engine) as session:
        actions = [v.action for v in session.exec(select(KbVersion).order_by(KbVersion.id)).all()]  # type: ignore[arg-type]
    assert actions == ["create", "publish"]


def test_the_expiry_reminder_tells_the_department_once(hotline: App, tmp_path: Path) -> None:
    hotline.kb.import_rows(kb_files.read(write(tmp_path, ROWS)))
    now = local(2026, 11, 23, 9)
    assert hotline.kb.remind_expiring(now) == 1  # 电动自行车 expires 2026-11-30
    assert hotline.kb.remind_expiring(now) == 0


@pytest.fixture
def kb_app(hotline_sqlite: App, tmp_path: Path) -> App:
    hotline_sqlite.kb.import_rows(kb_files.read(PROJECT / "data" / "kb" / "sample.csv"))
    return hotline_sqlite


def test_search_ranks_reworded_questions_and_is_sure_only_of_answerable_ones(kb_app: App) -> None:
    search = kb_app.kb_search
    today = local(2026, 11, 23).date()
    top = search.search("钱包连身份证一起丢了，证件要怎么重新办", 3, today)
    assert top[0].entry.question == "身份证丢了怎么补办？" and top[0].confident
    assert set(top[0].as_json()) == {"id", "question", "answer", "department", "score", "confident"}
    assert top[0].score >= top[1].score
    # Calibration on a small set: what the sample cannot answer is not confident.
    for unanswerable in ("我想咨询一下公积金贷款能贷多少", "市长信箱的邮箱地址是多少", "我想知道明天的天气"):
        assert not any(a.confident for a in search.search(unanswerable, 3, today)), unanswerable
    assert search.search("", 3, today) == []
    assert len(search.search("问" * 1_000_000, 3, today)) == 3  # cut, not refused


def test_an_expired_entry_drops_out_of_search(hotline_sqlite: App, tmp_path: Path) -> None:
    hotline_sqlite.kb.import_rows(kb_files.read(write(tmp_path, ROWS)))
    ids = {a.entry.question for a in hotline_sqlite.kb_search.search("电动自行车怎么上牌", 5, local(2026, 12, 1).date())}
    assert "电动自行车怎么上牌？" not in ids
    ids = {a.entry.question for a in hotline_sqlite.kb_search.search("电动自行车怎么上牌", 5, local(2026, 11, 29).date())}
    assert "电动自行车怎么上牌？" in ids


class Citizen:
    def __init__(self, app: App) -> None:
        self.client = TestClient(create_app(app))
        self.client.get("/chat")
        self.n = 0

    def send(self, body: dict[str, str]) -> dict:
        self.n += 1
        response = self.client.post("/chat/api/events", json={"id": f"e{self.n}", **body})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def say(self, text: str) -> dict:
        return self.send({"kind": "text", "text": text, "label": ""})

    def press(self, data: str, message: str = "") -> dict:
        return self.send({"kind": "button", "data": data, "message": message})


def button(reply: dict, text: str) -> str:
    return next(b["data"] for row in reply["buttons"] for b in row if b["text"] == text)


def test_solved_closes_the_consultation_as_a_direct_answer_and_counts_it(kb_app: App) -> None:
    citizen = Citizen(kb_app)
    offer = citizen.say("请问身份证丢了怎么补办？")["replies"][0]
    assert "户政窗口" in offer["text"] and "这个回答解决您的问题了吗？" in offer["text"] and "来源" in offer["text"]
    done = citizen.press(button(offer, "已解决"), offer["id"])
    number = done["replies"][-1]["text"].split("记录编号：")[1].split("。")[0]
    ticket = kb_app.tickets.get(number)
    assert ticket.state == State.closed and ticket.close_reason == CloseReason.direct_answer
    entry = next(e for e in entries(kb_app) if e.question == "身份证丢了怎么补办？")
    assert ticket.kb_entry_id == entry.id
    again = citizen.press(button(offer, "已解决"), offer["id"])  # a second press files nothing more
    assert "失效" in again["replies"][0]["text"]

    report = build_report(kb_app.engine, kb_app.policy, iso_week(local(2026, 11, 23).date()), local(2026, 11, 24))
    assert report["city"]["direct_answers"] == 1 and report["city"]["consultations"] == 1
    assert report["city"]["direct_answer_rate"] == 1.0 and report["city"]["received"] == 1
    police = next(d for d in report["departments"] if d["code"] == "public_security")
    assert police["direct_answers"] == 1 and police["received"] == 0  # not in the department's received
    assert report["kb"]["top_entries"][0]["id"] == entry.id


def test_not_solved_files_the_ticket_with_the_entry_offered(kb_app: App) -> None:
    citizen = Citizen(kb_app)
    offer = citizen.say("请问身份证丢了怎么补办？")["replies"][0]
    reply = citizen.press(button(offer, "没解决，转人工"), offer["id"])
    card = reply["replies"][-1]
    assert "请确认" in card["text"]
    done = citizen.press(button(card, "提交"), card["id"])
    number = done["replies"][-1]["text"].split("工单号：")[1].split("\n")[0]
    ticket = kb_app.tickets.get(number)
    entry = next(e for e in entries(kb_app) if e.question == "身份证丢了怎么补办？")
    assert ticket.state != State.closed and ticket.nlu["kb_offered"] == entry.id


def test_a_complaint_is_never_answered_from_the_knowledge_base(kb_app: App) -> None:
    reply = Citizen(kb_app).say("我要投诉派出所补办身份证态度恶劣，拖了一个月")["replies"][0]
    assert "这个回答解决您的问题了吗" not in reply["text"]


def test_cli_search_prints_the_shape_and_one_line_a_query(tmp_path: Path, sqlite_url: str) -> None:
    env = {"HOTLINE_HOME": str(tmp_path / "home"), "DATABASE_URL": sqlite_url, "HOTLINE_NLU_BACKEND": "keywords",
           "PATH": "/usr/bin:/bin"}
    cli = [str(Path(sys.executable).parent / "hotline"), "kb"]
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nx,y\n", encoding="utf-8")
    failed = subprocess.run([*cli, "import", str(bad)], env=env, capture_output=True, text=True)
    assert failed.returncode == 1 and "missing column department" in failed.stderr
    path = write(tmp_path, ROWS)
    assert subprocess.run([*cli, "import", str(path)], env=env, capture_output=True, text=True).returncode == 0
    one = subprocess.run([*cli, "search", "--format", "json", "--limit", "2", "补办身份证"], env=env,
                         capture_output=True, text=True)
    found = json.loads(one.stdout)
    assert len(found) == 2 and list(found[0]) == ["id", "question", "answer", "department", "score", "confident"]
    assert found[0]["question"] == "身份证丢了怎么补办？"
    lines = subprocess.run([*cli, "search", "--format", "json"], env=env, input="补办身份证\n\n停水了\n",
                           capture_output=True, text=True).stdout.splitlines()
    assert len(lines) == 3 and json.loads(lines[1]) == [] and json.loads(lines[2])[0]["department"] == "water"
    out = tmp_path / "out.csv"
    assert subprocess.run([*cli, "export", str(out)], env=env, capture_output=True, text=True).returncode == 0
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 5


def test_the_sample_covers_every_department(hotline: App) -> None:
    rows = kb_files.read(PROJECT / "data" / "kb" / "sample.csv")
    assert len(rows) >= 150
    assert {f.department for _, f in rows} == {d.code for d in hotline.config.departments}


def test_add_to_kb_makes_a_masked_draft_from_an_answered_consultation(hotline: App) -> None:
    from tests.factories import submit

    who = people(hotline)
    ticket: Ticket = submit(hotline, "我叫王伟，电话13812345678，想问物业费标准谁定？", ticket_type="consultation")
    hotline.tickets.accept(ticket.number, who["housing_staff"])
    hotline.tickets.answer(ticket.number, who["housing_staff"], "王伟您好，普通住宅物业费实行政府指导价。")
    draft = hotline.kb.draft_from_ticket(ticket.number, who["housing_staff"])
    assert draft.status == Status.draft and "13812345678" not in draft.question and "王伟" not in draft.question
    assert "政府指导价" in draft.answer and draft.department_code == "housing"
