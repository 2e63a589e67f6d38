"""Message in → reply sent: the real python-telegram-bot Application polling the test Bot API
server on 127.0.0.1 (tests/botapi_server.py), SQLite in a temporary HOTLINE_HOME.

    .venv/bin/python benchmarks/bot_latency.py [--messages 200]

Prints the machine, then p50/p95 of the time from an update entering the server's queue to the
bot's sendMessage reaching the server (NLU, conversation, database write-through included).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.conversation import Conversation  # noqa: E402
from bot.store import BotStore  # noqa: E402
from bot.telegram_adapter import build_application  # noqa: E402
from hotline.bootstrap import bootstrap  # noqa: E402
from hotline.settings import load_settings  # noqa: E402
from tests.botapi_server import BotApiServer, User  # noqa: E402

TEXTS = ["小区门口垃圾三天没人清运", "请问公租房怎么申请", "建议在人民公园门口增设公交站点", "/mytickets"]


async def measure(messages: int) -> list[float]:
    server = BotApiServer().start()
    home = tempfile.mkdtemp(prefix="hotline-bench-")
    app = bootstrap(load_settings({"HOTLINE_HOME": home}))
    application = build_application(Conversation(app), BotStore(app.engine), server.token, server.base_url)
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=10)
    latencies = []
    try:
        for i in range(messages):
            user = User(10_000 + i % 50)  # 50 citizens, so the flood limit is not what is measured
            before = len(server.sent(chat_id=user.id))
            started = time.perf_counter()
            server.text(user, TEXTS[i % len(TEXTS)] if i % 4 == 3 else f"{TEXTS[i % len(TEXTS)]}（{i}）")
            while len(server.sent(chat_id=user.id)) == before:
                await asyncio.sleep(0.001)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        server.stop()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpu, {platform.platform()}, "
          f"Python {platform.python_version()}")
    latencies = asyncio.run(measure(args.messages))
    q = statistics.quantiles(latencies, n=100)
    print(f"bot latency over {len(latencies)} messages (message in → reply sent): "
          f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, max {max(latencies):.1f} ms")


if __name__ == "__main__":
    main()
