"""/public (政务公开) publishes resolved cases only after their week has ended, never urgent or
sensitive ones (config.yml `publication.sensitive`), and only masked excerpts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from hotline.bootstrap import App
from hotline.settings import ConfigError, load_config
from tests.conftest import PROJECT, FakeClock, local
from tests.factories import people, submit
from tickets.publication import PublicationRules, SensitiveKind, excerpt, resolved_cases
from tickets.states import Rating, State
from web.app import create_app

WEEK = "2026-W46"  # Mon 9 – Sun 15 Nov 2026
AFTER_WEEK = local(2026, 11, 16, 9)


def _close(app: App, text: str, department: str, answer: str = "已安排处理，问题已解决。", day: int = 10,
           citizen: str = "c") -> str:
    """A ticket received and closed (rated 满意) on `day` November 2026."""
    staff = people(app)["housing_staff"] if department == "housing" else _head(app, department)
    number = submit(app, text=text, citizen=f"{citizen}-{text[:6]}", department=department,
                    now=local(2026, 11, day, 9)).number
    if app.tickets.get(number).state == State.new:  # urgent: the dispatchers route it first
        app.tickets.assign(number, people(app)["dispatcher"], department, local(2026, 11, day, 9, 30))
    app.tickets.accept(number, staff, local(2026, 11, day, 10))
    app.tickets.answer(number, staff, answer, local(2026, 11, day, 11))
    citizen_id = app.tickets.get(number).citizen_id
    app.tickets.rate(number, citizen_id, Rating.satisfied, now=local(2026, 11, day, 12))
    return number


def _head(app: App, department: str) -> int:
    from tests.factories import staff_id
    from tickets.directory import Directory

    head = next(p for p in Directory(app.engine).everyone() if p.department_code == department and p.role == "head")
    return staff_id(app, head.name)


def _page(app: App, clock: FakeClock, now: object, week: str | None = WEEK) -> str:
    clock.now = now  # type: ignore[assignment]
    client = TestClient(create_app(app))
    response = client.get("/public" + (f"?week={week}" if week else ""))
    assert response.status_code == 200
    return response.text


def test_a_case_is_published_only_after_its_week_has_ended(hotline: App, clock: FakeClock) -> None:
    number = _close(hotline, "幸福里小区门口垃圾堆了三天没人清运", "urban_mgmt", day=12)
    during = _page(hotline, clock, local(2026, 11, 14, 20))
    assert number not in during
    assert "该周尚未结束" in during and 'id="cases"' not in during
    after = _page(hotline, clock, AFTER_WEEK)
    assert number in after and "幸福里小区门口垃圾" in after


def test_the_public_page_opens_on_the_last_ended_week_and_offers_no_running_week(
    hotline: App, clock: FakeClock
) -> None:
    number = _close(hotline, "人民路路灯不亮已经一周了", "urban_mgmt", day=12)
    page = _page(hotline, clock, local(2026, 11, 18, 10), week=None)
    assert number in page
    assert 'value="2026-W47"' not in page and "本周（截至目前）" not in page
    assert 'value="2026-W46" selected' in page


def test_urgent_and_sensitive_tickets_are_never_published(hotline: App, clock: FakeClock) -> None:
    shown = _close(hotline, "建设大道路灯不亮，晚上出行不便", "urban_mgmt")
    hidden = {
        "urgent": _close(hotline, "楼道里冒烟了，好像着火了", "emergency"),
        "举报": _close(hotline, "实名举报城管队员吃拿卡要", "urban_mgmt"),
        "户籍": _close(hotline, "孩子落户需要什么材料，户口迁不进来", "public_security"),
        "医疗纠纷": _close(hotline, "在市一医院做手术后出现并发症，医院不承认是医疗事故", "health"),
        "隐私": _close(hotline, "邻居家暴孩子，孩子还未成年", "civil_affairs"),
    }
    assert hotline.tickets.get(hidden["urgent"]).urgent
    page = _page(hotline, clock, AFTER_WEEK)
    assert shown in page
    assert [kind for kind, number in hidden.items() if number in page] == []


def test_public_security_and_health_tickets_of_ordinary_kinds_are_published(hotline: App, clock: FakeClock) -> None:
    parking = _close(hotline, "新华路违章停车严重，交警很少来", "public_security")
    queue = _close(hotline, "社区医院挂号排队太久，建议增加窗口", "health")
    page = _page(hotline, clock, AFTER_WEEK)
    assert parking in page and queue in page


def test_only_a_masked_excerpt_of_question_and_answer_is_shown(hotline: App, clock: FakeClock) -> None:
    question = ("我叫王建国，电话13812345678，住幸福里小区3号楼2单元501室。小区物业长期不清理楼道杂物，堆满了纸箱和旧家具，"
                "存在消防隐患，多次找物业经理李明都没有结果，业主们意见很大，希望有关部门督促物业尽快清理，并对物业公司进行处理。")
    answer = ("经核实，我局已联系物业经理李明和保洁张师傅，要求三日内清理楼道杂物，并约谈王建国先生反映的情况。"
              "物业已于11月11日完成清理，我局将持续督促物业公司落实日常巡查，发现问题及时整改。请王女士放心。")
    number = _close(hotline, question, "housing", answer=answer)
    page = _page(hotline, clock, AFTER_WEEK)
    row = page.split(number, 1)[1].split("</tr>", 1)[0]
    for personal in ("王建国", "13812345678", "501", "李明", "张师傅", "王女士"):
        assert personal not in row, personal
    assert "某某" in row and "…" in row
    assert "对物业公司进行处理" not in row  # cut: an excerpt, not the whole text
    assert "11-10" in row or "2026-11-10" in row


def test_at_most_the_configured_number_of_cases_newest_first(hotline: App) -> None:
    numbers = [_close(hotline, f"人民路第{i}段路灯不亮", "urban_mgmt", day=9 + i % 5) for i in range(6)]
    rules = PublicationRules(cases=4, sensitive=(SensitiveKind("举报", words=("举报",)),))
    cases = resolved_cases(hotline.engine, local(2026, 11, 9), local(2026, 11, 16), AFTER_WEEK, rules,
                           hotline.policy.calendar.local_day)
    assert len(cases) == 4
    assert [c.answered_on for c in cases] == sorted((c.answered_on for c in cases), reverse=True)
    assert {c.number for c in cases} <= set(numbers)
    early = resolved_cases(hotline.engine, local(2026, 11, 9), local(2026, 11, 16), local(2026, 11, 15, 23), rules,
                           hotline.policy.calendar.local_day)
    assert early == []


def test_an_excerpt_ends_at_a_sentence_when_it_can() -> None:
    text = "第一句话说明了问题。第二句话比较长，一直说到超过限制为止，还在继续说下去"
    assert excerpt(text, 20) == "第一句话说明了问题。…"
    assert excerpt("很短的话", 20) == "很短的话"
    assert len(excerpt("没有标点" * 20, 30)) == 30


def test_a_sensitive_kind_must_name_known_departments(tmp_path: Path) -> None:
    config = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    config["publication"]["sensitive"].append({"name": "错", "departments": ["police"]})
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"publication\.sensitive\.4\.departments: unknown department 'police'"):
        load_config(path)
    config["publication"]["sensitive"][-1] = {"name": "空"}
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="give departments, words or both"):
        load_config(path)
