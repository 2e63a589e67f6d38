"""/public (政务公开), open to anyone: each department's figures and resolved cases of a week that
has ended, as masked excerpts, by the rules of tickets.publication and config.yml `publication`."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hotline import reports
from hotline.bootstrap import App
from hotline.settings import PublicationConfig
from tickets.publication import PublicationRules, SensitiveKind, resolved_cases
from web.auth import render
from web.dashboard import recent_weeks, week_from

PUBLIC_COLUMNS = [("received", "受理量"), ("closure_rate", "办结率"), ("on_time_rate", "按时办结率"),
                  ("satisfaction_rate", "满意率")]


def publication_rules(config: PublicationConfig) -> PublicationRules:
    return PublicationRules(
        cases=config.cases_per_week, excerpt_chars=config.excerpt_chars, answer_chars=config.answer_chars,
        sensitive=tuple(SensitiveKind(k.name, frozenset(k.departments), tuple(k.words)) for k in config.sensitive),
    )


def router(hotline: App) -> APIRouter:
    routes = APIRouter()
    rules = publication_rules(hotline.config.publication)

    @routes.get("/public", response_class=HTMLResponse)
    def public(week: str | None = None) -> HTMLResponse:
        now = hotline.now()
        period = week_from(hotline, week)
        calendar = hotline.policy.calendar
        since, until = calendar.start_of(period.first), calendar.start_of(period.last + timedelta(days=1))
        ended = until <= now
        report = reports.report_for(hotline, period, now) if ended else None
        cases = resolved_cases(hotline.engine, since, until, now, rules, calendar.local_day) if ended else []
        return render(
            "public.html", city=hotline.config.city.name, report=report, cases=cases, week=period.label,
            period=period, ended=ended, weeks=recent_weeks(hotline, complete_only=True), columns=PUBLIC_COLUMNS,
            cell=reports.cell,
        )

    return routes
