"""Charts of the leadership report (matplotlib, Agg) with a font that renders Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

# The font comes with the Python dependencies (noto-cjk-sans-otc: Noto Sans CJK, OFL-1.1), so `make install`
# alone renders Chinese; system fonts are only a fallback for an install that left the package out.
PACKAGED_FAMILY = "Noto Sans CJK SC"  # face 2 of the collection; face 0 is JP, whose glyph forms differ
SYSTEM_FONTS = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), "WenQuanYi Micro Hei"),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), "Noto Sans CJK SC"),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), "WenQuanYi Zen Hei"),
)


class FontMissing(RuntimeError):
    """No font that renders Chinese is installed."""


def packaged_font() -> Path | None:
    try:
        from noto_cjk_sans_otc import FONT_PATH  # noqa: PLC0415 - optional at import, a dependency in practice
    except ImportError:
        return None
    path = Path(str(FONT_PATH))
    return path if path.is_file() else None


def cjk_font() -> str:
    """The family name of a font that renders Chinese, registered with matplotlib."""
    candidates = [(packaged_font(), PACKAGED_FAMILY), *SYSTEM_FONTS]
    for path, family in candidates:
        if path is not None and path.exists():
            known = {entry.name for entry in font_manager.fontManager.ttflist if Path(entry.fname) == path}
            if family not in known:
                font_manager.fontManager.addfont(str(path))  # registers every face of a collection
            return family
    raise FontMissing(
        "no Chinese font found: the Python package noto-cjk-sans-otc is missing (run `make install`), and so are "
        + ", ".join(str(p) for p, _ in SYSTEM_FONTS)
    )


def _style() -> None:
    plt.rcParams["font.family"] = [cjk_font()]
    plt.rcParams["axes.unicode_minus"] = False


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def trend_chart(trend: list[dict[str, Any]], path: Path) -> Path:
    """12-week trends of 办结率, 按时办结率 and 满意率 (city)."""
    _style()
    if all(t[key] is None for t in trend for key in ("closure_rate", "on_time_rate", "satisfaction_rate")):
        return _no_data(path, "近12周 办结率 / 按时办结率 / 满意率", "近12周暂无数据")
    labels = [t["period"]["label"].split("-")[-1] for t in trend]
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    for key, name in (("closure_rate", "办结率"), ("on_time_rate", "按时办结率"), ("satisfaction_rate", "满意率")):
        values = [_percent(t[key]) for t in trend]
        ax.plot(range(len(labels)), [float("nan") if v is None else v for v in values], marker="o", label=name)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_title("近12周 办结率 / 按时办结率 / 满意率")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return _save(fig, path)


def received_closed_chart(report: dict[str, Any], path: Path) -> Path:
    """Received vs closed per department."""
    _style()
    rows = sorted((r for r in report["departments"] if r["received"] or r["closed"]), key=lambda r: -r["received"])
    if not rows:
        return _no_data(path, f"各部门受理量与办结量（{report['period']['label']}）")
    names = [r["name"].removeprefix("市") for r in rows]
    fig, ax = plt.subplots(figsize=(10, 4.8), dpi=110)
    positions = range(len(rows))
    ax.bar([p - 0.2 for p in positions], [r["received"] for r in rows], width=0.4, label="受理量")
    ax.bar([p + 0.2 for p in positions], [r["closed"] for r in rows], width=0.4, label="办结量")
    ax.set_xticks(list(positions), names, rotation=45, ha="right", fontsize=8)
    ax.set_title(f"各部门受理量与办结量（{report['period']['label']}）")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def ranking_chart(report: dict[str, Any], path: Path) -> Path:
    """Department scores, best at the top, the bottom three in red."""
    _style()
    ranked = [r for r in report["departments"] if r["rank"] is not None]
    if not ranked:
        return _no_data(path, f"部门综合得分排名（{report['period']['label']}）")
    bottom = set(report["bottom"])
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.32 * len(ranked) + 1)), dpi=110)
    names = [f"{r['rank']}. {r['name'].removeprefix('市')}" for r in ranked][::-1]
    scores = [r["score"] for r in ranked][::-1]
    colors = ["#d9534f" if r["code"] in bottom else "#337ab7" for r in ranked][::-1]
    ax.barh(names, scores, color=colors)
    for y, score in enumerate(scores):
        ax.text(score + 0.5, y, f"{score:.1f}", va="center", fontsize=8)
    ax.set_xlim(0, 105)
    ax.set_title(f"部门综合得分排名（{report['period']['label']}，红色为后三位）")
    ax.tick_params(axis="y", labelsize=8)
    return _save(fig, path)


def _no_data(path: Path, title: str, message: str = "本周暂无数据") -> Path:
    """A chart with nothing to plot says so, instead of empty axes around zero."""
    fig, ax = plt.subplots(figsize=(9, 2.4), dpi=110)
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=16, color="#888", transform=ax.transAxes)
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
