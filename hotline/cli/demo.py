"""`hotline demo`: fill the database with a simulated city."""

from __future__ import annotations

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
    now: str = NOW_OPTION,
) -> None:
    """Simulate WEEKS of a city's hotline up to now (deterministic for a seed)."""
    hotline = get_app()
    with Progress() as progress:
        task = progress.add_task("simulating", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        count = simulate(hotline.engine, hotline.policy, keyword_router(hotline.config), weeks, per_day, seed,
                         parse_now(now), tick)
    typer.echo(f"simulated {count} tickets over {weeks} weeks")
