"""Similar-message search (`TicketService.similar`) over a large city's open tickets, on PostgreSQL.

    .venv/bin/python benchmarks/similar.py [--sizes 20000,100000] [--searches 20]
                                           [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

The desk searches every call's text against the open tickets of the last 30 days (nlu.similar.days);
Beijing's volume gives tens of thousands of them. For each size, that many open tickets created over
the last 29 days are loaded with COPY into a scratch database `hotline_bench_similar`, each with a
stored 512-float vector (random unit vectors: the search's cost does not depend on what they mean),
and `similar(text=…)` is timed with the shipped encoder (USE, as config.yml; the query's own
encoding included) and with `encoder: none` (lexical; `--encoders use` leaves it out: it takes seconds a search). Prints the
first search (every vector read from the database), p50/p95 of the rest and the machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import yaml
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.sweep import after_copy, citizen_texts, load_average, machine  # noqa: E402
from hotline.bootstrap import bootstrap  # noqa: E402
from hotline.settings import DEFAULT_CONFIG, load_settings  # noqa: E402
from tickets.text import summarise  # noqa: E402

NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
COLUMNS = ("id", "number", "channel", "external_message_id", "citizen_id", "type", "department_code", "text",
           "summary", "entities", "nlu", "needs_review", "urgent", "confidential", "state", "created_at", "updated_at",
           "returned_count", "reopened_count")


def load(url: str, count: int, departments: list[str]) -> None:
    rng = random.Random(7)
    texts = citizen_texts()
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("INSERT INTO citizen (id, channel, external_id, created_at) VALUES (1, 'bench', 'c1', now())")
        with cursor.copy(f"COPY ticket ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i in range(1, count + 1):
                created = NOW - timedelta(hours=rng.uniform(1, 29 * 24))
                message = rng.choice(texts)
                copy.write_row((i, f"{created:%Y%m%d}-{i:06d}", "bench", f"m{i}", 1, "complaint", rng.choice(departments),
                                message, summarise(message), "[]", "{}", False, False, False,
                                rng.choice(("assigned", "accepted")), created, created, 0, 0))
        vectors = np.random.default_rng(7).standard_normal((count, 512)).astype("<f4")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with cursor.copy("COPY ticket_vector (ticket_id, encoder, vector, created_at) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i in range(count):
                copy.write_row((i + 1, "use", vectors[i].tobytes(), NOW))
        after_copy(raw)
    finally:
        raw.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--searches", type=int, default=20)
    parser.add_argument("--encoders", default="use,none", help="use: the shipped encoder; none: the lexical fallback")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    name = "hotline_bench_similar"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    url = args.postgres.rsplit("/", 1)[0] + "/" + name
    queries = [t for t in citizen_texts()[:: 97]][: args.searches]
    for size in (int(s) for s in args.sizes.split(",")):
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        with tempfile.TemporaryDirectory() as home:
            for encoder in ("use", *(["none"] if "none" in args.encoders.split(",") else [])):
                config = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
                config["nlu"]["encoder"] = encoder
                path = Path(home) / f"config-{encoder}.yml"
                path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
                env = {"HOTLINE_HOME": home, "DATABASE_URL": url, "HOTLINE_NLU_BACKEND": "keywords",
                       "HOTLINE_CONFIG": str(path)}
                app = bootstrap(load_settings(env), classifier="keywords")
                if encoder == "use":  # loads the tickets; measured only if asked for
                    started = time.perf_counter()
                    load(url, size, [d.code for d in app.config.departments])
                    print(f"{size:,} open tickets with vectors loaded in {time.perf_counter() - started:.1f} s")
                    if app.embedder is None:
                        print("  use: the encoder's package is not installed; skipped")
                        continue
                    app.embedder.encode(["预热"])
                    if "use" not in args.encoders.split(","):
                        continue
                times = []
                for query in queries:
                    started = time.perf_counter()
                    found = app.tickets.similar(text=query, limit=5, now=NOW)
                    times.append((time.perf_counter() - started) * 1000)
                    assert len(found) == 5
                first, rest = times[0], sorted(times[1:])
                p95 = rest[max(0, round(0.95 * len(rest)) - 1)]
                print(f"  {encoder}: first search {first:.0f} ms; the next {len(rest)}: p50 {statistics.median(rest):.0f} ms,"
                      f" p95 {p95:.0f} ms; load average {load_average()}")
                app.engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
