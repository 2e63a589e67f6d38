"""Rendering of the leadership report: table, Markdown, JSON, charts and the Telegram text (CSV and XLSX:
hotline/exports.py).

Every figure comes from tickets.stats.build_report (one function computes them); this module only
picks the period, passes config.yml's ranking and keywords, and renders.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hotline.bootstrap import App
from tickets.states import RATING_LABELS_ZH, STATE_LABELS_ZH, TYPE_LABELS_ZH, Rating, State, TicketType
from tickets.stats import Period, Ranking, build_report, city_trend, iso_week, last_complete_week
from tickets.stats.report import HotMeaning

FORMATS = ("table", "json", "csv", "xlsx", "md")
TREND_WEEKS = 12
# Column order of CSV, XLSX, Markdown and the table; the JSON names of DESIGN.md.
COLUMNS: list[tuple[str, str]] = [
    ("received", "受理量"), ("accepted_in_time", "按时响应"), ("response_rate", "响应率"), ("closed", "办结量"),
    ("closure_rate", "办结率"), ("answered", "答复量"), ("answered_on_time", "按时答复"), ("on_time_rate", "按时办结率"),
    ("rated", "评价数"), ("satisfied", "满意数"), ("satisfaction_rate", "满意率"), ("rating_rate", "评价率"),
    ("mean_handling_hours", "平均办理时长(工作小时)"), ("overdue", "超期"), ("assigned", "派单量"), ("returned", "退单"),
    ("return_rate", "退单率"), ("direct_answers", "直接答复"), ("direct_answer_rate", "直接答复率"),
    ("transferred", "紧急转办"),
]
RATES = {"response_rate", "closure_rate", "on_time_rate", "satisfaction_rate", "rating_rate", "return_rate",
         "direct_answer_rate"}
CHANNEL_LABELS = {"telegram": "Telegram", "web": "网页", "phone": "电话", "demo": "演示", "cli": "命令行",
                  "wechat": "微信", "open311": "Open311", "email": "电子邮件", "letter": "信件", "visit": "来访"}


def channel_label(code: str) -> str:
    return CHANNEL_LABELS.get(code, code)


def type_label(code: str) -> str:
    return TYPE_LABELS_ZH[TicketType(code)] if code in TicketType.__members__ else code


def state_label(code: str) -> str:
    return STATE_LABELS_ZH[State(code)] if code in State.__members__ else code


def rating_label(code: str | None) -> str:
    if code is None:
        return "未评价"
    return RATING_LABELS_ZH[Rating(code)] if code in Rating.__members__ else code


def has_data(report: dict[str, Any]) -> bool:
    """Whether the period received anything: every figure counts the tickets received in it."""
    return bool(report["city"]["received"])


def ranking(app: App) -> Ranking:
    weights = app.config.ranking.weights
    return Ranking(weights.response, weights.closure, weights.satisfaction, app.config.ranking.bottom)


def issue_words(app: App) -> list[str]:
    return [word for d in app.config.departments for word in d.keywords]


def report_for(app: App, period: Period, now: datetime | None = None) -> dict[str, Any]:
    return build_report(app.engine, app.policy, period, now or app.now(), ranking(app), issue_words(app), hot_meaning(app))


def hot_meaning(app: App) -> HotMeaning | None:
    """Hot issues merged by the tickets' vectors when an encoder is configured (nlu.similar.hot_threshold)."""
    if app.embedder is None:
        return None
    thresholds = {str(k): v for k, v in app.config.nlu.similar.hot_threshold.items()}
    return HotMeaning(app.tickets.vectors, thresholds[app.embedder.name])


def default_week(app: App, now: datetime | None = None) -> Period:
    moment = now or app.now()
    return last_complete_week(app.policy.calendar.local_day(moment))


def trend_for(app: App, period: Period, now: datetime | None = None, weeks: int = TREND_WEEKS) -> list[dict[str, Any]]:
    last = iso_week(period.last)
    periods = [iso_week(last.first - timedelta(days=7 * n)) for n in range(weeks - 1, -1, -1)]
    return city_trend(app.engine, app.policy, periods, now or app.now())


CHART_NAMES = ("trend", "departments", "ranking")


def chart_file(app: App, report: dict[str, Any], name: str, now: datetime | None = None) -> Path:
    """One chart of the report as a PNG under HOTLINE_HOME/reports/<period>/."""
    from hotline import charts  # matplotlib loads only when a chart is drawn

    folder = app.settings.env.home / "reports" / report["period"]["label"].replace("~", "_")
    if name == "trend":
        period = Period(datetime.fromisoformat(report["period"]["from"]).date(),
                        datetime.fromisoformat(report["period"]["to"]).date(), report["period"]["label"])
        return charts.trend_chart(trend_for(app, period, now), folder / "trend.png")
    if name == "departments":
        return charts.received_closed_chart(report, folder / "departments.png")
    if name == "ranking":
        return charts.ranking_chart(report, folder / "ranking.png")
    raise ValueError(f"unknown chart {name!r}; expected one of {', '.join(CHART_NAMES)}")


def chart_files(app: App, report: dict[str, Any], now: datetime | None = None) -> list[Path]:
    """The three charts: 12-week trends, received vs closed per department, the ranking."""
    return [chart_file(app, report, name, now) for name in CHART_NAMES]


# -- text -----------------------------------------------------------------------------------------
def cell(name: str, value: Any) -> str:
    if value is None:
        return "—"
    if name in RATES:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _change(name: str, now_value: Any, before: Any) -> str:
    if now_value is None or before is None:
        return ""
    delta = now_value - before
    if name in RATES:
        return f"（较上期{'+' if delta >= 0 else ''}{100 * delta:.1f}个百分点）"
    return f"（上期{cell(name, before)}）"


def weekly_text(report: dict[str, Any], city_name: str) -> str:
    city, prev = report["city"], report["city"]["previous"]
    period = report["period"]
    lines = [f"【{city_name}12345热线周报】{period['label']}（{period['from']} 至 {period['to']}）", ""]
    for name, label in (("received", "受理量"), ("response_rate", "响应率"), ("closure_rate", "办结率"),
                        ("on_time_rate", "按时办结率"), ("satisfaction_rate", "满意率"), ("rating_rate", "评价率"),
                        ("return_rate", "退单率")):
        lines.append(f"{label}：{cell(name, city[name])}{_change(name, city[name], prev[name])}")
    lines.append(f"平均办理时长：{cell('mean_handling_hours', city['mean_handling_hours'])} 工作小时")
    lines.append(f"超期工单：{city['overdue']} 件")
    names = {d["code"]: d["name"] for d in report["departments"]}
    ranked = [d for d in report["departments"] if d["rank"] is not None]
    if ranked:
        lines += ["", "部门排名（前三）：" + "、".join(f"{d['rank']}.{d['name']}({d['score']:.1f})" for d in ranked[:3])]
    if report["bottom"]:
        lines.append("排名后三位：" + "、".join(names.get(c, c) for c in report["bottom"]))
    if report["overdue"]:
        lines += ["", f"超期工单（共{len(report['overdue'])}件，列前5件）："]
        lines += [f"  {o['number']} {o['department_name']} 超期{o['days_overdue']}个工作日" for o in report["overdue"][:5]]
    if report["hot_issues"]:
        lines += ["", "热点问题："]
        lines += [f"  {h['label']}：{h['count']}件" for h in report["hot_issues"][:5]]
    busiest = sorted(report["hours"], key=lambda h: -h["count"])[:3]
    if busiest and busiest[0]["count"]:
        lines += ["", "来件高峰：" + "、".join(f"{h['hour']}时({h['count']}件)" for h in busiest)]
    if report["channels"]:
        lines.append("来件渠道：" + "、".join(f"{channel_label(c['channel'])}{c['count']}件"
                                       for c in report["channels"]))
    return "\n".join(lines)


def weekly_message(app: App, now: datetime) -> tuple[str, list[Path]]:
    """The Monday report for Telegram: Chinese text and chart PNGs written under HOTLINE_HOME."""
    report = report_for(app, default_week(app, now), now)
    return weekly_text(report, app.config.city.name), chart_files(app, report, now)


# -- tables -----------------------------------------------------------------------------------------
def flat_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per city / department / type with the figures and the previous period's (CSV, XLSX)."""
    rows = [{"scope": "city", "code": "", "name": "全市", **_figures(report["city"]), "score": None, "rank": None,
             **_previous(report["city"]["previous"])}]
    rows += [{"scope": "department", "code": d["code"], "name": d["name"], **_figures(d), "score": d["score"],
              "rank": d["rank"], **_previous(d["previous"])} for d in report["departments"]]
    rows += [{"scope": "type", "code": t["type"], "name": TYPE_LABELS_ZH[TicketType(t["type"])], **_figures(t),
              "score": None, "rank": None, **_previous(t["previous"])} for t in report["types"]]
    return rows


def _figures(block: dict[str, Any]) -> dict[str, Any]:
    return {name: block[name] for name, _ in COLUMNS}


def _previous(block: dict[str, Any]) -> dict[str, Any]:
    return {f"previous_{name}": block[name] for name, _ in COLUMNS}


def to_markdown(report: dict[str, Any]) -> str:
    header = "| 范围 | " + " | ".join(label for _, label in COLUMNS) + " | 得分 | 排名 |"
    lines = [f"# 12345热线统计 {report['period']['label']}（{report['period']['from']} 至 {report['period']['to']}）",
             "", header, "|" + "---|" * (len(COLUMNS) + 3)]
    for row in flat_rows(report):
        values = [cell(name, row[name]) for name, _ in COLUMNS]
        lines.append(f"| {row['name']} | " + " | ".join(values) + f" | {cell('score', row['score'])} | "
                     f"{cell('rank', row['rank'])} |")
    if report["bottom"]:
        names = {d["code"]: d["name"] for d in report["departments"]}
        lines += ["", "排名后三位：" + "、".join(names[c] for c in report["bottom"])]
    lines += ["", "## 超期工单", "", "| 工单号 | 部门 | 超期(工作日) |", "|---|---|---|"]
    lines += [f"| {o['number']} | {o['department_name']} | {o['days_overdue']} |" for o in report["overdue"]]
    lines += ["", "## 热点问题", "", "| 问题 | 件数 | 示例 |", "|---|---|---|"]
    lines += [f"| {h['label']} | {h['count']} | {h['example']} |" for h in report["hot_issues"]]
    return "\n".join(lines) + "\n"


def to_table(report: dict[str, Any]) -> str:
    from rich.console import Console
    from rich.table import Table

    console = Console(record=True, width=220, file=io.StringIO())
    grid = Table(title=f"12345热线统计 {report['period']['label']}（{report['period']['from']} 至 {report['period']['to']}）")
    for label in ["范围", *[label for _, label in COLUMNS], "得分", "排名"]:
        grid.add_column(label)
    for row in flat_rows(report):
        grid.add_row(row["name"], *[cell(name, row[name]) for name, _ in COLUMNS], cell("score", row["score"]),
                     cell("rank", row["rank"]))
    console.print(grid)
    console.print(weekly_text(report, "").split("\n", 2)[-1])
    return console.export_text()


def render(report: dict[str, Any], fmt: str) -> str | bytes:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt in ("csv", "xlsx"):
        from hotline import exports  # noqa: PLC0415 - exports reads this module's columns

        return exports.to_csv(report) if fmt == "csv" else exports.to_xlsx(report)
    if fmt == "md":
        return to_markdown(report)
    if fmt == "table":
        return to_table(report)
    raise ValueError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
