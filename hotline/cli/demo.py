"""`hotline demo`: fill the database with a simulated city, then snapshot the days it simulated."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.progress import Progress

from hotline.bootstrap import keyword_router
from hotline.cli.common import NOW_OPTION, get_app, handles_errors, parse_now
from hotline.demo import simulate


@handles_errors
def demo(
    weeks: int = typer.Option(12, "--weeks", min=1, max=260),
    per_day: int = typer.Option(200, "--per-day", min=1, max=20000),
    seed: int = typer.Option(1, "--seed"),
    snapshots: bool = typer.Option(True, "--snapshots/--no-snapshots",
                                   help="store the statistics snapshots of the simulated days (as the nightly job would)"),
    now: str = NOW_OPTION,
) -> None:
    """Simulate WEEKS of a city's hotline up to now (deterministic for a seed)."""
    from hotline.reports import issue_words  # noqa: PLC0415 - loads matplotlib; only this command needs it
    from tickets.stats import take_snapshot  # noqa: PLC0415

    hotline = get_app()
    end = parse_now(now)
    from hotline.bootstrap import import_sample_kb  # noqa: PLC0415

    import_sample_kb(hotline)
    with Progress() as progress:
        task = progress.add_task("模拟中", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        count = simulate(hotline.engine, hotline.policy, keyword_router(hotline.config), weeks, per_day, seed,
                         end, tick)
        days = []
        if snapshots:  # every simulated day that has ended, so past weeks are read from snapshots at once
            calendar = hotline.policy.calendar
            first, last = calendar.local_day(end - timedelta(weeks=weeks)), calendar.local_day(end) - timedelta(days=1)
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            task = progress.add_task("统计快照", total=len(days))
            words = issue_words(hotline)
            for day in days:
                take_snapshot(hotline.engine, hotline.policy, day, words, end)
                progress.advance(task)
    typer.echo(f"已模拟 {weeks} 周共 {count} 件工单" + (f"；已存 {len(days)} 天的统计快照" if days else ""))
