"""APScheduler wiring: jobs in the project's database with fixed ids, restart-safe; the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from hotline import jobs
from hotline.jobs import LogNotifier, weekly_due_at
from hotline.scheduler import JOB_TABLE, build_scheduler, job_table
from tests.conftest import keywords_config, local
from tests.factories import submit
from tickets.delivery import deliver_pending
from tickets.models import Notice

JOB_IDS = {"sweep", "deliver", "digest", "weekly_report", "snapshot", "anonymise", "housekeeping", "challenger", "kb_expiry",
           "startup"}


def stored_ids(app) -> list[str]:
    with app.engine.connect() as connection:
        return sorted(row[0] for row in connection.execute(text(f"SELECT id FROM {JOB_TABLE}")))


def test_jobs_are_stored_in_the_database_once_across_restarts(hotline):
    for _ in range(2):  # a restart replaces the jobs instead of adding copies
        scheduler = build_scheduler(hotline)
        scheduler.start(paused=True)
        try:
            stored = {job.id: job for job in scheduler.get_jobs()}
        finally:
            scheduler.shutdown(wait=False)
    assert stored_ids(hotline) == sorted(JOB_IDS)
    assert set(stored) == JOB_IDS
    for job in stored.values():
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 3600
        assert job.func_ref.startswith("hotline.jobs:") and job.args == () and job.kwargs == {}
    assert str(stored["weekly_report"].trigger) == "cron[day_of_week='mon', hour='9', minute='0']"
    assert stored["weekly_report"].next_run_time.utcoffset().total_seconds() == 8 * 3600  # city time


def test_stored_jobs_run_by_name_against_the_registered_app(hotline, clock):
    submit(hotline, now=local(2026, 11, 23, 9))
    build_scheduler(hotline)  # registers the app for the job callables
    clock.now = local(2026, 11, 23, 21)
    result = jobs.sweep()
    assert result["accept_reminders"] == 1 and result["digest"] == 1 and result["weekly_report"] == 1
    assert jobs.sweep() == dict.fromkeys(result, 0)


def test_job_list_gives_next_runs_in_city_time(hotline):
    rows = {row["id"]: row for row in job_table(hotline, local(2026, 11, 25, 10))}  # a Wednesday
    assert rows["weekly_report"]["next_run"] == local(2026, 11, 30, 9)
    assert rows["digest"]["next_run"] == local(2026, 11, 26, 9)
    assert rows["snapshot"]["next_run"] == local(2026, 11, 26, 1)
    assert weekly_due_at(hotline, local(2026, 11, 25, 10)) == local(2026, 11, 23, 9)


def test_without_a_notifier_notices_stay_pending_and_are_retried(hotline):
    submit(hotline, now=local(2026, 11, 23, 9))
    assert deliver_pending(hotline.engine, LogNotifier(), local(2026, 11, 23, 9, 1)) == (0, 1)
    with Session(hotline.engine) as session:
        notice = session.exec(select(Notice)).one()
    assert notice.sent_at is None and notice.attempts == 1 and notice.next_attempt_at > local(2026, 11, 23, 9, 1)
    assert notice.last_error == "no notifier configured"


@pytest.fixture
def run_cli(tmp_path: Path):
    # The keyword router: these are the jobs' tests, and a first `ticket submit` with the built-in
    # model would train one, which takes minutes on a busy machine.
    env = {**os.environ, "HOTLINE_HOME": str(tmp_path / "home"), "HOTLINE_CONFIG": str(keywords_config(tmp_path))}
    env.pop("DATABASE_URL", None)

    def _run(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "hotline.cli.main", *args], capture_output=True, text=True,
                                env=env, cwd=tmp_path, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    return _run


def test_jobs_run_replays_a_moment_and_outbox_lists_what_it_recorded(run_cli):
    run_cli("ticket", "submit", "--text", "小区物业乱收费", "--department", "housing", "--type", "complaint",
            "--now", "2026-09-30T10:00:00+08:00")
    first = json.loads(run_cli("jobs", "run", "--now", "2026-10-08T10:00:00+08:00", "--only", "accept_escalations",
                               "--format", "json"))
    assert first["results"] == {"accept_escalations": 1}
    pending = json.loads(run_cli("outbox", "list", "--pending", "--format", "json"))
    kinds = sorted(n["kind"] for n in pending)
    assert kinds == ["accept_overdue", "assigned"]
    escalation = next(n for n in pending if n["kind"] == "accept_overdue")
    assert escalation["recipient_kind"] == "staff" and "签收超时" in escalation["text"]
    listed = json.loads(run_cli("jobs", "list", "--now", "2026-11-25T10:00:00+08:00", "--format", "json"))
    assert {row["id"] for row in listed} == JOB_IDS
