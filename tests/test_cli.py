"""The `hotline` command, run as a user runs it (a subprocess), on a fresh SQLite home."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT, keywords_config

HOTLINE = [sys.executable, "-m", "hotline.cli.main"]




@pytest.fixture
def run(tmp_path: Path):
    env = {**os.environ, "HOTLINE_HOME": str(tmp_path / "home"), "HOTLINE_CONFIG": str(keywords_config(tmp_path))}
    env.pop("DATABASE_URL", None)

    def _run(*args: str, check: bool = True, config: Path | None = None) -> subprocess.CompletedProcess[str]:
        environ = dict(env, HOTLINE_CONFIG=str(config)) if config else env
        result = subprocess.run([*HOTLINE, *args], capture_output=True, text=True, env=environ, cwd=tmp_path, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"{args} exited {result.returncode}: {result.stderr}")
        return result

    return _run


def staff_ids(run) -> dict[str, int]:
    return {p["name"]: p["id"] for p in json.loads(run("staff", "list", "--format", "json").stdout)}


def test_ticket_life_from_the_command_line(run):
    assert "承办单位：18 个" in run("init").stdout
    submitted = json.loads(run("ticket", "submit", "--text", "小区物业乱收费，交房后漏水不修", "--department", "housing",
                               "--now", "2026-11-23T09:00:00+08:00", "--format", "json").stdout)
    number = submitted["number"]
    assert number == "20261123-0001" and submitted["state"] == "assigned" and submitted["created"] is True
    assert submitted["answer_due"] == "2026-11-30T09:00:00+08:00"
    ids = staff_ids(run)
    run("ticket", "accept", number, "--as", str(ids["住建局刘洋"]), "--now", "2026-11-23T10:00:00+08:00")
    run("ticket", "answer", number, "--as", str(ids["住建局刘洋"]), "--text", "已维修", "--now", "2026-11-24T10:00")
    run("ticket", "rate", number, "--rating", "basically_satisfied", "--now", "2026-11-24T12:00")
    shown = json.loads(run("ticket", "show", number, "--format", "json").stdout)
    assert shown["state"] == "closed" and shown["rating"] == "basically_satisfied"
    assert [e["action"] for e in shown["events"]] == ["submit", "assign", "accept", "answer", "rate"]
    assert shown["replies"][0]["text"] == "已维修"
    listed = json.loads(run("ticket", "list", "--state", "closed", "--format", "json").stdout)
    assert [t["number"] for t in listed] == [number]


def test_refused_transition_is_one_line_and_non_zero(run):
    run("init")
    number = json.loads(run("ticket", "submit", "--text", "路灯坏了", "--department", "urban_mgmt", "--format", "json").stdout)["number"]
    ids = staff_ids(run)
    refused = run("ticket", "accept", number, "--as", str(ids["住建局刘洋"]), check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0
    assert f"错误：您无权对工单 {number} 执行“签收”" in refused.stderr
    unknown = run("ticket", "show", "20991231-0001", check=False)
    assert unknown.returncode == 1 and "没有找到工单 20991231-0001" in unknown.stderr
    empty = run("ticket", "submit", "--text", "   ", check=False)
    assert empty.returncode == 1 and "诉求内容为空" in empty.stderr
    bad_department = run("ticket", "list", "--department", "nowhere", check=False)
    assert bad_department.returncode == 1 and "没有代码为“nowhere”的承办单位" in bad_department.stderr


def test_config_error_stops_start_up_with_exit_2(run, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text((PROJECT / "config.yml").read_text(encoding="utf-8").replace("accept_days: 1", "accept_days: soon"),
                   encoding="utf-8")
    result = run("init", check=False, config=bad)
    assert result.returncode == 2
    assert "time_limits.accept_days" in result.stderr


def test_every_command_has_help(run):
    for args in (["--help"], ["ticket", "--help"], ["ticket", "submit", "--help"], ["staff", "invite", "--help"],
                 ["demo", "--help"], ["serve", "--help"]):
        assert "Usage" in run(*args).stdout


def test_demo_fills_every_state(run):
    run("demo", "--weeks", "3", "--per-day", "40", "--seed", "7", "--now", "2026-11-23T12:00:00+08:00")
    tickets = json.loads(run("ticket", "list", "--format", "json").stdout)
    assert len(tickets) > 500
    states = {t["state"] for t in tickets}
    assert {"new", "assigned", "accepted", "answered", "closed", "returned", "reopened", "invalid", "merged"} <= states
    # Some citizens leave phone and ID-card numbers, which public views must mask.
    assert any(re.search(r"1[3589]\d{9}", t["text"]) for t in tickets)
    assert any(re.search(r"\d{17}[\dX]", t["text"]) for t in tickets)


def test_staff_invite_and_add(run):
    run("init")
    code = run("staff", "invite", "--department", "water", "--role", "staff").stdout.strip()
    assert len(code) >= 10
    added = json.loads(run("staff", "add", "--name", "新同事", "--role", "dispatcher", "--format", "json").stdout)
    assert added["role"] == "dispatcher" and "password_hash" not in added
    refused = run("staff", "add", "--name", "无部门", "--role", "staff", check=False)
    assert refused.returncode == 1 and "必须属于一个承办单位" in refused.stderr


def test_people_read_chinese_and_scripts_keep_their_ids(run):
    run("init")
    added = run("staff", "add", "--name", "王五", "--role", "staff", "--department", "housing").stdout
    staff_id = json.loads(run("staff", "list", "--format", "json").stdout)[-1]["id"]
    assert added.strip() == f"已添加工作人员 #{staff_id} 王五（承办人，市住房和城乡建设局）"
    assert "added" not in added
    number = json.loads(run("ticket", "submit", "--text", "小区物业乱收费", "--department", "housing",
                            "--format", "json").stdout)["number"]
    run("ticket", "accept", number, "--as", str(staff_id))
    shown = run("ticket", "show", number).stdout
    assert "王五" in shown and "工作人员#" not in shown and "签收" in shown
    events = json.loads(run("ticket", "show", number, "--format", "json").stdout)["events"]
    assert events[-1]["action"] == "accept" and events[-1]["actor_id"] == staff_id  # JSON keeps ids


def test_serve_answers_http_and_stops_cleanly_on_ctrl_c(tmp_path):
    import signal
    import socket
    import time
    import urllib.request

    config = keywords_config(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HOTLINE_HOME": str(tmp_path / "home"), "HOTLINE_CONFIG": str(config)}
    env.pop("DATABASE_URL", None)
    env.pop("TELEGRAM_TOKEN", None)
    process = subprocess.Popen([*HOTLINE, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/chat", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.3)
        assert "12345" in page
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Traceback" not in output and output.rstrip().endswith("已停止")
