"""The dashboard's report and every export (JSON, CSV, XLSX, Markdown) show hot-issue examples
masked, also when a day's snapshot was stored before the masking knew better (issue 15, item 3)."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from sqlmodel import Session

from hotline import reports
from hotline.bootstrap import App
from tests.conftest import local
from tests.factories import submit
from tickets.stats import parse_week
from tickets.stats.models import StatsDay, StatsHot

SECRETS = ("刘大伟", "13912345678", "王秀英")


def _report(hotline: App) -> dict:
    return reports.report_for(hotline, parse_week("2026-W47"), local(2026, 11, 24, 9))


def _rendered(report: dict) -> list[str]:
    book = load_workbook(io.BytesIO(reports.render(report, "xlsx")))  # type: ignore[arg-type]
    cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row]
    return [str(reports.render(report, fmt)) for fmt in ("json", "csv", "md")] + ["\n".join(cells)]


def test_live_hot_issue_examples_are_masked_in_every_export(hotline: App) -> None:
    for n in range(3):
        submit(hotline, f"业委会主任刘大伟不公开维修基金账目，电话13912345678（第{n}次）", citizen=f"c{n}",
               now=local(2026, 11, 17, 10 + n))
    report = _report(hotline)
    assert report["hot_issues"], "the week should have a hot issue"
    for text in _rendered(report):
        assert not any(secret in text for secret in SECRETS)


def test_a_snapshot_stored_unmasked_is_masked_when_read(hotline: App) -> None:
    day = date(2026, 11, 18)
    with Session(hotline.engine) as session:
        session.add(StatsDay(day=day, taken_at=local(2026, 11, 19, 1)))
        session.add(StatsHot(day=day, label="维修基金", department_code="housing", count=4,
                             example="我妈妈王秀英说业委会主任刘大伟贪占维修基金", numbers=["20261118-0001"]))
        session.commit()
    report = _report(hotline)
    assert report["hot_issues"] and report["hot_issues"][0]["example"].startswith("我妈妈某某")
    for text in _rendered(report):
        assert not any(secret in text for secret in SECRETS)
