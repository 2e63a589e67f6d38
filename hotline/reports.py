"""Rendering of the leadership report: table, Markdown, CSV, XLSX, JSON, charts and the Telegram text.

Every figure comes from tickets.stats (one function computes them); this module only renders.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hotline.bootstrap import App


def weekly_message(app: App, now: datetime) -> tuple[str, list[Path]]:
    """The Monday report for Telegram: Chinese text and chart PNGs written under HOTLINE_HOME."""
    return f"{app.config.city.name}12345热线周报（统计模块建设中）", []
