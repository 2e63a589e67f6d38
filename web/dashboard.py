"""/dashboard for leaders and dispatchers: the report's figures and charts, a week picker, exports.

Every number comes from hotline.reports.report_for, the same function as the CLI and Telegram."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from hotline import reports
from hotline.bootstrap import App
from tickets.errors import InvalidInput
from tickets.stats import Period, iso_week, parse_week
from web.auth import current_staff, login_redirect, render, role_label

ALLOWED_ROLES = {"leader", "dispatcher"}
BAD_WEEK = "周次“{week}”无效：请用 年-W周 的格式，例如 2026-W47（年份 2000—2100）。"
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json", "md": "text/markdown; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def week_from(hotline: App, week: str | None) -> Period:
    if not week:
        return reports.default_week(hotline)
    try:
        return parse_week(week)
    except InvalidInput as err:
        raise HTTPException(400, BAD_WEEK.format(week=week[:20])) from err


def recent_weeks(hotline: App, count: int = 12, complete_only: bool = False) -> list[tuple[str, str]]:
    """(value, text) of the week picker: this week so far (unless `complete_only`), then ended weeks."""
    this_week = iso_week(hotline.policy.calendar.local_day(hotline.now()))
    weeks = [] if complete_only else [(this_week.label, f"本周（截至目前）· {week_text(this_week)}")]
    for n in range(1, count + 1):
        week = iso_week(this_week.first - timedelta(days=7 * n))
        weeks.append((week.label, ("上周 · " if n == 1 else "") + week_text(week)))
    return weeks


def week_text(week: Period) -> str:
    """2026年第47周（11月16日—22日）."""
    year, number = week.label.split("-W")
    return (f"{year}年第{int(number)}周（{week.first.month}月{week.first.day}日—"
            f"{'' if week.last.month == week.first.month else f'{week.last.month}月'}{week.last.day}日）")


def router(hotline: App) -> APIRouter:
    routes = APIRouter()

    def _guard(request: Request) -> Response | None:
        staff = current_staff(request)
        if staff is None:
            return login_redirect(request)
        if staff.role not in ALLOWED_ROLES:
            page = render("forbidden.html", city=hotline.config.city.name, who=f"{staff.name}（{role_label(staff)}）")
            page.status_code = 403
            return page
        request.state.staff = staff
        return None

    @routes.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, week: str | None = None) -> Response:
        if (refused := _guard(request)) is not None:
            return refused
        period = week_from(hotline, week)
        report = reports.report_for(hotline, period)
        return render(
            "dashboard.html", city=hotline.config.city.name, report=report, staff=request.state.staff,
            weeks=recent_weeks(hotline), week=period.label, week_text=week_text(period), columns=reports.COLUMNS,
            cell=reports.cell, type_label=reports.type_label, channel_label=reports.channel_label,
            names={d["code"]: d["name"] for d in report["departments"]}, has_data=reports.has_data(report),
            running=hotline.policy.calendar.start_of(period.last + timedelta(days=1)) > hotline.now(),
        )

    @routes.get("/dashboard/chart/{week}/{name}.png")
    def chart(request: Request, week: str, name: str) -> Response:
        if (refused := _guard(request)) is not None:
            return refused
        if name not in reports.CHART_NAMES:
            raise HTTPException(404, "no such chart")
        report = reports.report_for(hotline, week_from(hotline, week))
        path = reports.chart_file(hotline, report, name)
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-store"})

    @routes.get("/dashboard/export")
    def export(request: Request, week: str | None = None, format: str = "csv") -> Response:
        if (refused := _guard(request)) is not None:
            return refused
        if format not in MEDIA:
            raise HTTPException(400, f"format must be one of {', '.join(MEDIA)}")
        period = week_from(hotline, week)
        body = reports.render(reports.report_for(hotline, period), format)
        filename = f"hotline-{period.label}.{format}"
        return Response(body, media_type=MEDIA[format],
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return routes
