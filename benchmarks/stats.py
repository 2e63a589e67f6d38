"""The weekly report over a long history: bulk-generated tickets and events on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/stats.py [--sizes 1000000,25000000] [--db sqlite,postgres] [--per-day 20000]

Tickets arrive at a fixed rate (--per-day; Beijing's 12345 takes about 57,000 contacts a day), so a
bigger size is a longer history. Each ticket gets its submit/assign/accept/answer/rate events. The
last 14 days are snapshotted with the real nightly job (take_snapshot), then we time:
  - the weekly report of the last complete week (read from snapshots) - this should stay flat;
  - this week's report on Monday 09:00 (today live, last week from snapshots), as the dashboard shows it;
  - once, a week without snapshots (computed live from tickets and events: the fallback, per-ticket).
PostgreSQL is generated server-side (INSERT ... SELECT generate_series), SQLite with a recursive CTE.
PostgreSQL needs BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the benchmark creates and drops a database of its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, inspect, text  # noqa: E402

from benchmarks.machine import describe  # noqa: E402
from hotline.bootstrap import build_policy, sync_directory  # noqa: E402
from hotline.db import make_engine, upgrade  # noqa: E402
from hotline.settings import DEFAULT_CONFIG, load_config  # noqa: E402
from tickets.models import Ticket, TicketEvent  # noqa: E402
from tickets.stats import Ranking, build_report, iso_week, take_snapshot  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 11, 23, 0, 0, tzinfo=TZ)  # Monday 00:00: the report is about the week before
NOW = END + timedelta(hours=9)  # the data runs up to Monday 09:00; Sunday and before are snapshotted
DATA_END_UTC = NOW.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
# (action, hours after creation, from_state, to_state)
EVENTS = [("submit", 0, None, "new"), ("assign", 0, "new", "assigned"), ("accept", 3, "assigned", "accepted"),
          ("answer", 30, "accepted", "answered"), ("rate", 50, "answered", "closed")]


def _state_case(col: str, interval: str) -> str:
    return (f"CASE WHEN {interval.format(c=col, h=50)} < :end THEN 'closed' "
            f"WHEN {interval.format(c=col, h=30)} < :end THEN 'answered' "
            f"WHEN {interval.format(c=col, h=3)} < :end THEN 'accepted' ELSE 'assigned' END")


def generate(engine, n: int, per_day: int, codes: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Load n tickets and their events; returns the seconds of each phase (tickets, events, indexes, analyze)."""
    step = 86400 / per_day
    start = DATA_END_UTC - timedelta(seconds=n * step)
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        series = "SELECT i, CAST(:start AS timestamp) + (i * :step) * interval '1 second' AS c FROM generate_series(1, :n) AS i"
        at = "({c} + interval '{h} hours')"
        ts = "({} AT TIME ZONE 'UTC')"  # naive UTC -> timestamptz, whatever the session's TimeZone
        codes_sql = "(ARRAY[" + ",".join(f"'{c}'" for c in codes) + "])[1 + i % " + str(len(codes)) + "]"
        types_sql = "(ARRAY['consultation','complaint','suggestion'])[1 + i % 3]"
    else:
        series = ("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
                  "SELECT i, datetime(:start, '+' || CAST(i * :step AS INTEGER) || ' seconds') AS c FROM s")
        at = "datetime({c}, '+{h} hours')"
        ts = "{}"
        codes_sql = "CASE i % " + str(len(codes)) + " " + " ".join(f"WHEN {k} THEN '{c}'" for k, c in enumerate(codes)) + " END"
        types_sql = "CASE i % 3 WHEN 0 THEN 'consultation' WHEN 1 THEN 'complaint' ELSE 'suggestion' END"
    params = {"n": n, "step": step, "start": start, "end": DATA_END_UTC}

    def when(h: int) -> str:
        return at.format(c="c", h=h)

    def upto(h: int) -> str:
        return f"CASE WHEN {when(h)} < :end THEN {ts.format(when(h))} END"

    phases: dict[str, float] = {}
    clock = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name] = now - clock
        clock = now
        print(f"  {name}: {phases[name]:.1f}s", file=sys.stderr, flush=True)

    # PostgreSQL: load without secondary indexes and unique constraints and build them once at the
    # end (a sort per index instead of a random B-tree insert per row), in one transaction each.
    indexes = [i for t in (Ticket.__table__, TicketEvent.__table__) for i in t.indexes]  # type: ignore[attr-defined]
    uniques = inspect(engine).get_unique_constraints("ticket") if postgres else []
    if postgres:
        with engine.begin() as conn:
            for index in indexes:
                index.drop(conn)
            for unique in uniques:
                conn.execute(text(f'ALTER TABLE ticket DROP CONSTRAINT "{unique["name"]}"'))
    with engine.begin() as conn:
        if postgres:  # generated rows are consistent: skip per-row foreign-key triggers (needs superuser)
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("INSERT INTO citizen (id, channel, external_id, created_at) VALUES (1, 'bench', 'c1', :end)"),
                     {"end": DATA_END_UTC})
        conn.execute(text(
            "INSERT INTO ticket (id, number, channel, external_message_id, citizen_id, type, department_code, text, "
            "summary, entities, nlu, needs_review, urgent, confidential, state, created_at, assigned_at, accept_due, "
            "accepted_at, accepted_on_time, answer_due, answered_at, first_answered_at, answered_on_time, closed_at, "
            "close_reason, rating, rated_at, returned_count, reopened_count, updated_at) "
            f"SELECT i, 'B' || i, 'bench', 'b' || i, 1, {types_sql}, {codes_sql}, '幸福里小区物业乱收费问题', '', '[]', '{{}}', "
            f"false, false, false, {_state_case('c', at)}, {ts.format('c')}, {ts.format('c')}, {ts.format(when(24))}, "
            f"{upto(3)}, CASE WHEN {when(3)} < :end THEN true END, {ts.format(when(120))}, {upto(30)}, {upto(30)}, "
            f"CASE WHEN {when(30)} < :end THEN (i % 5 <> 0) END, {upto(50)}, "
            f"CASE WHEN {when(50)} < :end THEN 'rated' END, CASE WHEN {when(50)} < :end THEN 'satisfied' END, "
            f"{upto(50)}, 0, 0, {ts.format('c')} FROM ({series}) AS s"
        ), params)
        phase("tickets")
        # All five events of a ticket in one pass, ticket by ticket: one scan of the series instead
        # of five, and rows stored in about the order the service appends them (by time).
        # (SQLite names no VALUES columns: a UNION ALL of one-row SELECTs works on both.)
        kinds = " UNION ALL ".join(
            f"SELECT {k} AS k, '{action}' AS action, {hours} AS h, "
            f"{'NULL' if before is None else repr(before)} AS from_s, '{after}' AS to_s"
            for k, (action, hours, before, after) in enumerate(EVENTS))
        hours_sql = "e.h * interval '1 hour'" if postgres else "'+' || e.h || ' hours'"
        event_at = f"(s.c + {hours_sql})" if postgres else f"datetime(s.c, {hours_sql})"
        conn.execute(text(
            "INSERT INTO ticket_event (id, ticket_id, at, action, actor_kind, department_code, from_state, to_state) "
            f"SELECT {len(EVENTS)} * (i - 1) + e.k + 1, i, {ts.format(event_at)}, e.action, 'system', {codes_sql}, "
            f"e.from_s, e.to_s FROM ({series}) AS s CROSS JOIN ({kinds}) AS e "
            f"WHERE {event_at} < :end"
        ), params)
        phase("events")
    if postgres:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            conn.execute(text("SELECT setval('ticket_id_seq', :n)"), {"n": n})
            conn.execute(text("SELECT setval('ticket_event_id_seq', :m)"), {"m": len(EVENTS) * n})
            for unique in uniques:
                columns = ", ".join(f'"{c}"' for c in unique["column_names"])
                conn.execute(text(f'ALTER TABLE ticket ADD CONSTRAINT "{unique["name"]}" UNIQUE ({columns})'))
            for index in indexes:
                index.create(conn)
        phase("indexes")
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("ANALYZE"))
    phase("analyze")
    return phases


def run(url: str, n: int, per_day: int) -> dict[str, float]:
    config = load_config(DEFAULT_CONFIG)
    policy = build_policy(config)
    engine = make_engine(url)
    upgrade(engine)
    sync_directory(engine, config)
    started = time.perf_counter()
    phases = generate(engine, n, per_day, [d.code for d in config.departments])
    generated = time.perf_counter() - started
    now = NOW
    last_day = END.date() - timedelta(days=1)
    started = time.perf_counter()
    for offset in range(14):
        take_snapshot(engine, policy, last_day - timedelta(days=offset), now=now)
    snapshot_per_day = (time.perf_counter() - started) / 14
    week = iso_week(last_day)
    ranking = Ranking()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        report = build_report(engine, policy, week, now, ranking)
        times.append(time.perf_counter() - started)
    assert report["source"]["snapshot_days"] == 7 and report["city"]["received"] > 0
    this_week = iso_week(END.date())  # Monday 00:00-09:00 live, the week before from snapshots
    live = []
    for _ in range(3):
        started = time.perf_counter()
        running = build_report(engine, policy, this_week, now, ranking)
        live.append(time.perf_counter() - started)
    assert running["source"]["live_days"] == 1 and running["city"]["received"] > 0
    started = time.perf_counter()
    build_report(engine, policy, iso_week(last_day - timedelta(days=21)), now, ranking)
    no_snapshots = time.perf_counter() - started
    engine.dispose()
    return {"generate_s": generated, "snapshot_day_s": snapshot_per_day, "report_s": statistics.median(times),
            "live_report_s": statistics.median(live), "no_snapshot_s": no_snapshots, "history_days": n / per_day,
            **{f"{name}_s": seconds for name, seconds in phases.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000", help="comma-separated ticket counts")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--per-day", type=int, default=20000)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(describe("sqlalchemy", "psycopg"))
    print(f"{'db':9} {'tickets':>11} {'history':>9} {'generate':>9} {'snapshot/day':>13} {'weekly report':>14} "
          f"{'this week':>10} {'no snapshots':>13}")
    for size in (int(s) for s in args.sizes.split(",")):
        for db in args.db.split(","):
            if db == "sqlite":
                with tempfile.TemporaryDirectory() as tmp:
                    result = run(f"sqlite:///{tmp}/bench.db", size, args.per_day)
            else:
                name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
                admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                try:
                    result = run(args.postgres_url.rsplit("/", 1)[0] + "/" + name, size, args.per_day)
                finally:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
            print(f"{db:9} {size:>11,} {result['history_days']:>7.0f} d {result['generate_s']:>8.1f}s "
                  f"{result['snapshot_day_s']:>12.2f}s {1000 * result['report_s']:>12.1f}ms "
                  f"{1000 * result['live_report_s']:>8.1f}ms {result['no_snapshot_s']:>12.1f}s", flush=True)
            # The machine may be shared: the load beside the figures, and where the loading time went.
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            spent = ", ".join(f"{k[:-2]} {v:.0f}s" for k, v in result.items()
                              if k in ("tickets_s", "events_s", "indexes_s", "analyze_s"))
            print(f"          load average {load}; generate = {spent}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
