"""The desk's commands run as a user runs them: a phone ticket is listed under its caller's number,
an answered phone ticket is due for a callback, a recorded 满意 closes it; bad input changes nothing."""

from __future__ import annotations

import json

from tests.test_cli import run, staff_ids  # noqa: F401  (the fixture)


def test_phone_ticket_from_number_to_callback(run):  # noqa: F811
    run("init")
    ids = staff_ids(run)
    operator = str(ids["话务员张敏"])
    staff = str(ids["住建局刘洋"])
    made = json.loads(run("ticket", "submit", "--channel", "phone", "--phone", "139 1234 5678", "--text",
                          "市民来电反映小区物业乱收费，交房后漏水不修", "--department", "housing",
                          "--now", "2026-11-23T09:00:00+08:00", "--format", "json").stdout)
    number = made["number"]
    assert made["contact_phone"] == "13912345678"
    listed = json.loads(run("ticket", "list", "--phone", "13912345678", "--format", "json").stdout)
    assert [t["number"] for t in listed] == [number]

    bad = run("ticket", "submit", "--channel", "phone", "--phone", "12-34", "--text", "噪音扰民", check=False)
    assert bad.returncode == 1 and "电话号码格式不正确" in bad.stderr
    early = run("callback", "record", number, "--as", operator, "--result", "satisfied", check=False)
    assert early.returncode == 1 and "已派单" in early.stderr

    joined = json.loads(run("ticket", "submit", "--channel", "phone", "--phone", "13912345678", "--join", number,
                            "--text", "又漏水了", "--format", "json").stdout)
    assert joined["joined"] is True and joined["contacts"] == 2

    run("ticket", "accept", number, "--as", staff, "--now", "2026-11-23T10:00:00+08:00")
    run("ticket", "answer", number, "--as", staff, "--text", "已维修", "--now", "2026-11-24T10:00:00+08:00")
    due = json.loads(run("callback", "list", "--now", "2026-11-24T10:05:00+08:00", "--format", "json").stdout)
    assert [d["number"] for d in due] == [number] and due[0]["phone"] == "13912345678"

    wrong = run("callback", "record", number, "--as", staff, "--result", "satisfied", check=False)
    assert wrong.returncode == 1 and "话务员" in wrong.stderr
    assert json.loads(run("ticket", "show", number, "--format", "json").stdout)["state"] == "answered"

    run("callback", "record", number, "--as", operator, "--result", "satisfied", "--note", "已修好",
        "--now", "2026-11-24T11:00:00+08:00")
    shown = json.loads(run("ticket", "show", number, "--format", "json").stdout)
    assert shown["state"] == "closed" and shown["rating"] == "satisfied" and shown["close_reason"] == "rated"
    assert [a["result"] for a in shown["callback_attempts"]] == ["satisfied"]
    closed_join = run("ticket", "submit", "--channel", "phone", "--phone", "13912345678", "--join", number,
                      "--text", "还有问题", check=False)
    assert closed_join.returncode == 1 and "已办结" in closed_join.stderr
    assert json.loads(run("ticket", "show", number, "--format", "json").stdout)["contacts"] == 2
