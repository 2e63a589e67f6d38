"""Hot-issue labels name an issue word and a real place: never a function or question word
(到哪里·管网), and a group of messages is named after its most frequent place."""

from __future__ import annotations

from datetime import date

import pytest

from hotline import jobs, reports
from hotline.bootstrap import App
from tests.conftest import FakeClock, local
from tests.factories import submit
from tickets.stats import parse_week
from tickets.stats.hot import HotIssue, group_issues, issue_label, place_in, vocabulary

WORDS = vocabulary(["管网", "物业", "停水", "公交", "老旧小区", "步行街", "路灯", "垃圾"])


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("请问管网方面的政策是怎样的，需要准备哪些材料，到哪里办理？", "管网"),
        ("来电咨询：高新区管网方面的政策是怎样的，到哪里办理？", "高新区·管网"),
        ("市民来电反映朝阳区停水的问题已经持续3天了", "朝阳区·停水"),
        ("咨询一下，城南街道管网改造什么时候开始", "城南街道·管网"),
        ("幸福里小区物业乱收费，每月多收二十元", "幸福里·物业"),
        ("我家住在锦绣花园，物业不管事", "锦绣花园·物业"),
        ("在和平村加强垃圾方面的管理", "和平村·垃圾"),
        ("东城区路灯不亮", "东城区·路灯"),
        ("我们小区物业乱收费", "物业"),
        ("这条马路上的路灯坏了", "路灯"),
        ("建议在公交线路上增加班次", "公交"),
        ("老旧小区改造什么时候开始", "老旧小区"),
        ("步行街上垃圾很多", "步行街"),
        ("这里那里都是垃圾，到底去哪里反映", "垃圾"),
        ("你好", None),
    ],
)
def test_a_label_is_an_issue_word_with_a_real_place(text: str, label: str | None) -> None:
    assert issue_label(text, WORDS) == label


@pytest.mark.parametrize("text", ["到哪里办理", "我们小区", "在家里", "公司里拖欠工资", "高速公路上", "该区"])
def test_function_and_question_words_are_not_places(text: str) -> None:
    assert place_in(text, WORDS) is None


def test_the_issue_is_the_word_named_first_not_a_contact_detail_at_the_end() -> None:
    words = vocabulary(["摊贩", "身份证", "垃圾", "垃圾分类", "管网"])
    assert words[0] in ("垃圾分类", "身份证") and "停水" in words  # the common list is added
    text = "请问建设大道摊贩方面的政策是怎样的，需要准备哪些材料？本人身份证号110101199001011234。"
    assert issue_label(text, words) == "建设大道·摊贩"
    assert issue_label("小区垃圾分类怎么做，垃圾堆在管网检修口上", words) == "垃圾分类"


def _labelled(*labels: tuple[str, int]) -> list[HotIssue]:
    issues = []
    for index, (label, count) in enumerate(labels):
        issue = HotIssue(label, "housing")
        issue.add(count, f"例{index}", [f"2026111{index}-000{n}" for n in range(count)])
        issues.append(issue)
    return issues


def test_a_group_is_named_after_the_place_most_of_its_messages_name() -> None:
    [group] = group_issues(_labelled(("幸福里·物业", 3), ("锦绣花园·物业", 1), ("物业", 1)))
    assert group.label == "幸福里·物业" and group.count == 5
    assert group.places == [("幸福里", 3), ("锦绣花园", 1)]
    assert group.example == "例0" and group.numbers[:3] == ["20261110-0000", "20261110-0001", "20261110-0002"]


def test_a_group_spread_over_places_is_named_after_its_issue_word() -> None:
    groups = group_issues(_labelled(("幸福里·物业", 2), ("锦绣花园·物业", 2), ("物业", 1), ("人民路·路灯", 1)))
    assert [(g.label, g.count) for g in groups] == [("物业", 5), ("路灯", 1)]
    assert groups[0].places == [("幸福里", 2), ("锦绣花园", 2)]


def test_the_report_groups_a_weeks_messages_by_issue_and_the_snapshot_job_agrees(
    hotline: App, clock: FakeClock
) -> None:
    texts = ["来电咨询：高新区管网方面的政策是怎样的，需要准备哪些材料，到哪里办理？",
             "请问高新区管网改造方面的政策是怎样的，到哪里办理？",
             "咨询一下，滨江区管网方面的政策是怎样的，到哪里办理？",
             "幸福里小区物业乱收费", "幸福里小区物业不作为"]
    for day, text in enumerate(texts, start=9):
        submit(hotline, text=text, department="water" if "管网" in text else "housing", now=local(2026, 11, day, 10))
    clock.now = local(2026, 11, 16, 2)
    live = reports.report_for(hotline, parse_week("2026-W46"))
    hot = {h["label"]: h for h in live["hot_issues"]}
    assert set(hot) == {"高新区·管网", "幸福里·物业"}
    assert hot["高新区·管网"]["count"] == 3 and hot["高新区·管网"]["department"] == "water"
    assert hot["高新区·管网"]["places"] == [{"place": "高新区", "count": 2}, {"place": "滨江区", "count": 1}]
    assert not any("哪里" in label for label in hot)

    assert jobs.do_snapshot(hotline, clock.now)["snapshot"] >= 7
    stored = reports.report_for(hotline, parse_week("2026-W46"))
    assert stored["source"]["snapshot_days"] == 7
    assert stored["hot_issues"] == live["hot_issues"]
    assert date(2026, 11, 15).isoformat() == stored["period"]["to"]
