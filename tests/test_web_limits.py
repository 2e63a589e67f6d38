"""Limits that hold whatever cookie a client sends: chat messages per address and overall, photos,
wrong passwords; staff sessions that logout, a new password and time end (issue 15, items 4-6)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from PIL import Image

import hotline.passwords as passwords
from hotline.bootstrap import App, bootstrap
from hotline.housekeeping import expire_uploads
from hotline.limits import Limits, client_address
from hotline.passwords import hash_password
from tests.conftest import PROJECT, FakeClock, make_settings
from tests.factories import people, submit
from tickets.directory import Directory
from tickets.intake import CitizenRef, Submission
from web.app import create_app

PASSWORD = "limits-pass-123"


def configured(tmp_path: Path, database_url: str, clock: FakeClock, **web: Any) -> App:
    """The hotline with config.yml's `web` section changed as given (e.g. chat={...})."""
    data = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    for key, value in web.items():
        data["web"][key] = {**data["web"][key], **value} if isinstance(value, dict) else value
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return bootstrap(make_settings(tmp_path, database_url, HOTLINE_CONFIG=str(path)), clock=clock,
                     classifier="keywords")


@pytest.fixture
def strict(tmp_path: Path, database_url: str, clock: FakeClock) -> Iterator[App]:
    app = configured(tmp_path, database_url, clock, trusted_proxies=["10.0.0.1"],
                     chat={"per_address_per_minute": 3, "overall_per_minute": 8, "photos_per_address_per_hour": 2},
                     login={"failures_per_account": 3, "failures_per_address": 5, "idle_minutes": 30,
                            "absolute_hours": 2})
    yield app
    app.engine.dispose()


def browser(app: App, address: str = "198.51.100.7") -> TestClient:
    """A new browser (a new cookie) from `address`."""
    client = TestClient(create_app(app), client=(address, 40000))
    client.get("/chat")
    return client


def say(client: TestClient, text: str, ident: str, **headers: str) -> Any:
    return client.post("/chat/api/events", json={"id": ident, "kind": "text", "text": text}, headers=headers)


def test_a_new_cookie_per_message_does_not_escape_the_address_limit_shared_by_workers(strict: App) -> None:
    # Two app instances on one database stand for two worker processes.
    answers = [say(browser(strict), f"第{n}次反映：小区垃圾没人清运", f"m{n}") for n in range(3)]
    other_worker = bootstrap(strict.settings, clock=strict.clock, classifier="keywords")
    refused = say(browser(other_worker), "第4次反映：小区垃圾没人清运", "m4")
    other_worker.engine.dispose()
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert refused.status_code == 429 and refused.json()["keep_input"] is True
    assert "频繁" in refused.json()["detail"] and "110" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) > 0
    assert say(browser(strict, "198.51.100.8"), "另一个地址的市民反映噪音", "n1").status_code == 200


def test_the_overall_limit_holds_across_addresses_and_a_new_minute_opens_again(strict: App, clock: FakeClock) -> None:
    codes = [say(browser(strict, f"203.0.113.{n}"), "路灯坏了好几天了", f"o{n}").status_code for n in range(1, 6)]
    # 5 page loads' resumes are not counted; 5 messages and then a flood of button presses are.
    client = browser(strict, "203.0.113.99")
    presses = [client.post("/chat/api/events", json={"id": f"p{n}", "kind": "button", "data": "status:x"}).status_code
               for n in range(4)]
    assert codes == [200] * 5 and presses[:3] == [200] * 3 and presses[3] == 429
    assert "较多" in say(client, "路灯坏了", "o9").json()["detail"]
    clock.advance(minutes=1)
    assert say(client, "路灯坏了好几天了", "o10").status_code == 200


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(strict: App) -> None:
    assert client_address("10.0.0.1", "1.2.3.4, 198.51.100.20", ["10.0.0.1"]) == "198.51.100.20"
    assert client_address("10.0.0.1", "198.51.100.20, 10.0.0.1", ["10.0.0.1"]) == "198.51.100.20"
    assert client_address("198.51.100.5", "1.2.3.4", ["10.0.0.1"]) == "198.51.100.5"
    assert client_address("10.0.0.1", "not-an-address", ["10.0.0.1"]) == "10.0.0.1"
    # Behind the proxy, each citizen has their own limit; a direct client cannot pose as many.
    proxied = [say(browser(strict, "10.0.0.1"), "井盖丢了", f"x{n}", **{"X-Forwarded-For": f"198.51.100.{n}"})
               for n in range(1, 5)]
    assert [r.status_code for r in proxied] == [200] * 4
    spoofed = [say(browser(strict, "192.0.2.1"), "井盖丢了", f"y{n}", **{"X-Forwarded-For": f"192.0.2.{n + 10}"})
               for n in range(4)]
    assert [r.status_code for r in spoofed] == [200, 200, 200, 429]


def photo_bytes(kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


def uploads_of(app: App) -> list[Path]:
    root = app.settings.env.home / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_photos_over_the_limit_are_refused_before_anything_is_written(strict: App) -> None:
    codes = []
    for n in range(4):  # a new cookie each time: the limit is the address's
        client = browser(strict)
        files = {"photo": (f"p{n}.png", photo_bytes(), "image/png")}
        codes.append(client.post("/chat/api/photo", files=files).status_code)
    assert codes[:2] == [200, 200] and set(codes[2:]) == {429}
    assert len(uploads_of(strict)) == 2


def test_a_photo_must_be_a_real_image_and_not_empty(hotline: App) -> None:
    client = browser(hotline)
    empty = client.post("/chat/api/photo", files={"photo": ("a.jpg", b"", "image/jpeg")})
    fake = client.post("/chat/api/photo", files={"photo": ("a.jpg", b"<script>alert(1)</script>" * 40, "image/jpeg")})
    bmp = client.post("/chat/api/photo", files={"photo": ("a.png", photo_bytes("BMP"), "image/png")})
    assert empty.status_code == 400 and "空" in empty.json()["detail"]
    assert fake.status_code == 415 and "JPEG" in fake.json()["detail"]
    assert bmp.status_code == 415
    assert uploads_of(hotline) == []
    # The content decides the suffix, not what the browser claimed.
    sent = client.post("/chat/api/photo", files={"photo": ("a.gif", photo_bytes("JPEG"), "image/gif")})
    assert sent.status_code == 200 and [p.suffix for p in uploads_of(hotline)] == [".jpg"]


def test_uploads_expire_with_their_ticket_and_orphans_after_a_day(hotline: App, clock: FakeClock) -> None:
    home = hotline.settings.env.home
    chat = home / "uploads" / "chat"
    chat.mkdir(parents=True)
    names = {n: chat / f"{n}.png" for n in ("old", "recent", "orphan_old", "orphan_new", "open")}
    for path in names.values():
        path.write_bytes(photo_bytes())
    who = people(hotline)

    def ticket_with(name: str) -> str:
        ref = str(names[name].relative_to(home))
        sub = Submission("web", f"s-{name}", CitizenRef("web", name), "小区楼道灯坏了很久没人修", ticket_type="complaint",
                         department="housing", attachments=[("photo", ref)])
        return hotline.tickets.submit(sub).ticket.number

    def close(number: str) -> None:
        hotline.tickets.accept(number, who["housing_staff"])
        hotline.tickets.answer(number, who["housing_staff"], "已修好。")
        hotline.tickets.close(number, who["dispatcher"])

    close(ticket_with("old"))
    ticket_with("open")
    submit(hotline)
    clock.advance(days=100)
    close(ticket_with("recent"))
    clock.advance(days=81)  # "old" closed 181 days ago, "recent" 81
    hour_ago = (clock.now - timedelta(hours=1)).timestamp()
    two_days_ago = (clock.now - timedelta(days=2)).timestamp()
    for name in names:
        moment = hour_ago if name == "orphan_new" else two_days_ago
        os.utime(names[name], (moment, moment))
    done = expire_uploads(hotline.engine, home, clock.now, keep_days=180, orphan_hours=24)
    assert done == {"uploads_expired": 1, "uploads_orphaned": 1}
    assert sorted(p.stem for p in uploads_of(hotline)) == ["open", "orphan_new", "recent"]
    assert expire_uploads(hotline.engine, home, clock.now, 180, 24) == {"uploads_expired": 0, "uploads_orphaned": 0}


@pytest.fixture
def staff_account(strict: App) -> str:
    Directory(strict.engine).add("住建局小周", "staff", "housing", username="zhou", password_hash=hash_password(PASSWORD))
    return "zhou"


def log_in(app: App, username: str, password: str, address: str = "198.51.100.30") -> Any:
    client = TestClient(create_app(app), client=(address, 40000))
    return client, client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


def test_wrong_passwords_lock_the_account_for_a_while_even_for_the_right_one(strict: App, staff_account: str,
                                                                             clock: FakeClock) -> None:
    wrong = [log_in(strict, staff_account, f"guess-{n}", f"198.51.100.{n}")[1].status_code for n in range(3)]
    _, right = log_in(strict, staff_account, PASSWORD)
    assert wrong == [401, 401, 401]
    assert right.status_code == 429 and "分钟后再试" in right.text and "Retry-After" in right.headers
    clock.advance(minutes=15)
    assert log_in(strict, staff_account, PASSWORD)[1].status_code == 303


def test_one_address_trying_many_accounts_is_stopped(strict: App, staff_account: str) -> None:
    codes = [log_in(strict, f"nobody{n}", "whatever-pass")[1].status_code for n in range(5)]
    assert codes == [401] * 5
    assert log_in(strict, staff_account, PASSWORD)[1].status_code == 429
    assert log_in(strict, staff_account, PASSWORD, "198.51.100.31")[1].status_code == 303


def test_unknown_and_known_usernames_cost_the_same_password_check(strict: App, staff_account: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    checks: list[str] = []

    class Counting(PasswordHasher):  # the real argon2 hasher, counting its verifications
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checks.append(str(password))
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    log_in(strict, staff_account, "wrong-password-1")
    log_in(strict, "no-such-user", "wrong-password-2")
    assert checks == ["wrong-password-1", "wrong-password-2"]


def test_logout_and_a_new_password_end_the_session(strict: App, staff_account: str) -> None:
    client, response = log_in(strict, staff_account, PASSWORD)
    cookie = client.cookies.get("hotline_staff")
    assert response.status_code == 303 and client.get("/workbench").status_code == 200
    client.post("/logout")
    thief = TestClient(create_app(strict))
    thief.cookies.set("hotline_staff", cookie or "")
    assert thief.get("/workbench", follow_redirects=False).status_code == 303

    client, _ = log_in(strict, staff_account, PASSWORD)
    assert client.get("/workbench").status_code == 200
    Directory(strict.engine).set_password(staff_account, hash_password("a-new-password-9"))
    assert client.get("/workbench", follow_redirects=False).headers["location"].startswith("/login")


def test_sessions_expire_when_idle_and_after_their_absolute_lifetime(strict: App, staff_account: str,
                                                                     clock: FakeClock) -> None:
    client, _ = log_in(strict, staff_account, PASSWORD)
    clock.advance(minutes=31)
    assert client.get("/workbench", follow_redirects=False).status_code == 303
    client, _ = log_in(strict, staff_account, PASSWORD)
    for _ in range(4):  # used every 25 minutes: never idle, but 2 hours after the login it ends
        clock.advance(minutes=25)
        assert client.get("/workbench", follow_redirects=False).status_code == 200
    clock.advance(minutes=25)
    assert client.get("/workbench", follow_redirects=False).status_code == 303


def test_counters_are_atomic_per_window_and_pruned(hotline: App, clock: FakeClock) -> None:
    limits = Limits(hotline.engine)
    verdicts = [limits.hit("k", 2, 60, clock.now) for _ in range(3)]
    assert [v.count for v in verdicts] == [1, 2, 3] and [v.allowed for v in verdicts] == [True, True, False]
    assert limits.count("k", 60, clock.now).count == 3
    clock.advance(days=2)
    assert limits.prune(clock.now) == 1 and limits.count("k", 60, clock.now).count == 0
