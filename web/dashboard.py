"""/dashboard for leaders and dispatchers: the report's figures and charts, a week picker, exports.

Every number comes from hotline.reports.report_for, the same function as the CLI and Telegram."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from hotline import reports
from hotline.bootstrap import App
from tickets.errors import InvalidInput
from tickets.states import TYPE_LABELS_ZH, TicketType
from tickets.stats import Period, iso_week, parse_week
from web.auth import current_staff, login_redirect, render, role_label

ALLOWED_ROLES = {"leader", "dispatcher"}
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json", "md": "text/markdown; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def week_from(hotline: App, week: str | None) -> Period:
    if not week:
        return reports.default_week(hotline)
    try:
        return parse_week(week)
    except InvalidInput as err:
        raise HTTPException(400, str(err)) from err


def recent_weeks(hotline: App, count: int = 12) -> list[str]:
    this_week = iso_week(hotline.policy.calendar.local_day(hotline.now()))
    return [iso_week(this_week.first - timedelta(days=7 * n)).label for n in range(count)]


def router(hotline: App) -> APIRouter:
    routes = APIRouter()

    def _guard(request: Request) -> Response | None:
        staff = current_staff(request)
        if staff is None:
            return login_redirect(request)
        if staff.role not in ALLOWED_ROLES:
            return render("forbidden.html", city=hotline.config.city.name, who=f"{staff.name}（{role_label(staff)}）")
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
            weeks=recent_weeks(hotline), week=period.label, columns=reports.COLUMNS, cell=reports.cell,
            type_labels={t.value: TYPE_LABELS_ZH[t] for t in TicketType},
            names={d["code"]: d["name"] for d in report["departments"]},
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
