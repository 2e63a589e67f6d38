"""The web chat end to end: `hotline serve` in its own processes, N concurrent clients each filing
tickets as a citizen does (open /chat, write, answer the place question if asked, press 提交).
Prints tickets/s and the p50/p95 of one whole ticket and of one request.

    .venv/bin/python benchmarks/web_chat.py [--clients 20] [--tickets 200] [--workers 1]
        [--postgres URL] [--home DIR] [--nlu builtin|keywords]

SQLite unless --postgres (a database of its own, dropped afterwards). The built-in NLU model is the
hotline's default: --home names a HOTLINE_HOME whose models/nlu holds a trained model (else one is
trained first, about a minute). The flood limit is raised for the run (every client is many citizens).
The load generator runs on the same machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import backends_of, cpu_seconds, describe  # noqa: E402
from tests.botapi_server import free_port  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
HOTLINE = str(PROJECT / ".venv" / "bin" / "hotline")
TEXTS = [
    "幸福路12号小区门口垃圾三天没人清运，臭味很大",
    "人民路和解放路路口的红绿灯坏了，早高峰很危险",
    "光明小区5栋楼上天天漏水，物业一直不管",
    "建设路工地夜里施工噪音扰民，严重影响休息",
    "东风路自来水管爆裂，路面积水严重",
]


def buttons(reply: dict[str, Any]) -> list[str]:
    return [b["data"] for row in reply.get("buttons", []) for b in row]


async def one_ticket(client: httpx.AsyncClient, serial: int, requests: list[float]) -> bool:
    """One citizen: a new chat session (no cookie yet). A new httpx client per ticket cost the
    generator more CPU than the server; one client per simulated browser is reused."""
    client.cookies.clear()

    async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        t0 = time.perf_counter()
        response = await client.request(method, path, **kwargs)
        requests.append(time.perf_counter() - t0)
        response.raise_for_status()
        return response

    await call("GET", "/chat")
    text = TEXTS[serial % len(TEXTS)]
    answer = (await call("POST", "/chat/api/events", json={"id": "m1", "kind": "text", "text": text})).json()
    for step in range(4):
        replies = answer.get("replies", [])
        if any("工单号" in r["text"] for r in replies):
            return True
        submit = next((d for r in replies for d in buttons(r) if d.startswith("c:submit:")), None)
        event: dict[str, Any]
        if submit is not None:
            event = {"id": f"b{step}", "kind": "button", "data": submit}
        else:
            event = {"id": f"t{step}", "kind": "text", "text": "跳过"}  # the place or phone question
        answer = (await call("POST", "/chat/api/events", json=event)).json()
    return any("工单号" in r["text"] for r in answer.get("replies", []))


async def load(base: str, clients: int, tickets: int) -> tuple[float, list[float], list[float], int]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for serial in range(tickets):
        queue.put_nowait(serial)
    whole: list[float] = []
    requests: list[float] = []
    made = 0

    async def client() -> None:
        nonlocal made
        # No kept-alive connections: each request connects anew, as many citizens' browsers spread
        # over the workers; 20 kept-alive connections stuck to whichever worker accepted them (one
        # worker was seen at 85% of a core, the other at 13%).
        async with httpx.AsyncClient(base_url=base, timeout=60,
                                     limits=httpx.Limits(max_keepalive_connections=0)) as http:
            while not queue.empty():
                serial = queue.get_nowait()
                t0 = time.perf_counter()
                if await one_ticket(http, serial, requests):
                    made += 1
                whole.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, whole, requests, made


def server_tree(root: int) -> Any:
    """The serve process and its workers (uvicorn's supervisor spawns them as children)."""
    def match(pid: int, ppid: int, _: str) -> bool:
        return pid == root or ppid == root
    return match


def settle(root: int, quiet: float = 0.05, limit: float = 120) -> None:
    """Wait until the server is idle: its start-up work (the scheduler's catch-up jobs, the weekly
    charts, the sentence encoder loading) done, so that the run measures tickets only."""
    deadline, last = time.monotonic() + limit, cpu_seconds(server_tree(root))
    while time.monotonic() < deadline:
        time.sleep(1)
        now = cpu_seconds(server_tree(root))
        if now - last < quiet:
            return
        last = now


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def serve(env: dict[str, str], workers: int, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen([HOTLINE, "serve", "--port", str(port), "--workers", str(workers)], env=env, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"hotline serve did not become healthy (exit {process.poll()})")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", default=None, help="PostgreSQL admin URL (default: SQLite)")
    parser.add_argument("--home", type=Path, default=None, help="a HOTLINE_HOME with a trained models/nlu")
    parser.add_argument("--nlu", default="builtin", choices=("builtin", "keywords"))
    args = parser.parse_args()
    print(describe("sqlalchemy", "psycopg", "uvicorn", "fastapi"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        home = args.home or work / "home"
        data = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
        data["bot"]["flood_limit_per_minute"] = 1_000_000
        # The load comes from one address: the per-address and overall limits are set for the test.
        data.setdefault("web", {}).setdefault("chat", {}).update(per_address_per_minute=1_000_000,
                                                                   overall_per_minute=1_000_000)
        data["nlu"]["backend"] = args.nlu
        config = work / "config.yml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        env = {**os.environ, "HOTLINE_HOME": str(home), "HOTLINE_CONFIG": str(config)}
        for name in ("TELEGRAM_TOKEN", "HOTLINE_NLU_BACKEND", "PROMETHEUS_MULTIPROC_DIR"):
            env.pop(name, None)
        database = None
        if args.postgres:
            from sqlalchemy import create_engine, text

            database = f"hotline_chatbench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{database}"'))
            env["DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + "/" + database
        else:
            env["DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"
        process, base = serve(env, args.workers, work)
        try:
            asyncio.run(load(base, args.clients, min(args.clients, 10)))  # warm-up
            settle(process.pid)
            watch = {"server": server_tree(process.pid)}
            if database is not None:
                watch["PostgreSQL"] = backends_of(database)
            before = {name: cpu_seconds(match) for name, match in watch.items()}
            own = time.process_time()
            elapsed, whole, requests, made = asyncio.run(load(base, args.clients, args.tickets))
            costs = {name: cpu_seconds(match) - before[name] for name, match in watch.items()}
            costs["load generator"] = time.process_time() - own
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
            if database is not None:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        backend = "postgresql" if args.postgres else "sqlite"
        print(f"{backend} {args.workers} worker(s), {args.nlu} NLU, {args.clients} clients: {made}/{args.tickets} "
              f"tickets in {elapsed:.1f} s = {made / elapsed:.1f} tickets/s; ticket p50 {p(whole, .5):.0f} ms "
              f"p95 {p(whole, .95):.0f} ms; request p50 {statistics.median(requests) * 1000:.0f} ms "
              f"p95 {p(requests, .95):.0f} ms ({len(requests)} requests)")
        print("CPU a ticket: " + ", ".join(f"{name} {seconds / max(made, 1) * 1000:.1f} ms" for name, seconds in costs.items())
              + f" (2 cores give {2000 / max(sum(costs.values()) / max(made, 1) * 1000, 0.001):.0f} tickets/s at most)")


if __name__ == "__main__":
    main()
