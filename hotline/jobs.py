"""The scheduler's jobs: module-level callables APScheduler stores by name, without arguments.

Each gets the process's App (the one `build_scheduler` registered, else it bootstraps one) and runs
as of `app.clock()`. `run_jobs(app, now, only)` runs the same work for `hotline jobs run --now`, so
any moment can be replayed. Everything a job records is keyed (tickets/sweeps_outbox.py), so a job
that runs twice, or in two processes, or late after downtime, notifies once.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from hotline.bootstrap import App, bootstrap
from hotline.housekeeping import housekeeping
from hotline.settings import SchedulerConfig
from tickets import masking_names
from tickets.delivery import DeliveryError, Notifier, deliver_pending
from tickets.masked_summaries import mask_summaries
from tickets.models import Notice
from tickets.sweeps import SWEEPS, SweepSettings, run_sweeps
from tickets.sweeps_digest import department_digests
from tickets.sweeps_outbox import Batch

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SNAPSHOT = "tickets.stats.snapshots:take_missing_snapshots"  # (engine, policy, now, words=…), idempotent
WEEKLY_MESSAGE = "hotline.reports:weekly_message"  # (app, now) -> (text, [Path])

_app: App | None = None


def use_app(app: App) -> None:
    global _app
    _app = app


def current_app() -> App:
    if _app is None:
        use_app(bootstrap())
    assert _app is not None
    return _app


def sweep_settings(config: SchedulerConfig) -> SweepSettings:
    return SweepSettings(
        escalate_every_days=config.escalate_every_days,
        answer_reminder_days=config.answer_reminder_days,
        callback_after_hours=config.callback_after_hours,
    )


def _resolve(ref: str) -> Callable[..., Any] | None:
    module, _, name = ref.partition(":")
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as err:
        log.warning("%s is not available yet (%s); skipping", ref, err)
        return None


class LogNotifier:
    """Used until the app has a notifier: logs and keeps every notice pending (retried with backoff)."""

    def deliver(self, notice: Notice) -> None:
        log.warning("no notifier configured: notice %s (%s → %s) stays in the outbox", notice.key,
                    notice.kind, notice.recipient_kind)
        raise DeliveryError("no notifier configured")


def notifier_of(app: App) -> Notifier:
    return getattr(app, "notifier", None) or LogNotifier()


# -- the work, as of a given moment --------------------------------------------------------------
def do_sweeps(app: App, now: datetime, only: Sequence[str] | None = None) -> dict[str, int]:
    return run_sweeps(app.engine, app.policy, now, sweep_settings(app.config.scheduler), only)


def do_mask_summaries(app: App, now: datetime) -> dict[str, int]:
    """Mask new tickets' summaries ahead of any 督办 that quotes them (tickets/masked_summaries.py)."""
    return {"mask_summaries": mask_summaries(app.engine)}


def do_deliver(app: App, now: datetime) -> dict[str, int]:
    hold = timedelta(seconds=app.config.scheduler.deliver_claim_seconds)
    sent, failed = deliver_pending(app.engine, notifier_of(app), now, limit=500, hold=hold)
    return {"sent": sent, "failed": failed}


def do_digest(app: App, now: datetime) -> dict[str, int]:
    return {"digest": department_digests(app.engine, app.policy, now, app.config.scheduler.digest_hour)}


def weekly_due_at(app: App, now: datetime) -> datetime:
    """The latest scheduled moment of the weekly report at or before `now` (city time)."""
    day_name, clock = app.config.scheduler.weekly_report.split()
    hour, minute = (int(part) for part in clock.split(":"))
    local = app.policy.calendar.local(now)
    monday = local.date() - timedelta(days=local.weekday())
    due = datetime.combine(monday + timedelta(days=WEEKDAYS.index(day_name)), datetime.min.time(),
                           tzinfo=local.tzinfo).replace(hour=hour, minute=minute)
    return due if due <= local else due - timedelta(days=7)


def do_weekly(app: App, now: datetime) -> dict[str, int]:
    """This week's report to the leaders, once (a late start still sends it, the same week)."""
    due = weekly_due_at(app, now)
    year, week, _ = due.isocalendar()
    base = f"weekly:{year}-W{week:02d}"
    with Session(app.engine) as session:
        if session.exec(select(Notice.id).where(Notice.key == base)).first() is not None:
            return {"weekly_report": 0}
    weekly_message = _resolve(WEEKLY_MESSAGE)
    if weekly_message is None:
        return {"weekly_report": 0}
    text, images = weekly_message(app, now)
    batch = Batch(now)
    batch.add(base, "weekly_report", "leaders", None, text, attachments=[str(path) for path in images])
    with Session(app.engine) as session:
        created = batch.record(session)
        session.commit()
    return {"weekly_report": created}


def do_snapshot(app: App, now: datetime) -> dict[str, int]:
    """Every ended day of the last two weeks without a snapshot (normally: yesterday)."""
    take_missing = _resolve(SNAPSHOT)
    if take_missing is None:
        return {"snapshot": 0}
    from hotline.reports import issue_words  # noqa: PLC0415 - reports loads matplotlib; only this job needs it

    return {"snapshot": len(take_missing(app.engine, app.policy, now, words=issue_words(app)))}


def do_anonymise(app: App, now: datetime) -> dict[str, int]:
    """The retention job: personal data of tickets finished longer ago than privacy.retention_days
    is anonymised (tickets.privacy.anonymise_expired); their uploaded files are deleted."""
    from hotline.privacy import anonymise_expired  # noqa: PLC0415 - loads the masking's tagger only when run

    return {"anonymised": anonymise_expired(app, now)}


def do_housekeeping(app: App, now: datetime) -> dict[str, int]:
    """Photos past their ticket's retention and orphan uploads, old rate counters, ended sessions."""
    web = app.config.web
    return housekeeping(app.engine, app.settings.env.home, now, web.uploads.keep_days_after_close,
                        web.uploads.orphan_hours, web.login.absolute_hours)


def do_challenge(app: App, now: datetime) -> dict[str, int]:
    """The weekly challenger (hotline/learning.py): promoted only if it beats the current model."""
    if not app.config.nlu.learning.enabled or app.config.nlu.backend != "builtin":
        return {"challenger_promoted": 0}
    from hotline.learning import challenge  # noqa: PLC0415 - training loads the model's libraries

    return {"challenger_promoted": int(challenge(app.settings, app.engine, now).promoted)}


def do_kb_expiry(app: App, now: datetime) -> dict[str, int]:
    """Remind departments of their knowledge-base entries that expire soon (once per entry and date)."""
    return {"kb_expiry": app.kb.remind_expiring(now, app.config.kb.expiry_notice_days)}


def do_periodic(app: App, now: datetime) -> dict[str, int]:
    """The frequent job: new summaries masked, every ticket sweep, plus the digest and weekly report
    if due and not yet recorded, so a scheduler that was down at their hour catches up when it is back."""
    return {**do_mask_summaries(app, now), **do_sweeps(app, now), **do_digest(app, now), **do_weekly(app, now)}


def _one_sweep(name: str) -> Callable[[App, datetime], dict[str, int]]:
    return lambda app, now: do_sweeps(app, now, [name])


WORK: dict[str, Callable[[App, datetime], dict[str, int]]] = {
    "mask_summaries": do_mask_summaries,
    **{name: _one_sweep(name) for name in SWEEPS},
    "digest": do_digest,
    "weekly_report": do_weekly,
    "snapshot": do_snapshot,
    "deliver": do_deliver,
    "anonymise": do_anonymise,
    "housekeeping": do_housekeeping,
    "challenger": do_challenge,
    "kb_expiry": do_kb_expiry,
}
DEFAULT_RUN = ("mask_summaries", *SWEEPS, "digest", "weekly_report")


def run_jobs(app: App, now: datetime, only: Sequence[str] | None = None) -> dict[str, int]:
    """Run the named jobs (default: the masking of new summaries, the sweeps, the digest and the
    weekly report, as `sweep` does)."""
    names = list(only) if only else list(DEFAULT_RUN)
    unknown = [name for name in names if name not in WORK]
    if unknown:
        raise ValueError(f"unknown job {', '.join(unknown)}; expected one of: {', '.join(WORK)}")
    results: dict[str, int] = {}
    for name in names:
        results.update(WORK[name](app, now))
    return results


# -- the callables APScheduler stores (by name, no arguments) -------------------------------------
def _run(work: Callable[[App, datetime], dict[str, int]], name: str) -> dict[str, int]:
    from hotline import metrics  # noqa: PLC0415 - prometheus-client only where the scheduler runs

    app = current_app()
    started = time.perf_counter()
    try:
        result = work(app, app.clock())
    except BaseException:
        metrics.job_ran(name, time.perf_counter() - started, ok=False)
        raise
    metrics.job_ran(name, time.perf_counter() - started, ok=True)
    if any(result.values()):
        log.info("%s: %s", work.__name__, result)
    return result


def sweep() -> dict[str, int]:
    return _run(do_periodic, "sweep")


def deliver() -> dict[str, int]:
    return _run(do_deliver, "deliver")


def digest() -> dict[str, int]:
    return _run(do_digest, "digest")


def weekly_report() -> dict[str, int]:
    return _run(do_weekly, "weekly_report")


def snapshot() -> dict[str, int]:
    return _run(do_snapshot, "snapshot")


def anonymise() -> dict[str, int]:
    return _run(do_anonymise, "anonymise")


def nightly_housekeeping() -> dict[str, int]:
    return _run(do_housekeeping, "housekeeping")


def challenger() -> dict[str, int]:
    return _run(do_challenge, "challenger")


def kb_expiry() -> dict[str, int]:
    return _run(do_kb_expiry, "kb_expiry")


def do_startup(app: App, now: datetime) -> dict[str, int]:
    masking_names.warm()  # ~1 s of jieba's dictionary, before the first summary needs it
    return {**do_periodic(app, now), **do_snapshot(app, now), **do_kb_expiry(app, now)}


def startup() -> dict[str, int]:
    """Once after every start: catch up at once instead of at the first interval."""
    return _run(do_startup, "startup")
