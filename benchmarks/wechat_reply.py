"""Signed message in → passive reply out, against WeChat's 5 seconds: the real app served by uvicorn
on 127.0.0.1, messages signed as WeChat signs them and posted over HTTP, SQLite in HOTLINE_HOME.

    .venv/bin/python benchmarks/wechat_reply.py [--messages 200] [--backend builtin|keywords] [--home DIR]

The NLU model is loaded (trained first if HOTLINE_HOME has none, as `hotline serve` does) before the
clock starts. Prints the machine, then p50/p95/max of the passive reply's time and how many replies
missed the budget (bot.wechat_reply_seconds) and were sent as customer-service messages instead.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import describe  # noqa: E402
from bot.wechat_adapter import WORKING  # noqa: E402
from hotline.bootstrap import bootstrap  # noqa: E402
from hotline.settings import load_settings  # noqa: E402
from tests.botapi_server import free_port  # noqa: E402
from tests.wechat_api_server import APPID, SECRET, WeChatApiServer  # noqa: E402
from web.app import create_app  # noqa: E402

TOKEN = "benchtoken"
TEXTS = ["小区门口垃圾三天没人清运", "请问公租房怎么申请", "建议在人民公园门口增设公交站点", "我的工单", "跳过"]


def signed(msg_id: int) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def measure(messages: int, backend: str, home: str) -> tuple[list[float], int]:
    api = WeChatApiServer().start()
    settings = load_settings({"HOTLINE_HOME": home, "HOTLINE_NLU_BACKEND": backend, "WECHAT_TOKEN": TOKEN,
                              "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_API_BASE_URL": api.base_url})
    app = bootstrap(settings)
    load = getattr(app.classifier, "load", None)
    if load is not None:
        load()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    latencies, late = [], 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for i in range(messages):
                openid = f"oBench{i % 50:023d}"  # 50 citizens, so the flood limit is not what is measured
                text = TEXTS[i % len(TEXTS)]
                xml = (f"<xml><ToUserName>gh_bench</ToUserName><FromUserName>{openid}</FromUserName>"
                       f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
                       f"<Content>{text}（{i}）</Content><MsgId>{10**15 + i}</MsgId></xml>")
                started = time.perf_counter()
                response = client.post("/wechat", params=signed(i), content=xml.encode())
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                late += WORKING in response.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        api.stop()
    return latencies, late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--backend", choices=["builtin", "keywords"], default="builtin")
    parser.add_argument("--home", default=None, help="HOTLINE_HOME (default: a new temporary folder)")
    args = parser.parse_args()
    print(describe("wechatpy", "fastapi", "uvicorn", "spacy"))
    latencies, late = measure(args.messages, args.backend, args.home or tempfile.mkdtemp(prefix="hotline-bench-"))
    q = statistics.quantiles(latencies, n=100)
    print(f"WeChat passive reply over {len(latencies)} messages ({args.backend} NLU, signed POST → XML reply): "
          f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, max {max(latencies):.1f} ms; "
          f"{late} past the budget, sent as customer-service messages")


if __name__ == "__main__":
    main()
