"""Exactly once across processes: two schedulers sweeping the same database at the same moment,
and a scheduler killed between recording a notice and sending it (SQLite file and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, func, select

from hotline.bootstrap import bootstrap
from hotline.jobs import do_deliver, run_jobs
from hotline.settings import load_settings
from tests.conftest import PROJECT, local
from tests.factories import people, submit
from tickets.models import Notice, TicketEvent
from tickets.states import State
from tickets.sweeps import SWEEPS

SPAWN = multiprocessing.get_context("spawn")


def _app(database_url: str, home: str, at: datetime):
    settings = load_settings({"HOTLINE_HOME": home, "DATABASE_URL": database_url,
                              "HOTLINE_CONFIG": str(PROJECT / "config.yml")})
    return bootstrap(settings, clock=lambda: at, migrate=False)


def sweep_in_child(database_url: str, home: str, at: datetime, barrier, results) -> None:
    app = _app(database_url, home, at)
    barrier.wait(timeout=60)
    results.put(run_jobs(app, at, SWEEPS))


def sweep_then_hang(database_url: str, home: str, at: datetime, recorded) -> None:
    """Records the notices, then never gets to send them (the parent kills it here)."""
    app = _app(database_url, home, at)
    run_jobs(app, at, SWEEPS)
    recorded.set()
    signal.pause()


class RecordingNotifier:
    """A fake adapter of the notifier port: remembers what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def deliver(self, notice: Notice) -> None:
        self.sent.append(notice.key)


def busy_city(app, count: int = 15) -> None:
    """Tickets due for every kind of notice on Thursday 26 November 2026, 12:00."""
    p = people(app)
    for _ in range(count):
        submit(app, now=local(2026, 11, 25, 18))  # accept reminder due
        submit(app, now=local(2026, 11, 25, 9))  # accept limit expired
        late = submit(app, now=local(2026, 11, 18, 9))  # answer deadline passed
        app.tickets.accept(late.number, p["housing_staff"], local(2026, 11, 18, 10))
        answered = submit(app, now=local(2026, 11, 18, 9))
        app.tickets.accept(answered.number, p["housing_staff"], local(2026, 11, 18, 10))
        app.tickets.answer(answered.number, p["housing_staff"], "已处理。", local(2026, 11, 22, 9))  # window over


def count(app, model, *where) -> int:
    with Session(app.engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_two_processes_sweeping_at_once_record_each_notice_once(hotline, database_url, tmp_path: Path):
    busy_city(hotline)
    at = local(2026, 11, 26, 12)
    before = count(hotline, Notice)
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    workers = [SPAWN.Process(target=sweep_in_child, args=(database_url, str(tmp_path / "home"), at, barrier, results))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    made = count(hotline, Notice) - before
    # per ticket group: 1 reminder, 1 escalation to the head, 2 督办 (head, leaders), 1 citizen notice
    assert made == 15 * 5
    assert sum(sum(o.values()) for o in outcomes) == made  # together they made each exactly once
    assert count(hotline, TicketEvent, TicketEvent.action == "auto_close") == 15
    assert run_jobs(hotline, at, SWEEPS) == dict.fromkeys(SWEEPS, 0)
    with Session(hotline.engine) as session:
        keys = session.exec(select(Notice.key)).all()
    assert len(keys) == len(set(keys))


def test_a_scheduler_killed_between_recording_and_sending_delivers_once_after_restart(
    hotline, database_url, tmp_path: Path
):
    busy_city(hotline, count=3)
    at = local(2026, 11, 26, 12)
    recorded = SPAWN.Event()
    worker = SPAWN.Process(target=sweep_then_hang, args=(database_url, str(tmp_path / "home"), at, recorded))
    worker.start()
    assert recorded.wait(timeout=120)
    os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]
    worker.join(timeout=30)
    assert worker.exitcode == -signal.SIGKILL
    pending = count(hotline, Notice, Notice.sent_at == None)  # noqa: E711
    assert pending == count(hotline, Notice) > 3 * 5

    # The restarted scheduler: its sweep finds everything recorded, its delivery sends each once.
    assert sum(run_jobs(hotline, at, SWEEPS).values()) == 0
    notifier = RecordingNotifier()
    hotline.notifier = notifier  # type: ignore[attr-defined]
    assert do_deliver(hotline, at) == {"sent": pending, "failed": 0}
    assert do_deliver(hotline, local(2026, 11, 26, 13)) == {"sent": 0, "failed": 0}
    assert len(notifier.sent) == len(set(notifier.sent)) == pending
    assert count(hotline, Notice, Notice.sent_at == None) == 0  # noqa: E711
    assert hotline.tickets.find(state=State.answered) == []
