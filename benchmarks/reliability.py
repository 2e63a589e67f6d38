"""Acknowledged web-chat tickets lost or doubled while the server is killed and connections drop.

    .venv/bin/python benchmarks/reliability.py [--citizens 120] [--seconds 90] [--postgres URL]

A real `hotline serve` runs on 127.0.0.1 (a fresh SQLite file; then a fresh PostgreSQL database when
--postgres or TEST_POSTGRES_URL is given). Client threads play citizens: each opens the chat, writes
one complaint, answers the questions (跳过) and presses 提交, retrying as a person would (reload the
page and press what is live; write again if nothing was taken). Meanwhile the server is killed with
SIGKILL after every 15-30 acknowledged tickets, at a random moment, and restarted, and on PostgreSQL
the server's connections are terminated (pg_terminate_backend) every 1.5-3 s. A citizen is acknowledged when a reply showed them a ticket number. At the end:
lost = acknowledged numbers with no ticket; duplicates = tickets beyond the first of one citizen.
Bounded by --citizens and --seconds; loopback only.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks.machine import describe  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
HOTLINE = Path(sys.executable).parent / "hotline"
NUMBER = re.compile(r"工单号：(\S+)")
COMPLAINTS = [
    "幸福路12号小区垃圾很多天没人清运了，臭味很大",
    "人民路公交站的站牌坏了很久，晚上看不清",
    "光明小区3栋楼上装修噪音太大，周末一早就开始",
    "建设路和解放路路口的路灯不亮，晚上很危险",
]


@dataclass
class Tally:
    acknowledged: dict[str, str] = field(default_factory=dict)  # citizen cookie -> number shown
    gave_up: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # why requests failed: "unreachable", "500", …
    kills: int = 0
    terminations: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Server:
    """`hotline serve` as a subprocess that can be killed and started again."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([str(HOTLINE), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                            env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"hotline serve did not start; see {self.log}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def buttons(reply: dict[str, Any]) -> list[str]:
    return [b["data"] for row in reply.get("buttons", []) for b in row if b.get("live", True)]


class Citizen:
    """One browser. `file()` returns the number shown, or None when it gave up."""

    def __init__(self, base: str, complaint: str, tally: Tally) -> None:
        self.base, self.complaint, self.tally = base, complaint, tally
        self.http = httpx.Client(base_url=base, timeout=10)

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            why = "timeout"
        except httpx.HTTPError:
            why = "unreachable"
        else:
            if response.status_code == 200:
                return response.json()  # type: ignore[no-any-return]
            why = str(response.status_code)
        with self.tally.lock:
            self.tally.statuses[why] = self.tally.statuses.get(why, 0) + 1
        return None

    def event(self, **body: Any) -> dict[str, Any] | None:
        return self.call("POST", "/chat/api/events", json={"id": uuid.uuid4().hex[:12], **body})

    def file(self, deadline: float, tally: Tally) -> str | None:
        written = False
        while time.monotonic() < deadline:
            if "hotline_chat" not in self.http.cookies:
                try:
                    self.http.get("/chat")
                except httpx.HTTPError:
                    time.sleep(0.3)
                    continue
            # Reload: the conversation as the server kept it (a number shown, or the live buttons).
            restored = self.call("POST", "/chat/api/resume")
            if restored is None:
                tally.errors += 1
                time.sleep(0.3)
                continue
            for message in restored["messages"]:
                if message["from"] == "bot" and (found := NUMBER.search(message["text"])):
                    return found.group(1)
            pressed_on = {data: m["id"] for m in restored["messages"] for data in buttons(m)}
            live = list(pressed_on)
            step = next((d for d in live if d.startswith("c:submit:")), None) or \
                next((d for d in live if d.startswith("c:skip:")), None)
            if step is None and not written:
                answer = self.event(kind="text", text=self.complaint)
                written = answer is not None
            elif step is not None:
                answer = self.event(kind="button", data=step, message=pressed_on.get(step, ""))
            else:  # written, nothing live: the text was taken as a draft's addition or lost; write again
                answer = self.event(kind="text", text=self.complaint)
            if answer is None:
                tally.errors += 1
                time.sleep(0.2)
                continue
            for reply in answer["replies"]:
                if found := NUMBER.search(reply["text"]):
                    return found.group(1)
        return None


def chaos(server: Server, admin_url: str | None, database: str | None, stop: threading.Event, tally: Tally,
          seed: int) -> None:
    """Kill the server after every 15-30 acknowledged tickets, at a random moment (so the count of kills
    does not depend on how fast a loaded machine is), restarting it; on PostgreSQL also drop its
    connections every 1.5-3 s."""
    rng = random.Random(seed)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT") if admin_url else None
    next_kill = rng.randint(15, 30)
    while not stop.wait(rng.uniform(0.2, 0.6) if admin is None else rng.uniform(1.5, 3)):
        if admin is not None:
            with admin.connect() as connection:
                dropped = connection.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": database}).scalar_one()
            tally.terminations += int(dropped)
        if len(tally.acknowledged) >= next_kill:
            time.sleep(rng.uniform(0, 0.5))
            server.kill()
            tally.kills += 1
            server.start()
            next_kill = len(tally.acknowledged) + rng.randint(15, 30)
    if admin is not None:
        admin.dispose()


def count_tickets(database_url: str, acknowledged: dict[str, str]) -> tuple[int, int, int]:
    """(tickets, lost, duplicates) in the database after the run."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        numbers = set(connection.execute(text("SELECT number FROM ticket")).scalars())
        per_citizen = connection.execute(text(
            "SELECT count(*) FROM ticket GROUP BY citizen_id HAVING count(*) > 1")).scalars().all()
    engine.dispose()
    lost = sum(1 for number in acknowledged.values() if number not in numbers)
    return len(numbers), lost, sum(n - 1 for n in per_citizen)


def run(label: str, database_url: str, home: Path, citizens: int, seconds: float, threads: int,
        admin_url: str | None = None, database: str | None = None) -> None:
    config = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    # Every citizen here comes from 127.0.0.1: the address limits would stop the load itself.
    config["web"]["chat"].update(per_address_per_minute=100_000, overall_per_minute=100_000)
    config["scheduler"]["enabled"] = False
    (home / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "HOTLINE_HOME": str(home), "DATABASE_URL": database_url,
           "HOTLINE_CONFIG": str(home / "config.yml"), "HOTLINE_NLU_BACKEND": "keywords"}
    env.pop("TELEGRAM_TOKEN", None)
    server = Server(env, free_port(), home / "serve.log")
    server.start()
    tally, stop = Tally(), threading.Event()
    deadline = time.monotonic() + seconds
    queue = list(range(citizens))
    queue_lock = threading.Lock()

    def play() -> None:
        while True:
            with queue_lock:
                if not queue or time.monotonic() >= deadline:
                    return
                n = queue.pop()
            citizen = Citizen(f"http://127.0.0.1:{server.port}", COMPLAINTS[n % len(COMPLAINTS)] + f"（第{n}号）", tally)
            number = citizen.file(deadline, tally)
            with tally.lock:
                if number is None:
                    tally.gave_up += 1
                else:
                    tally.acknowledged[citizen.http.cookies.get("hotline_chat") or f"?{n}"] = number

    started = time.monotonic()
    troublemaker = threading.Thread(target=chaos, args=(server, admin_url, database, stop, tally, citizens))
    troublemaker.start()
    players = [threading.Thread(target=play) for _ in range(threads)]
    for player in players:
        player.start()
    for player in players:
        player.join()
    stop.set()
    troublemaker.join()
    elapsed = time.monotonic() - started
    server.stop()
    tickets, lost, duplicates = count_tickets(database_url, tally.acknowledged)
    print(f"{label:10s} {len(tally.acknowledged)} acknowledged of {citizens} citizens in {elapsed:.0f} s "
          f"({tally.gave_up} gave up or ran out of time); {tally.kills} kill -9, {tally.terminations} connections "
          f"terminated, {tally.errors} failed requests retried ({', '.join(f'{k} {v}' for k, v in sorted(tally.statuses.items()))}); tickets {tickets}: "
          f"LOST {lost}, DUPLICATES {duplicates}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=120)
    parser.add_argument("--seconds", type=float, default=90, help="per database, at most")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(describe("sqlalchemy", "psycopg", "uvicorn", "fastapi"))
    home = Path(tempfile.mkdtemp(prefix="hotline-reliability-"))
    try:
        (home / "sqlite").mkdir()
        run("sqlite", f"sqlite:///{home / 'sqlite' / 'hotline.db'}", home / "sqlite", args.citizens, args.seconds,
            args.threads)
        if args.postgres:
            name = f"hotline_rel_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            (home / "postgres").mkdir()
            url = args.postgres.rsplit("/", 1)[0] + "/" + name
            try:
                run("postgresql", url, home / "postgres", args.citizens, args.seconds, args.threads, args.postgres, name)
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        else:
            print("postgresql skipped: pass --postgres URL or set TEST_POSTGRES_URL")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
