"""Tickets per second through intake's `submit` (keyword router), and p50/p95 latency.

    .venv/bin/python benchmarks/intake.py [--count 3000] [--callers 1] [--postgres URL]

Prints, beside the rate, the CPU a ticket cost in the callers' processes (all their threads, the
vector writer's included) and in the database's PostgreSQL backends (read from /proc, so only for a
server on this machine): figures that other work on a shared machine inflates far less than the rate.

`--callers N` submits from N threads at once (each its own connection from the pool), as N web
workers' requests would; `--processes P` spreads them over P processes (N/P threads each), as
`hotline serve --workers P` does. The time runs from the moment every process is ready (models
and encoder loaded) until the last ticket and the last ticket's vector are written.

Runs on a fresh SQLite file, and on PostgreSQL when --postgres or TEST_POSTGRES_URL is given.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks.machine import describe  # noqa: E402
from benchmarks.web_chat import backends_of, cpu_seconds  # noqa: E402
from hotline.bootstrap import bootstrap, keyword_router  # noqa: E402
from hotline.settings import load_settings  # noqa: E402
from hotline.vector_writer import BackgroundVectors  # noqa: E402
from tickets.intake import CitizenRef, Submission  # noqa: E402

MESSAGES = [
    "小区物业乱收费，开发商交房后漏水不修，多次反映无果",
    "请问公租房怎么申请，需要准备什么材料？",
    "建议在人民路增设一条公交线路，方便居民出行",
    "夜里工地施工噪音扰民，严重影响休息",
    "单位拖欠工资三个月了，农民工讨薪无门",
    "请问异地就医备案在哪里办理",
]


def _submit_share(database_url: str, home: str, count: int, callers: int, share: int, shares: int,
                  run_id: str, barrier: Any, results: Any) -> None:
    """One process's callers: threads submitting tickets share, share + shares, … of the run."""
    settings = load_settings({"HOTLINE_HOME": home, "DATABASE_URL": database_url})
    app = bootstrap(settings, migrate=False)
    app.__dict__["classifier"] = keyword_router(app.config)
    if callers > 5:  # one connection per caller, as that many worker threads would hold
        app.engine.pool._max_overflow = callers  # type: ignore[attr-defined]
    service = app.tickets
    vectors = None
    if app.embedder is not None:  # as the server does: vectors written in batches off the request
        vectors = BackgroundVectors(app.engine, app.embedder)
        service.vector_sink = vectors
        app.embedder.encode(["预热"])  # load the encoder before the clock starts, as the server has it
    latencies: list[float] = []
    step = callers * shares

    def caller(index: int) -> None:
        for i in range(share + index * shares, count, step):
            submission = Submission("bench", f"{run_id}-{i}", CitizenRef("bench", f"c{i % 500}"),
                                    MESSAGES[i % len(MESSAGES)])
            t0 = time.perf_counter()
            service.submit(submission)
            latencies.append(time.perf_counter() - t0)

    barrier.wait()
    cpu = time.process_time()
    threads = [threading.Thread(target=caller, args=(index,)) for index in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if vectors is not None:  # the tickets' vectors are part of the work: counted in the time
        vectors.flush()
    results.put((latencies, time.process_time() - cpu))
    barrier.wait()  # the connections stay open until their backends' CPU is read
    app.engine.dispose()


def run(database_url: str, count: int, home: Path, callers: int = 1, processes: int = 1) -> None:
    app = bootstrap(load_settings({"HOTLINE_HOME": str(home), "DATABASE_URL": database_url}))  # migrated once
    backend = app.engine.dialect.name
    app.engine.dispose()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes + 1), context.Queue()
    per_process = max(1, callers // processes)
    run_id = uuid.uuid4().hex[:8]
    workers = [context.Process(target=_submit_share, args=(database_url, str(home), count, per_process, share,
                                                           processes, run_id, barrier, results))
               for share in range(processes)]
    for worker in workers:
        worker.start()
    database = database_url.rsplit("/", 1)[-1]
    barrier.wait()
    started = time.perf_counter()
    backends = cpu_seconds(backends_of(database)) if backend == "postgresql" else 0.0
    shares = [results.get() for _ in workers]
    elapsed = time.perf_counter() - started
    backends = cpu_seconds(backends_of(database)) - backends if backend == "postgresql" else 0.0
    latencies = sorted(x for share_latencies, _ in shares for x in share_latencies)
    callers_cpu = sum(cpu for _, cpu in shares)
    barrier.wait()
    for worker in workers:
        worker.join()
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95)] * 1000
    shape = f"{per_process * processes} callers" + (f" in {processes} processes" if processes > 1 else "")
    print(f"{backend:10s} {shape}: {len(latencies)} tickets in {elapsed:.2f} s = {len(latencies) / elapsed:,.0f} tickets/s; "
          f"latency p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    made = max(len(latencies), 1)
    print(f"{'':10s} CPU a ticket: callers' processes {callers_cpu / made * 1000:.2f} ms"
          + (f", PostgreSQL backends {backends / made * 1000:.2f} ms" if backend == "postgresql" else "")
          + f"; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--callers", type=int, default=1)
    parser.add_argument("--processes", type=int, default=1,
                        help="spread the callers over this many processes, as web workers are (PostgreSQL only)")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(describe("sqlalchemy", "sqlmodel", "psycopg"))
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.count, Path(tmp), args.callers)  # one process: one writer
        if args.postgres:
            name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                run(args.postgres.rsplit("/", 1)[0] + "/" + name, args.count, Path(tmp), args.callers, args.processes)
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print("postgresql skipped: pass --postgres URL or set TEST_POSTGRES_URL")


if __name__ == "__main__":
    main()
