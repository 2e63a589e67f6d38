"""The NLU learns from the centre: corrections become examples, a challenger replaces the current
model only when it does better on the most recent corrections, versions can be rolled back, and a
running process picks up a promoted model. Trained on a small data set of the test's own, so each
model takes a second or two."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session

from hotline.bootstrap import bootstrap
from hotline.learning import as_examples, challenge, corrections
from hotline.nlu_wiring import LazyPipeline, nlu_settings, registry
from hotline.settings import PROJECT_ROOT
from nlu.data import Example
from nlu.train import train_default
from tests.conftest import PROJECT, make_settings
from tests.factories import submit
from tickets.actors import Actor
from tickets.corrections import record_correction
from tickets.states import ActorKind, Role

SMALL_DATA = {
    ("complaint", "housing"): ["小区物业乱收费不给开发票", "楼上漏水物业不管", "开发商交房延期不给说法", "电梯坏了一个月没人修"],
    ("consultation", "housing"): ["请问公积金怎么提取", "咨询一下房产证怎么办理", "想问问公租房怎么申请"],
    ("suggestion", "housing"): ["建议小区增加电动车充电桩", "建议物业公开维修基金账目"],
    ("complaint", "environment"): ["工厂半夜偷排废气很呛", "河里有人倒垃圾发臭", "工地晚上施工噪音扰民"],
    ("consultation", "environment"): ["请问环评报告在哪里公示", "咨询一下噪音超标怎么投诉"],
    ("suggestion", "environment"): ["建议多种树增加绿地", "建议河道定期清理"],
}
LAMPS = ["路灯不亮了", "门口路灯坏了好几天", "路灯一到晚上就闪", "这条路的路灯全黑了", "路灯杆倒了没人管",
         "路灯白天也开着浪费电", "小巷里没有路灯很危险", "路灯线路裸露", "桥上的路灯坏了", "广场路灯不亮"]
STAFF = Actor(ActorKind.staff, 1, Role.dispatcher)


@pytest.fixture
def small(tmp_path: Path, sqlite_url: str, clock):  # type: ignore[no-untyped-def]
    data = tmp_path / "data" / "nlu"
    data.mkdir(parents=True)
    items = [{"intent": kind, "metadata": {"department": dept}, "examples": "".join(f"- {t}\n" for t in texts)}
             for (kind, dept), texts in SMALL_DATA.items()]
    (data / "small.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": items}, allow_unicode=True), encoding="utf-8")
    config = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    config["nlu"]["pipeline"]["data_dir"] = str(tmp_path / "data")
    config["nlu"]["learning"] = {"min_corrections": 5, "holdout_share": 0.2}
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    settings = make_settings(tmp_path, sqlite_url, HOTLINE_CONFIG=str(path))
    app = bootstrap(settings, clock=clock, classifier="keywords")
    train_default(nlu_settings(settings.config), PROJECT_ROOT).save(registry(settings).initial_dir)
    yield app
    app.engine.dispose()


def correct(app, texts: list[str], department: str, start: datetime) -> None:  # type: ignore[no-untyped-def]
    for i, text in enumerate(texts):
        ticket = submit(app, text, department=None, ticket_type=None)  # no choice of the citizen to count
        with Session(app.engine) as session:
            record_correction(session, ticket, "department", "urban_mgmt", department, STAFF, start + timedelta(minutes=i))
            session.commit()


def test_a_correction_becomes_exactly_one_example_with_only_its_label(small):  # type: ignore[no-untyped-def]
    correct(small, LAMPS[:3], "environment", datetime(2026, 12, 1, tzinfo=UTC))
    found = corrections(small.engine)
    examples = as_examples(found)
    assert [(e.text, e.department, e.type, e.topic) for e in examples] == [(t, "environment", None, None) for t in LAMPS[:3]]
    assert corrections(small.engine, since=datetime(2026, 12, 1, 0, 1, 30, tzinfo=UTC))[0].text == LAMPS[2]


def test_a_better_challenger_is_promoted_once_and_a_worse_one_refused(small):  # type: ignore[no-untyped-def]
    now = datetime(2026, 12, 6, tzinfo=UTC)
    correct(small, LAMPS, "environment", now - timedelta(days=3))
    won = challenge(small.settings, small.engine, now)
    assert won.promoted and won.figures["challenger"] > won.figures["current"]
    assert registry(small.settings).current() == won.version
    again = challenge(small.settings, small.engine, now + timedelta(hours=1))  # the same corrections: no better
    assert not again.promoted and registry(small.settings).current() == won.version

    # Thirty older corrections now say housing, the eight most recent still environment: a challenger trained on
    # the older ones gets the recent ones wrong, where the current model is right.
    older = [f"{t}{tail}" for t in LAMPS for tail in ("，请尽快修", "，麻烦管一管", "，多次反映了")]
    correct(small, older, "housing", now - timedelta(days=10))
    worse = challenge(small.settings, small.engine, now + timedelta(hours=2))
    assert not worse.promoted and worse.figures["challenger"] < worse.figures["current"]
    assert registry(small.settings).current() == won.version


def test_a_running_process_follows_the_current_version_and_nlu_use_rolls_back(small, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("hotline.nlu_wiring.POLL_SECONDS", 0.0)
    pipeline = LazyPipeline(small.settings)
    before = pipeline.classify("路灯坏了好几天").department
    taught = [Example(text=t, department="environment" if before != "environment" else "housing") for t in LAMPS * 2]
    models = registry(small.settings)
    version = models.add(train_default(nlu_settings(small.settings.config), PROJECT_ROOT, taught), "test")
    models.use(version)
    assert pipeline.classify("路灯坏了好几天").department == taught[0].department
    env = {"HOTLINE_HOME": str(small.settings.env.home), "HOTLINE_CONFIG": str(small.settings.env.config_path),
           "DATABASE_URL": small.settings.env.database_url}
    hotline = [sys.executable, "-m", "hotline.cli.main"]
    listed = json.loads(subprocess.run([*hotline, "nlu", "models", "--format", "json"], env=env, check=True,
                                       capture_output=True, text=True).stdout)
    assert [(v["version"], v["current"]) for v in listed] == [("initial", False), (version, True)]
    subprocess.run([*hotline, "nlu", "use", "initial"], env=env, check=True, capture_output=True)
    assert pipeline.classify("路灯坏了好几天").department == before
    refused = subprocess.run([*hotline, "nlu", "use", "20990101T000000Z"], env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "no model version" in refused.stderr
