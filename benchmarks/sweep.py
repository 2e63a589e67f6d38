"""The scheduler's sweep over 1,000,000 open tickets, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/sweep.py [--tickets 1000000] [--backend sqlite|postgres|both]
                                         [--downtime-days 0] [--unmasked] [--profile FILE]
                                         [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Tickets are generated straight into the database (PostgreSQL: COPY; SQLite: executemany in one
transaction) in a temporary directory / a scratch database `hotline_bench_sweep`, never in the repo.
Deadlines are spread so that about 5% of the tickets are overdue and a few percent are near a
reminder. `--downtime-days D` models a scheduler that was down for D days before the first sweep:
the deadlines reach D days further back, so the first sweep has that much more to catch up on
(issue #16's target, 250,000 notices due: `--tickets 300000 --downtime-days 20` has ≈ 310,000).
The tickets' texts and summaries are cut from the project's sample messages (data/nlu) at random
points, so that summaries differ as in life: the leaders' 督办 quotes each one masked. The regular
runs before the downtime stored each summary masked (tickets/masked_summaries.py); the generator
does that work on every core and prints its time; `--unmasked` leaves them unmasked, as on the first
sweep after the upgrade that added the column (the sweep then masks on the fly). `--profile FILE`
writes a cProfile of the first sweep (read it with `python -m pstats FILE`). Three sweeps are
timed: the first one (it records every notice the backlog calls for: a catch-up), the regular one
five minutes later (the steady state, every `sweep_minutes`), and one a working day later. The
query plans of the sweep's SELECTs are printed (EXPLAIN), and the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, create_engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import backends_of, cpu_seconds  # noqa: E402
from hotline.bootstrap import build_policy, sync_directory  # noqa: E402
from hotline.db import make_engine, upgrade  # noqa: E402
from hotline.settings import DEFAULT_CONFIG, load_config  # noqa: E402
from tickets import masking_names  # noqa: E402
from tickets.masked_summaries import mask_summaries  # noqa: E402
from tickets.masking import MASKING_VERSION, mask_personal  # noqa: E402
from tickets.sweeps import SweepSettings, run_sweeps  # noqa: E402
from tickets.text import summarise  # noqa: E402

NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # Thursday 12:00 in Shanghai
STATES = ("assigned",) * 2 + ("accepted",) * 7 + ("reopened",)
TYPES = ("consultation",) * 4 + ("complaint",) * 5 + ("suggestion",)
COLUMNS = ("id", "number", "channel", "external_message_id", "citizen_id", "type", "department_code", "text",
           "summary", "entities", "nlu", "needs_review", "urgent", "confidential", "state", "created_at", "assigned_at",
           "accept_due", "answer_due", "returned_count", "reopened_count", "updated_at", "summary_masked",
           "summary_masked_by")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs{memory}; {platform.system()} {platform.release()}; Python {platform.python_version()}"


def citizen_texts() -> list[str]:
    """The project's sample messages (data/nlu): the sweep masks ticket summaries for the leaders'
    督办, and masking costs depend on the text, so the tickets carry real-looking ones."""
    found = []
    for path in sorted((Path(__file__).resolve().parent.parent / "data" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip().removeprefix("- ").strip()
                if len(line) >= 8:
                    found.append(line)
    return found or ["小区门口垃圾没人清运"]


def rows(count: int, departments: list[str], downtime_days: float = 0, unmasked: bool = False, seed: int = 1) -> Any:
    """The tickets, with their summaries masked as the regular runs before the downtime stored them
    (tickets/masked_summaries.py), computed here on every core; `unmasked`: none stored, as on the
    first sweep after the upgrade that added the column."""
    generated = list(_rows(count, departments, downtime_days, seed))
    if unmasked:
        return [(*row, None, None) for row in generated]
    started = time.perf_counter()
    distinct = sorted({row[8] for row in generated})
    with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
        masked = dict(zip(distinct, pool.map(mask_personal, distinct, chunksize=500), strict=True))
    print(f"  summaries masked ahead (the regular runs' work before the downtime): {len(distinct):,} distinct "
          f"in {time.perf_counter() - started:.1f} s on {os.cpu_count()} processes")
    return [(*row, masked[row[8]], MASKING_VERSION) for row in generated]


def _rows(count: int, departments: list[str], downtime_days: float, seed: int) -> Any:
    rng = random.Random(seed)
    texts = citizen_texts()
    down = downtime_days * 24
    for i in range(1, count + 1):
        state = rng.choice(STATES)
        # answer deadlines from 1.5 days (+ the downtime) ago to 30 days ahead: without downtime
        # ~5% overdue, a few % within a day
        answer_due = NOW + timedelta(hours=rng.uniform(-36 - down, 720))
        created = answer_due - timedelta(days=rng.uniform(1, 20))
        accept_due = (NOW + timedelta(hours=rng.uniform(-6 - down, 48)) if state == "assigned"
                      else created + timedelta(days=1))
        # a sample message from a random point on, so that (nearly) every summary differs, as they do
        # in life: no cache of the masked text can answer for another ticket's
        sample = rng.choice(texts)
        message = sample[rng.randrange(max(1, len(sample) // 2)):]
        yield (i, f"{created:%Y%m%d}-{i:06d}", "bench", f"m{i}", 1, rng.choice(TYPES), rng.choice(departments),
               message, summarise(message), "[]", "{}", False, False, False, state, created, created, accept_due, answer_due, 0,
               1 if state == "reopened" else 0, created)


def load_postgres(engine: Engine, count: int, departments: list[str], downtime_days: float, unmasked: bool) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY ticket ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows(count, departments, downtime_days, unmasked):
                copy.write_row(row)
        after_copy(raw)
    finally:
        raw.close()


def after_copy(raw: Any) -> None:
    """Tickets loaded with their own ids by COPY: the id sequence moves past them, the planner learns them."""
    cursor = raw.cursor()
    cursor.execute("SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket))")
    raw.commit()
    cursor.execute("ANALYZE")
    raw.commit()


def load_sqlite(path: Path, count: int, departments: list[str], downtime_days: float, unmasked: bool) -> None:
    connection = sqlite3.connect(path)
    placeholders = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO ticket ({', '.join(COLUMNS)}) VALUES ({placeholders})"

    def plain(row: tuple[Any, ...]) -> tuple[Any, ...]:  # UTC, naive, as the UTCDateTime type stores it
        return tuple(v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
                     for v in row)

    with connection:
        connection.executemany(sql, (plain(row) for row in rows(count, departments, downtime_days, unmasked)))
    connection.execute("ANALYZE")
    connection.close()


def citizen(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO citizen (id, channel, external_id, created_at) "
                                "VALUES (1, 'bench', 'c1', :now)"), {"now": NOW.replace(tzinfo=None)})


def capture_selects(engine: Engine) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM ticket" in statement and statement not in seen:
            seen[statement] = parameters

    return seen


def explain(engine: Engine, captured: dict[str, Any]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in captured.items():
            first_line = " ".join(statement.split())[:150]
            print(f"\n  -- {first_line} …")
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            cursor.execute(prefix + statement, parameters)
            for row in cursor.fetchall():
                print("    " + (" ".join(str(x) for x in row[-1:]) if engine.dialect.name == "sqlite" else row[0]))
    finally:
        raw.close()


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def bench(engine: Engine, label: str, load: Any, count: int, profile: str | None = None) -> None:
    config = load_config(DEFAULT_CONFIG)
    policy = build_policy(config)
    upgrade(engine)
    sync_directory(engine, config)
    citizen(engine)
    started = time.perf_counter()
    load(count, [d.code for d in config.departments])
    print(f"{label}: generated {count:,} open tickets in {time.perf_counter() - started:.1f} s")
    settings = SweepSettings()
    masking_names._cut.cache_clear()  # each backend's figures from a cold cache
    for moment, what in ((NOW, "first (catch-up) sweep"),
                         (NOW + timedelta(minutes=5), "regular sweep 5 minutes later"),
                         (NOW + timedelta(days=1), "sweep a working day later")):
        captured = capture_selects(engine)
        profiler = cProfile.Profile() if profile and moment == NOW else None
        backends = backends_of(engine.url.database or "") if engine.dialect.name == "postgresql" else None
        cpu_before = (time.process_time(), cpu_seconds(backends) if backends else 0.0)
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        # what the scheduler's periodic job does (hotline.jobs.do_periodic, less digest and report)
        result = {"mask_summaries": mask_summaries(engine)}
        masking = time.perf_counter() - started
        result.update(run_sweeps(engine, policy, moment, settings))
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
        cpu = (time.process_time() - cpu_before[0], (cpu_seconds(backends) if backends else 0.0) - cpu_before[1])
        made = sum(result.values())
        print(f"{label}: {what}: {made:,} notices/closures in {elapsed:.2f} s ({made / elapsed:,.0f}/s) {result}"
              f"; load average {load_average()}")
        print(f"{label}:   of which masking new summaries {masking:.2f} s; CPU: the sweep's process {cpu[0]:.1f} s"
              + (f", PostgreSQL's backends {cpu[1]:.1f} s" if backends else ""))
        if moment == NOW:  # the masking of the leaders' 督办: how often the tagger's cache answered
            print(f"{label}: masking's jieba cache after the first sweep: {masking_names._cut.cache_info()}")
        if profiler and profile:
            profiler.dump_stats(profile)
            print(f"{label}: cProfile of the first sweep written to {profile}")
    print(f"{label}: query plans of the last sweep's SELECTs")
    explain(engine, captured)
    with engine.connect() as connection:
        notices = connection.execute(text("SELECT count(*) FROM notice")).scalar()
    print(f"{label}: notice table: {notices:,} rows\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--downtime-days", type=float, default=0,
                        help="the scheduler was down this long before the first sweep (deadlines reach back as far)")
    parser.add_argument("--profile", help="write a cProfile of the first sweep to this file")
    parser.add_argument("--unmasked", action="store_true",
                        help="no summaries masked ahead (the first sweep after the upgrade that stores them)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL",
                                                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            engine = make_engine(f"sqlite:///{path}")
            bench(engine, "SQLite", lambda n, d: load_sqlite(path, n, d, args.downtime_days, args.unmasked), args.tickets,
                  args.profile)
            engine.dispose()
    if args.backend in ("postgres", "both"):
        name = "hotline_bench_sweep"
        admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(args.postgres_url.rsplit("/", 1)[0] + "/" + name)
        try:
            bench(engine, "PostgreSQL", lambda n, d: load_postgres(engine, n, d, args.downtime_days, args.unmasked),
                  args.tickets,
                  args.profile)
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
