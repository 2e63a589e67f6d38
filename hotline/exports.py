"""CSV and XLSX exports of the leadership report, for staff who open them in Excel or WPS.

People read these files, so headers, scopes and type names are Chinese; the JSON export keeps the
stable English names of DESIGN.md for tools. The CSV starts with a UTF-8 BOM, without which Excel on a
Chinese Windows PC reads it as GBK and garbles 全市 and every department name. Rates are written as
percentages ("66.7%", which Excel and WPS read back as the number 0.667); the XLSX keeps the fractions
and formats them as %.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from hotline.reports import COLUMNS, RATES, channel_label, type_label

BOM = "\ufeff"
SCOPES = {"city": "全市", "department": "部门", "type": "诉求类型"}
FIGURE_HEADERS = [label for _, label in COLUMNS]
PREVIOUS_HEADERS = [f"上期{label}" for _, label in COLUMNS]
CSV_HEADERS = ["范围", "代码", "名称", *FIGURE_HEADERS, "综合得分", "排名", *PREVIOUS_HEADERS]


Row = tuple[str, str, str, dict[str, Any], float | None, int | None, dict[str, Any]]


def table_rows(report: dict[str, Any]) -> list[Row]:
    """(scope, code, Chinese name, figures, score, rank, previous figures) for the city, departments, types."""
    rows: list[Row] = [("city", "", "全市", report["city"], None, None, report["city"]["previous"])]
    rows += [("department", d["code"], d["name"], d, d["score"], d["rank"], d["previous"]) for d in report["departments"]]
    rows += [("type", t["type"], type_label(t["type"]), t, None, None, t["previous"]) for t in report["types"]]
    return rows


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in RATES:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return str(round(value, 2))
    return str(value)


def to_csv(report: dict[str, Any]) -> str:
    """One table: the city, then each department, then each type, with the previous period beside it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for scope, code, name, figures, score, rank, previous in table_rows(report):
        writer.writerow([SCOPES[scope], code, name, *[_csv_cell(key, figures[key]) for key, _ in COLUMNS],
                         _csv_cell("score", score), _csv_cell("rank", rank),
                         *[_csv_cell(key, previous[key]) for key, _ in COLUMNS]])
    return BOM + out.getvalue()


# -- XLSX -----------------------------------------------------------------------------------------
Formats = dict[int, str]  # 1-based column -> Excel number format


def _figure_formats(first: int) -> Formats:
    formats: Formats = {}
    for offset, (key, _) in enumerate(COLUMNS):
        if key in RATES:
            formats[first + offset] = "0.0%"
        elif key == "mean_handling_hours":
            formats[first + offset] = "0.0"
    return formats


def _width(value: Any) -> int:
    """Display width in Excel's character units: a Chinese character takes two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet(book: Any, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], formats: Formats | None = None,
           freeze: str = "A2") -> Any:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for column, number_format in (formats or {}).items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = number_format
    for index, header in enumerate(headers, start=1):
        widest = max([_width(header)] + [_width(row[index - 1]) for row in rows])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 8), 60)
    sheet.freeze_panes = freeze
    return sheet


def _figures_sheet(book: Any, title: str, first_headers: list[str], rows: list[tuple[list[Any], dict[str, Any],
                   dict[str, Any]]], extra_headers: Sequence[str] = (), extra: Callable[[int], list[Any]] | None = None
                   ) -> None:
    """A sheet of figures: leading columns, this period's figures, extra columns, the previous period's."""
    headers = [*first_headers, *FIGURE_HEADERS, *extra_headers, *PREVIOUS_HEADERS]
    lead = len(first_headers)
    values = [[*head, *[figures[key] for key, _ in COLUMNS], *(extra(n) if extra else []),
               *[previous[key] for key, _ in COLUMNS]] for n, (head, figures, previous) in enumerate(rows)]
    formats = {**_figure_formats(lead + 1), **_figure_formats(lead + len(COLUMNS) + len(extra_headers) + 1)}
    if extra_headers:
        formats[lead + len(COLUMNS) + 1] = "0.0"  # 综合得分
    _sheet(book, title, headers, values, formats, freeze=f"{chr(ord('A') + lead)}2")


def to_xlsx(report: dict[str, Any]) -> bytes:
    """A workbook with a sheet per table; header rows frozen, columns sized, rates formatted as %."""
    from openpyxl import Workbook

    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    city = report["city"]
    _figures_sheet(book, "全市", ["名称"], [(["全市"], city, city["previous"])])
    departments = report["departments"]
    _figures_sheet(book, "部门", ["排名", "代码", "名称"],
                   [([d["rank"], d["code"], d["name"]], d, d["previous"]) for d in departments],
                   ["综合得分"], lambda n: [departments[n]["score"]])
    _figures_sheet(book, "诉求类型", ["代码", "类型"],
                   [([t["type"], type_label(t["type"])], t, t["previous"]) for t in report["types"]])
    _sheet(book, "超期工单", ["工单号", "承办单位代码", "承办单位", "诉求类型", "超期(工作日)"],
           [[o["number"], o["department"], o["department_name"], type_label(o["type"]), o["days_overdue"]]
            for o in report["overdue"]], {5: "0.0"})
    _sheet(book, "热点问题", ["热点问题", "件数", "示例", "工单号"],
           [[h["label"], h["count"], h["example"], " ".join(h["numbers"])] for h in report["hot_issues"]])
    _sheet(book, "来件时段", ["时段", "件数"], [[f"{h['hour']:02d}:00—{h['hour']:02d}:59", h["count"]]
                                          for h in report["hours"]])
    _sheet(book, "来件渠道", ["渠道", "件数"], [[channel_label(c["channel"]), c["count"]] for c in report["channels"]])
    period = report["period"]
    _sheet(book, "说明", ["项目", "内容"], [
        ["统计周期", period["label"]], ["起", period["from"]], ["止", period["to"]],
        ["口径", "受理量为本期受理的工单（不含无效、并单）；各率为比例，分母为 0 时留空"],
        ["排名", "综合得分按 config.yml 的 ranking 权重计算，排名后三位见“部门”表末尾"],
    ])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
