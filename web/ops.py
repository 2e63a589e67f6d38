"""What operations read: /healthz (for load balancers and systemd watchdogs) and /metrics
(Prometheus). Neither needs a login; neither shows anything about a citizen or a ticket's text."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from hotline import metrics
from hotline.bootstrap import App
from hotline.leader import is_postgres, leader_present


def missing(hotline: App, runtime: Any) -> list[str]:
    """What keeps this process from serving fully; empty when healthy."""
    problems: list[str] = []
    try:
        with hotline.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - any failure means the database is not usable
        return [f"database: {type(err).__name__}"]
    # The scheduler's leader is checked when this process takes part in leadership (`hotline serve`).
    if runtime is not None and runtime.wants_leader:
        if is_postgres(hotline.engine):
            if not leader_present(hotline.engine):
                problems.append("scheduler: no process holds the leader lock")
        elif not runtime.leading:
            problems.append("scheduler: not running")
    if not getattr(hotline.classifier, "loaded", True):
        problems.append("model: the NLU model is not loaded")
    return problems


def router(hotline: App) -> APIRouter:
    ops = APIRouter(include_in_schema=False)

    @ops.get("/healthz")
    def healthz(request: Request) -> Response:
        problems = missing(hotline, getattr(request.app.state, "runtime", None))
        if problems:
            return JSONResponse({"status": "unavailable", "missing": problems}, status_code=503)
        return JSONResponse({"status": "ok"})

    @ops.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.render(hotline.engine, hotline.now), media_type=metrics.CONTENT_TYPE)

    return ops
