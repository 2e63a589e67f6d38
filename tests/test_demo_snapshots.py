"""`hotline demo` stores the statistics snapshots of the days it simulated, so the dashboard reads
past weeks from snapshots at once, with the same figures as computing them live."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import keywords_config

HOTLINE = [sys.executable, "-m", "hotline.cli.main"]
NOW = "2026-11-23T12:00:00+08:00"  # Monday: 2026-W47 has ended




def _hotline(home: Path, config: Path, *args: str) -> str:
    env = {**os.environ, "HOTLINE_HOME": str(home), "HOTLINE_CONFIG": str(config)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([*HOTLINE, *args], capture_output=True, text=True, env=env, cwd=home.parent, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _week(home: Path, config: Path) -> dict[str, Any]:
    return json.loads(_hotline(home, config, "stats", "weekly", "--week", "2026-W47", "--format", "json", "--now", NOW))


def test_demo_snapshots_the_simulated_days_with_the_live_figures(tmp_path: Path) -> None:
    config = keywords_config(tmp_path)
    demo = ("demo", "--weeks", "2", "--per-day", "25", "--seed", "3", "--now", NOW)
    out = _hotline(tmp_path / "with", config, *demo)
    assert "已存 14 天的统计快照" in out
    _hotline(tmp_path / "without", config, *demo, "--no-snapshots")
    stored, live = _week(tmp_path / "with", config), _week(tmp_path / "without", config)
    assert stored["source"] == {"snapshot_days": 7, "live_days": 0}
    assert live["source"] == {"snapshot_days": 0, "live_days": 7}
    assert stored["city"]["received"] > 50
    for key in ("city", "departments", "types", "overdue", "hot_issues", "channels"):
        assert stored[key] == live[key], key
