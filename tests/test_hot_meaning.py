"""Hot issues merged by meaning: one problem named in other words counts once under a readable label."""

from __future__ import annotations

import pytest

from hotline import reports
from hotline.bootstrap import App
from nlu.encoder import load_encoder
from tests.conftest import FakeClock, local
from tests.factories import submit
from tickets.stats import parse_week
from tickets.stats.hot import HotIssue, merge_by_meaning

GROUPS = {
    "停水": ["我们小区停水两天了也没有通知", "城南片区突然停水，做饭都没水用", "幸福里又停水了，什么时候恢复"],
    "自来水": ["家里水龙头一滴自来水都没有，已经一整天了", "楼里自来水断了好久，没人来修"],
    "路灯": ["小区路灯坏了晚上很黑", "人民路路灯不亮好几天了"],
}


@pytest.fixture(scope="module")
def encoder():
    found = load_encoder("use")
    if found is None:
        pytest.skip("encoder use not installed")
    return found


def test_groups_about_the_same_problem_merge_under_the_larger_groups_label(encoder) -> None:
    groups, vectors = [], {}
    for label, texts in GROUPS.items():
        numbers = [f"{label}-{i}" for i in range(len(texts))]
        group = HotIssue(label, "water", places=[("幸福里", 1)] if label == "停水" else [])
        group.add(len(texts), texts[0], numbers)
        groups.append(group)
        vectors.update(zip(numbers, encoder.encode(texts), strict=True))
    merged = merge_by_meaning(groups, vectors, threshold=0.55)
    assert [(g.label, g.count, g.related) for g in merged] == [("停水", 5, ["自来水"]), ("路灯", 2, [])]
    assert merged[0].places == [("幸福里", 1)] and merged[0].numbers[:3] == ["停水-0", "停水-1", "停水-2"]
    assert merge_by_meaning(groups[:1] + groups[2:], {}, 0.55)[0].related == []  # no vectors: nothing merges


def test_the_weekly_report_merges_hot_issues_by_the_tickets_vectors(hotline: App, clock: FakeClock, encoder) -> None:
    assert hotline.embedder is not None and hotline.embedder.name == "use"
    texts = [*GROUPS["停水"], *GROUPS["自来水"], *GROUPS["路灯"]]
    for day, text in enumerate(texts, start=9):
        submit(hotline, text=text, department="water", now=local(2026, 11, 9 + day % 7, 10))
    clock.now = local(2026, 11, 16, 2)
    hot = {h["label"]: h for h in reports.report_for(hotline, parse_week("2026-W46"))["hot_issues"]}
    assert hot["停水"]["count"] == 5 and hot["停水"]["related"] == ["自来水"]
    assert hot["路灯"]["count"] == 2 and "自来水" not in hot
