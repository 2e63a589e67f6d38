"""What one `submit` costs: Python CPU, PostgreSQL backend CPU and statements a submission.

    .venv/bin/python benchmarks/submit_cost.py [--count 2000] [--postgres URL | --sqlite] [--show]

One caller in one process (keyword router, no encoder: the server writes vectors off the request),
600 submissions of warm-up first (citizens exist, caches are filled). CPU is read with
`time.process_time` and, for PostgreSQL on this machine, from /proc for the backends of the
benchmark's own database: figures a shared machine inflates far less than wall time. `--show` lists
the statements a submission runs (SQLAlchemy's `before_cursor_execute`). Wrap it in
`py-spy record --gil -f raw -o OUT -- …` to see where the CPU goes.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, text  # noqa: E402

from benchmarks.intake import MESSAGES  # noqa: E402
from benchmarks.web_chat import backends_of, cpu_seconds  # noqa: E402
from hotline.bootstrap import bootstrap, keyword_router  # noqa: E402
from hotline.settings import load_settings  # noqa: E402
from tickets.intake import CitizenRef, Submission  # noqa: E402


def measure(url: str, home: str, count: int, show: bool, database: str | None) -> None:
    app = bootstrap(load_settings({"HOTLINE_HOME": home, "DATABASE_URL": url}))
    app.__dict__["classifier"] = keyword_router(app.config)
    service = app.tickets
    service.embedder = None
    statements: collections.Counter[tuple[str, bool]] = collections.Counter()
    executed = [0]

    @event.listens_for(app.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, executemany: bool) -> None:
        executed[0] += 1
        if show:
            statements[(statement.split("\n")[0][:150], executemany)] += 1

    run = uuid.uuid4().hex[:6]

    def submit(i: int) -> None:
        service.submit(Submission("bench", f"{run}-{i}", CitizenRef("bench", f"c{i % 500}"), MESSAGES[i % len(MESSAGES)]))

    for i in range(600):
        submit(i)
    executed[0] = 0
    statements.clear()
    backends = cpu_seconds(backends_of(database)) if database else 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(600, 600 + count):
        submit(i)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    backends = cpu_seconds(backends_of(database)) - backends if database else 0.0
    print(f"{app.engine.dialect.name}: {count} submissions; a submission: Python CPU {cpu / count * 1000:.3f} ms"
          + (f", PostgreSQL backends {backends / count * 1000:.3f} ms" if database else "")
          + f", wall {wall / count * 1000:.3f} ms, {executed[0] / count:.2f} statements; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for (statement, many), n in statements.most_common():
        print(f"  {n / count:5.2f} {'executemany ' if many else ''}{statement}")
    app.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    parser.add_argument("--sqlite", action="store_true", help="measure SQLite instead")
    parser.add_argument("--show", action="store_true", help="list the statements a submission runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        if args.sqlite or not args.postgres:
            measure(f"sqlite:///{Path(home) / 'bench.db'}", home, args.count, args.show, None)
            return
        name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            measure(args.postgres.rsplit("/", 1)[0] + "/" + name, home, args.count, args.show, name)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
