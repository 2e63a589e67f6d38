"""Where one web chat ticket's CPU goes, request by request: cProfile over N tickets filed through the
real app in-process (FastAPI's TestClient; no network), self time grouped by the code it is in.

    .venv/bin/python benchmarks/chat_profile.py [--tickets 100] [--home DIR] [--nlu builtin|keywords]
        [--postgres URL]

--home names a HOTLINE_HOME whose models/nlu holds a trained model (the default NLU).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

from benchmarks.machine import describe  # noqa: E402
from benchmarks.web_chat import TEXTS, buttons  # noqa: E402
from hotline.bootstrap import bootstrap  # noqa: E402
from hotline.settings import load_settings  # noqa: E402
from web.app import create_app  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
GROUPS = (  # first match wins: where a function's own time is counted
    ("thread hand-offs (asyncio.to_thread: wake-up socket, queues)",
     ("'send' of '_socket", "'recv' of '_socket", "SimpleQueue", "'release' of '_thread.lock")),
    ("NLU (nlu/, spaCy, jieba, sklearn, numpy)", ("/nlu/", "spacy", "jieba", "sklearn", "numpy", "thinc", "scipy")),
    ("ORM and driver (sqlalchemy, sqlmodel, sqlite3, psycopg)", ("sqlalchemy", "sqlmodel", "sqlite3", "psycopg")),
    ("chat log (web/chat_log.py)", ("chat_log",)),
    ("templates (jinja2)", ("jinja2",)),
    ("conversation (bot/)", ("/bot/",)),
    ("ticket domain (tickets/)", ("/tickets/",)),
    ("web framework (fastapi, starlette, pydantic, httpx, anyio)",
     ("fastapi", "starlette", "pydantic", "httpx", "anyio", "h11")),
    ("json", ("json",)),
)


WAITING = ("acquire", "wait", "select", "poll", "sleep", "join", "get")  # built-ins that wait, not compute


def group_of(filename: str, function: str) -> str | None:
    if filename == "~" and any(f"'{word}'" in function or function.endswith(f".{word}>") for word in WAITING):
        return None
    where = filename + " " + function
    for name, needles in GROUPS:
        if any(needle in where for needle in needles):
            return name
    return "other (stdlib, asyncio)"


class ThreadProfiles:
    """cProfile per thread: the app runs in TestClient's event-loop thread and asyncio.to_thread's
    workers, not in the thread that sends the requests."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []

    def _start(self, *_: Any) -> None:
        profile = cProfile.Profile()
        self.profiles.append(profile)
        profile.enable()

    def __enter__(self) -> ThreadProfiles:
        threading.setprofile(self._start)
        self._start()
        return self

    def __exit__(self, *_: Any) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]
        for profile in self.profiles:
            profile.disable()

    def stats(self) -> pstats.Stats:
        return pstats.Stats(*self.profiles)  # type: ignore[arg-type]


def file_ticket(client: TestClient, serial: int) -> list[tuple[str, float]]:
    timings = []

    def call(label: str, method: str, path: str, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        response = client.request(method, path, **kwargs)
        timings.append((label, time.perf_counter() - t0))
        return response.json() if label != "GET /chat" else None

    client.cookies.clear()
    call("GET /chat", "GET", "/chat")
    answer = call("message", "POST", "/chat/api/events", json={"id": "m", "kind": "text", "text": TEXTS[serial % 5]})
    for step in range(4):
        replies = answer["replies"]
        if any("工单号" in r["text"] for r in replies):
            break
        submit = next((d for r in replies for d in buttons(r) if d.startswith("c:submit:")), None)
        if submit is not None:
            answer = call("press 提交", "POST", "/chat/api/events",
                          json={"id": f"b{step}", "kind": "button", "data": submit})
        else:
            answer = call("answer a question", "POST", "/chat/api/events",
                          json={"id": f"t{step}", "kind": "text", "text": "跳过"})
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--nlu", default="builtin", choices=("builtin", "keywords"))
    parser.add_argument("--postgres", default=None, help="a database URL to use instead of a fresh SQLite file")
    args = parser.parse_args()
    print(describe("sqlalchemy", "fastapi", "spacy"))
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp) / "home"
        env = {"HOTLINE_HOME": str(home), "DATABASE_URL": args.postgres or f"sqlite:///{Path(tmp) / 'p.db'}",
               "HOTLINE_CONFIG": str(PROJECT / "config.yml"), "HOTLINE_NLU_BACKEND": args.nlu}
        app = bootstrap(load_settings(env))
        getattr(app.classifier, "load", lambda: None)()
        api = create_app(app)
        with TestClient(api) as client:
            for serial in range(5):
                file_ticket(client, serial)  # warm-up: first-use imports and caches
        by_request: dict[str, list[float]] = defaultdict(list)
        with ThreadProfiles() as profiles, TestClient(api) as client:
            started = time.perf_counter()
            for serial in range(args.tickets):
                for label, seconds in file_ticket(client, serial):
                    by_request[label].append(seconds)
            elapsed = time.perf_counter() - started
    print(f"{args.tickets} tickets ({args.nlu} NLU, {app.engine.dialect.name}), one client in-process: "
          f"{elapsed / args.tickets * 1000:.1f} ms a ticket under the profiler")
    print("per request (wall, under the profiler):")
    for label, values in by_request.items():
        print(f"  {label:20s} {len(values) / args.tickets:.1f} a ticket, {sum(values) / len(values) * 1000:7.1f} ms each")
    stats = profiles.stats()
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        group = group_of(filename, function)
        if group is not None:
            totals[group] += tottime
    whole = sum(totals.values())
    other = sorted(((tottime, f"{Path(filename).name}:{function}") for (filename, _l, function), (_c, _n, tottime, _t, _r)
                    in stats.stats.items() if group_of(filename, function) == "other (stdlib, asyncio)"),  # type: ignore[attr-defined]
                   reverse=True)[:8]
    print("largest in other: " + "; ".join(f"{name} {t / args.tickets * 1000:.1f} ms" for t, name in other))
    print("self time by where it is spent (all threads; waiting on locks, sockets and sleeps left out):")
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {name:58s} {seconds / args.tickets * 1000:6.1f} ms a ticket  {seconds / whole:5.1%}")


if __name__ == "__main__":
    main()
