"""`hotline mask` and `hotline citizen …` as a user runs them (subprocesses on a fresh SQLite home)."""

from __future__ import annotations

import json
import subprocess

from tests.test_cli import HOTLINE, run  # noqa: F401 - the fixture is used by name
from tickets.masking import mask_personal

LINES = ["车主刘大伟态度蛮横，电话13812345678", "", "  周末去张家界，高峰期堵车  ", "家住5号楼1单元302\r",
         "业委会主任郑大海\u2028贪占维修基金", "打12345没人接"]


def test_mask_prints_one_masked_line_per_line_read() -> None:
    given = "\n".join(LINES) + "\n"
    result = subprocess.run([*HOTLINE, "mask"], input=given.encode(), capture_output=True, timeout=120, check=True)
    out = result.stdout.decode().split("\n")
    assert out[-1] == "" and len(out) - 1 == len(LINES)
    assert out[0] == mask_personal(LINES[0]) and "刘大伟" not in out[0] and "13812345678" not in out[0]
    assert out[1] == "" and out[2] == LINES[2] and "302" not in out[3] and "郑大海" not in out[4]
    assert out[5] == "打12345没人接"


def test_mask_takes_texts_as_arguments() -> None:
    result = subprocess.run([*HOTLINE, "mask", "张建军师傅修得很好", "经办人周杰"], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.splitlines() == [mask_personal("张建军师傅修得很好"), mask_personal("经办人周杰")]
    assert "张建军" not in result.stdout and "周杰" not in result.stdout


def test_citizen_export_and_erase(run) -> None:  # noqa: F811
    run("ticket", "submit", "--text", "我叫刘建国，电话13912345678，楼上漏水", "--department", "housing",
        "--type", "complaint")
    held = json.loads(run("citizen", "export", "1").stdout)
    assert "刘建国" in held["tickets"][0]["text"] and held["citizen"][0]["id"] == 1
    refused = run("citizen", "erase", "1", check=False)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert "erased" in run("citizen", "erase", "1", "--yes").stdout
    after = run("citizen", "export", "1").stdout
    assert "刘建国" not in after and "13912345678" not in after
    missing = run("citizen", "export", "99", check=False)
    assert missing.returncode == 1 and "没有找到群众“99”" in missing.stderr


def test_mask_answers_each_line_before_the_input_ends() -> None:
    with subprocess.Popen([*HOTLINE, "mask"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as process:
        assert process.stdin is not None and process.stdout is not None
        for text in ("房东李建华不退押金", "周末去王府井"):
            process.stdin.write((text + "\n").encode())
            process.stdin.flush()
            assert process.stdout.readline().decode() == mask_personal(text) + "\n"
        process.stdin.close()
        assert process.wait(timeout=60) == 0
