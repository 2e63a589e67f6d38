"""/public (政务公开), open to anyone: each department's weekly figures and resolved cases with
the department's answer. Texts pass through tickets.masking (names, phones, IDs, house numbers)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hotline import reports
from hotline.bootstrap import App
from tickets.publication import resolved_cases
from web.auth import render
from web.dashboard import recent_weeks, week_from

PUBLIC_COLUMNS = [("received", "受理量"), ("closure_rate", "办结率"), ("on_time_rate", "按时办结率"),
                  ("satisfaction_rate", "满意率")]


def router(hotline: App) -> APIRouter:
    routes = APIRouter()

    @routes.get("/public", response_class=HTMLResponse)
    def public(week: str | None = None) -> HTMLResponse:
        period = week_from(hotline, week)
        report = reports.report_for(hotline, period)
        calendar = hotline.policy.calendar
        cases = resolved_cases(hotline.engine, calendar.start_of(period.first),
                               calendar.start_of(period.last + timedelta(days=1)), limit=30)
        return render(
            "public.html", city=hotline.config.city.name, report=report, cases=cases, week=period.label,
            weeks=recent_weeks(hotline), columns=PUBLIC_COLUMNS, cell=reports.cell,
            local=lambda moment: calendar.local(moment).strftime("%Y-%m-%d %H:%M"),
        )

    return routes
