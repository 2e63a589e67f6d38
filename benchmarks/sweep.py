"""The scheduler's sweep over 1,000,000 open tickets, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/sweep.py [--tickets 1000000] [--backend sqlite|postgres|both]
                                         [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Tickets are generated straight into the database (PostgreSQL: COPY; SQLite: executemany in one
transaction) in a temporary directory / a scratch database `hotline_bench_sweep`, never in the repo.
Deadlines are spread so that about 5% of the tickets are overdue and a few percent are near a
reminder. Three sweeps are timed: the first one (it records every notice the backlog calls for:
a catch-up), the regular one five minutes later (the steady state, every `sweep_minutes`), and one
a working day later. The query plans of the sweep's SELECTs are printed (EXPLAIN), and the machine.
"""

from __future__ import annotations

import argparse
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

from sqlalchemy import Engine, create_engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.bootstrap import build_policy, sync_directory  # noqa: E402
from hotline.db import make_engine, upgrade  # noqa: E402
from hotline.settings import DEFAULT_CONFIG, load_config  # noqa: E402
from tickets.sweeps import SweepSettings, run_sweeps  # noqa: E402

NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # Thursday 12:00 in Shanghai
STATES = ("assigned",) * 2 + ("accepted",) * 7 + ("reopened",)
TYPES = ("consultation",) * 4 + ("complaint",) * 5 + ("suggestion",)
COLUMNS = ("id", "number", "channel", "external_message_id", "citizen_id", "type", "department_code", "text",
           "summary", "entities", "nlu", "needs_review", "urgent", "state", "created_at", "assigned_at",
           "accept_due", "answer_due", "returned_count", "reopened_count", "updated_at")


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


def rows(count: int, departments: list[str], seed: int = 1) -> Any:
    rng = random.Random(seed)
    for i in range(1, count + 1):
        state = rng.choice(STATES)
        # answer deadlines from 1.5 days ago to 30 days ahead: ~5% overdue, a few % within a day
        answer_due = NOW + timedelta(hours=rng.uniform(-36, 720))
        created = answer_due - timedelta(days=rng.uniform(1, 20))
        accept_due = NOW + timedelta(hours=rng.uniform(-6, 48)) if state == "assigned" else created + timedelta(days=1)
        yield (i, f"B{i:09d}", "bench", f"m{i}", 1, rng.choice(TYPES), rng.choice(departments), "小区门口垃圾没人清运",
               "垃圾清运", "[]", "{}", False, False, state, created, created, accept_due, answer_due, 0,
               1 if state == "reopened" else 0, created)


def load_postgres(engine: Engine, count: int, departments: list[str]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY ticket ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows(count, departments):
                copy.write_row(row)
        cursor.execute("SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket))")
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def load_sqlite(path: Path, count: int, departments: list[str]) -> None:
    connection = sqlite3.connect(path)
    placeholders = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO ticket ({', '.join(COLUMNS)}) VALUES ({placeholders})"

    def plain(row: tuple[Any, ...]) -> tuple[Any, ...]:  # UTC, naive, as the UTCDateTime type stores it
        return tuple(v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
                     for v in row)

    with connection:
        connection.executemany(sql, (plain(row) for row in rows(count, departments)))
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


def bench(engine: Engine, label: str, load: Any, count: int) -> None:
    config = load_config(DEFAULT_CONFIG)
    policy = build_policy(config)
    upgrade(engine)
    sync_directory(engine, config)
    citizen(engine)
    started = time.perf_counter()
    load(count, [d.code for d in config.departments])
    print(f"{label}: generated {count:,} open tickets in {time.perf_counter() - started:.1f} s")
    settings = SweepSettings()
    for moment, what in ((NOW, "first sweep (records the whole backlog's notices)"),
                         (NOW + timedelta(minutes=5), "regular sweep 5 minutes later"),
                         (NOW + timedelta(days=1), "sweep a working day later")):
        captured = capture_selects(engine)
        started = time.perf_counter()
        result = run_sweeps(engine, policy, moment, settings)
        elapsed = time.perf_counter() - started
        print(f"{label}: {what}: {elapsed:.2f} s, {sum(result.values()):,} notices/closures {result}")
    print(f"{label}: query plans of the last sweep's SELECTs")
    explain(engine, captured)
    with engine.connect() as connection:
        notices = connection.execute(text("SELECT count(*) FROM notice")).scalar()
    print(f"{label}: notice table: {notices:,} rows\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL",
                                                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            engine = make_engine(f"sqlite:///{path}")
            bench(engine, "SQLite", lambda n, d: load_sqlite(path, n, d), args.tickets)
            engine.dispose()
    if args.backend in ("postgres", "both"):
        name = "hotline_bench_sweep"
        admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(args.postgres_url.rsplit("/", 1)[0] + "/" + name)
        try:
            bench(engine, "PostgreSQL", lambda n, d: load_postgres(engine, n, d), args.tickets)
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
