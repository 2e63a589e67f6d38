"""What operations read: /healthz naming what is missing, /metrics in Prometheus's format, and
`hotline doctor` (real app, real database, a real Bot API server on 127.0.0.1)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from fastapi.testclient import TestClient

from hotline.bootstrap import bootstrap
from hotline.db import make_engine
from hotline.server import ServeOptions, build_api
from tests.botapi_server import BotApiServer
from tests.conftest import keywords_config, make_settings
from tests.factories import submit
from web.app import create_app

HOTLINE = [str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "hotline")]


def metric(text: str, name: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " ")]
    assert values, f"{name} not in /metrics"
    return values[0]


def test_healthz_is_ok_when_the_scheduler_leads_and_names_what_is_missing_otherwise(hotline, tmp_path):
    api = build_api(hotline, ServeOptions())
    idle = TestClient(api)  # lifespan not run: no process leads, nothing is scheduled
    answer = idle.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable" and answer.json()["missing"][0].startswith("scheduler:")
    with TestClient(api) as running:  # the lifespan starts leadership: this process leads
        for _ in range(100):
            answer = running.get("/healthz")
            if answer.status_code == 200:
                break
            time.sleep(0.1)
        assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_healthz_answers_503_without_the_database_or_the_model(tmp_path, sqlite_url):
    lazy = bootstrap(make_settings(tmp_path, sqlite_url), classifier="builtin")  # the model loads on first use
    answer = TestClient(create_app(lazy)).get("/healthz")
    assert answer.status_code == 503 and answer.json()["missing"] == ["model: the NLU model is not loaded"]
    lazy.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    answer = TestClient(create_app(lazy)).get("/healthz")
    assert answer.status_code == 503 and answer.json()["missing"][0].startswith("database:")


def test_metrics_count_tickets_by_state_intake_and_the_outbox(hotline):
    api = build_api(hotline, ServeOptions())
    client = TestClient(api)
    before = client.get("/metrics").text
    submit(hotline)
    submit(hotline)
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    after = answer.text
    assert metric(after, 'hotline_tickets{state="assigned"}') == 2
    assert metric(after, "hotline_intake_seconds_count") == metric(before, "hotline_intake_seconds_count") + 2
    assert metric(after, "hotline_nlu_seconds_count") >= metric(before, "hotline_nlu_seconds_count") + 2
    assert metric(after, "hotline_outbox_pending") >= 2  # the departments' new-ticket notices
    assert metric(after, "hotline_outbox_oldest_pending_age_seconds") >= 0


def test_doctor_says_what_is_wrong_then_all_good(tmp_path):
    server = BotApiServer().start()
    try:
        env = {**os.environ, "HOTLINE_HOME": str(tmp_path / "home"), "HOTLINE_CONFIG": str(keywords_config(tmp_path)),
               "TELEGRAM_TOKEN": server.token, "TELEGRAM_API_BASE_URL": server.base_url}
        env.pop("DATABASE_URL", None)

        def doctor() -> subprocess.CompletedProcess[str]:
            return subprocess.run([*HOTLINE, "doctor"], env=env, cwd=tmp_path, capture_output=True, text=True,
                                  timeout=120)

        before = doctor()
        assert before.returncode == 1
        assert "[FAIL] 数据库结构 schema" in before.stdout and "hotline init" in before.stdout
        subprocess.run([*HOTLINE, "init"], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=120)
        after = doctor()
        assert after.returncode == 0, after.stdout
        assert "[ OK ] Telegram: @hotline_test_bot" in after.stdout and after.stdout.rstrip().endswith("all good")
    finally:
        server.stop()
