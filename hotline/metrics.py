"""Prometheus metrics for /metrics (prometheus-client).

Counts kept in a process (latencies, job runs) go through prometheus-client's multiprocess mode
when `hotline serve --workers N` set PROMETHEUS_MULTIPROC_DIR before the workers started, so any
worker's /metrics adds up all of them. Figures the database holds (tickets by state, the outbox's
backlog and age) are read from it at each scrape, so every worker and every machine tells the
same. The wrappers leave the domain alone: tickets/ knows nothing of Prometheus.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from tickets.models import Notice, Ticket

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
INTAKE = Histogram("hotline_intake_seconds", "Time to open a ticket (classification included)",
                   buckets=LATENCY_BUCKETS)
NLU = Histogram("hotline_nlu_seconds", "Time to classify one text", buckets=LATENCY_BUCKETS)
JOB_DURATION = Histogram("hotline_job_duration_seconds", "Duration of a scheduled job (the sweep among them)",
                         ["job"], buckets=(0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
JOB_LAST_SUCCESS = Gauge("hotline_job_last_success_timestamp_seconds", "When a job last ended without error",
                         ["job"], multiprocess_mode="max")
JOB_FAILURES = Counter("hotline_job_failures", "Scheduled job runs that raised", ["job"])
LEADER = Gauge("hotline_scheduler_leader", "1 in the process that runs the scheduler", multiprocess_mode="liveall")
CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def timed(histogram: Histogram, function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            histogram.observe(time.perf_counter() - started)

    return wrapper


class TimedClassifier:
    """The classifier, timed; everything else (load, backend, …) passes through."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.classify = timed(NLU, inner.classify)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def instrument(app: Any) -> None:
    """Time the app's classifier and ticket intake (before anything has built its TicketService)."""
    if "tickets" in app.__dict__ or isinstance(app.classifier, TimedClassifier):
        return
    app.__dict__["classifier"] = TimedClassifier(app.classifier)
    app.tickets.submit = timed(INTAKE, app.tickets.submit)


def job_ran(job: str, seconds: float, ok: bool) -> None:
    JOB_DURATION.labels(job).observe(seconds)
    if ok:
        JOB_LAST_SUCCESS.labels(job).set(time.time())
    else:
        JOB_FAILURES.labels(job).inc()


class DatabaseCollector:
    """Tickets by state and the outbox's backlog, read at scrape time."""

    def __init__(self, engine: Engine, now: Callable[[], Any]) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterator[Metric]:
        tickets = GaugeMetricFamily("hotline_tickets", "Tickets by state", labels=["state"])
        backlog = GaugeMetricFamily("hotline_outbox_pending", "Notices not yet delivered")
        failing = GaugeMetricFamily("hotline_outbox_failing", "Undelivered notices that failed at least once")
        age = GaugeMetricFamily("hotline_outbox_oldest_pending_age_seconds", "Age of the oldest undelivered notice")
        with Session(self.engine) as session:
            for state, count in session.exec(select(Ticket.state, func.count()).group_by(Ticket.state)).all():
                tickets.add_metric([str(getattr(state, "value", state))], count)
            unsent = col(Notice.sent_at).is_(None)
            pending, oldest, failed = session.exec(
                select(func.count(), func.min(Notice.created_at),
                       func.count().filter(col(Notice.attempts) > 0)).where(unsent)
            ).one()
        backlog.add_metric([], pending)
        failing.add_metric([], failed)
        age.add_metric([], 0.0 if oldest is None else max(0.0, (self.now() - oldest).total_seconds()))
        yield from (tickets, backlog, failing, age)


def forget_dead_workers(directory: str) -> None:
    """A killed worker leaves its live gauges behind (the leader flag among them); uvicorn starts
    a new one under a new pid. The workers share this machine, so a pid that is gone is dead."""
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            mark_process_dead(int(pid), directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def render(engine: Engine, now: Callable[[], Any]) -> bytes:
    """The text exposition format: this process's (or all workers') metrics and the database's."""
    from prometheus_client import REGISTRY

    if multiprocess():
        forget_dead_workers(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        own = generate_latest(registry)
    else:
        own = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector(engine, now))  # type: ignore[arg-type]
    return own + generate_latest(database)
