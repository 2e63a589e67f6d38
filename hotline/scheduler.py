"""APScheduler 3.x for `hotline serve`: jobs kept in the project's database, schedules from config.yml.

Jobs have fixed ids and are added with `replace_existing`, so a restart updates them instead of
piling up copies; `coalesce` and `max_instances=1` make a backlog one run, never a storm. Nothing
depends on a missed run being replayed: the sweeps look at the tickets as they are, and the
digest and weekly report are also checked by every sweep (hotline/jobs.py), so a scheduler that
was down catches up on its first sweep. A start-up job runs that sweep (and the snapshot) right
after start, and the nightly snapshot also redoes the day before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hotline import jobs
from hotline.bootstrap import App

JOB_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", importable by name
    trigger: BaseTrigger
    description: str


def job_specs(app: App) -> list[JobSpec]:
    config = app.config.scheduler
    zone = app.policy.calendar.tz
    day, clock = config.weekly_report.split()
    hour, minute = clock.split(":")
    started = datetime.now(zone)  # APScheduler runs on the real clock, whatever app.clock says
    learn_day, learn_clock = app.config.nlu.learning.schedule.split()
    learn_hour, learn_minute = learn_clock.split(":")
    return [
        JobSpec("sweep", "hotline.jobs:sweep", IntervalTrigger(minutes=config.sweep_minutes, timezone=zone),
                "reminders, 督办, callback, auto-close (+ digest / weekly report if due)"),
        JobSpec("deliver", "hotline.jobs:deliver", IntervalTrigger(seconds=config.deliver_seconds, timezone=zone),
                "deliver the outbox (retries with backoff)"),
        JobSpec("digest", "hotline.jobs:digest", CronTrigger(hour=config.digest_hour, minute=0, timezone=zone),
                "daily digest per department (working days)"),
        JobSpec("weekly_report", "hotline.jobs:weekly_report",
                CronTrigger(day_of_week=day, hour=int(hour), minute=int(minute), timezone=zone),
                "weekly report to the leaders"),
        JobSpec("snapshot", "hotline.jobs:snapshot", CronTrigger(hour=config.snapshot_hour, minute=0, timezone=zone),
                "nightly snapshot of the day's figures"),
        JobSpec("anonymise", "hotline.jobs:anonymise",
                CronTrigger(hour=app.config.privacy.anonymise_hour, minute=30, timezone=zone),
                "anonymise personal data of tickets finished longer ago than privacy.retention_days"),
        JobSpec("housekeeping", "hotline.jobs:nightly_housekeeping",
                CronTrigger(hour=config.snapshot_hour, minute=30, timezone=zone),
                "delete expired and orphan chat photos, old rate counters and ended sessions"),
        JobSpec("challenger", "hotline.jobs:challenger",
                CronTrigger(day_of_week=learn_day, hour=int(learn_hour), minute=int(learn_minute), timezone=zone),
                "weekly NLU challenger from the centre's corrections (promoted only if better)"),
        JobSpec("kb_expiry", "hotline.jobs:kb_expiry", CronTrigger(hour=config.digest_hour, minute=5, timezone=zone),
                "remind departments of knowledge-base entries about to expire"),
        JobSpec("startup", "hotline.jobs:startup", DateTrigger(started + timedelta(seconds=15), timezone=zone),
                "once after start: sweep and snapshot catch-up"),
    ]


def build_scheduler(app: App) -> BackgroundScheduler:
    """The scheduler with every job added (not started: `hotline serve` starts and shuts it down)."""
    jobs.use_app(app)
    config = app.config.scheduler
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=app.engine, tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": config.misfire_grace_minutes * 60},
        timezone=app.policy.calendar.tz,
    )
    for spec in job_specs(app):
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, name=spec.description, replace_existing=True)
    return scheduler


def stored_next_runs(app: App) -> dict[str, datetime | None]:
    """Next run times as stored by a running (or the last) scheduler; empty if none ever ran."""
    store = SQLAlchemyJobStore(engine=app.engine, tablename=JOB_TABLE)
    try:
        return {job.id: job.next_run_time for job in store.get_all_jobs()}
    except Exception:  # noqa: BLE001 - no job table yet: nothing stored
        return {}


def job_table(app: App, now: datetime) -> list[dict[str, Any]]:
    """Every job with its schedule, its next run computed from now, and what the store says."""
    stored = stored_next_runs(app)
    rows = []
    for spec in job_specs(app):
        rows.append({
            "id": spec.id,
            "function": spec.func,
            "trigger": str(spec.trigger),
            "next_run": spec.trigger.get_next_fire_time(None, now.astimezone(app.policy.calendar.tz)),
            "stored_next_run": stored.get(spec.id),
            "description": spec.description,
        })
    return rows
