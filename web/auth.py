"""Staff login for the dashboard: accounts that `hotline staff add --username … --password …`
creates, argon2 hashes (hotline.passwords), and a server-side session (tickets.sessions) whose
random token is the cookie. Wrong passwords are limited per account and per address (config.yml
`web.login`), counted in the database so that every worker shares the count; an unknown username
costs the same argon2 verification as a known one, so timing does not tell which exist.
HOTLINE_SECRET_KEY (or a random key kept in HOTLINE_HOME) keys the CSRF tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hotline.bootstrap import App
from hotline.limits import Limits
from hotline.passwords import verify_dummy, verify_password
from hotline.reports import CHANNEL_LABELS, channel_label
from tickets.directory import Directory
from tickets.models import Staff
from tickets.sessions import Sessions
from tickets.states import ROLE_LABELS_ZH, Role
from web.edge import address_of

COOKIE = "hotline_staff"
TOO_MANY = "登录失败次数过多，为保护账号安全，请 {minutes} 分钟后再试。"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
TEMPLATES.globals["channel_label"] = channel_label  # staff read 网页/微信/电话, not the channel's code
TEMPLATES.globals["channels"] = [(c, CHANNEL_LABELS[c]) for c in ("phone", "web", "wechat", "telegram", "open311", "cli")]


def secret_key(hotline: App) -> str:
    if hotline.settings.env.secret_key:
        return hotline.settings.env.secret_key
    path = hotline.settings.env.home / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def sessions(hotline: App) -> Sessions:
    login = hotline.config.web.login
    return Sessions(hotline.engine, timedelta(minutes=login.idle_minutes), timedelta(hours=login.absolute_hours))


def current_staff(request: Request) -> Staff | None:
    hotline: App = request.app.state.hotline
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    staff_id = sessions(hotline).staff_of(token, hotline.now())
    staff = Directory(hotline.engine).get(staff_id) if staff_id is not None else None
    return staff if staff is not None and staff.active else None


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def render(name: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context))


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/workbench"


def router(hotline: App) -> APIRouter:
    routes = APIRouter()
    city = hotline.config.city.name

    @routes.get("/login", response_class=HTMLResponse)
    def login_page(next: str | None = None) -> HTMLResponse:
        return render("login.html", city=city, next=_safe_next(next), error=None)

    limits = Limits(hotline.engine)
    rules = hotline.config.web.login
    window = rules.window_minutes * 60

    @routes.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              next: str = Form("/workbench")) -> Response:
        now, name = hotline.now(), username.strip()[:60]
        keys = [(f"login:user:{name.lower()}", rules.failures_per_account),
                (f"login:addr:{address_of(request)}", rules.failures_per_address)]
        blocked = [v for key, most in keys if (v := limits.count(key, window, now)).count >= most]
        staff = Directory(hotline.engine).by_username(name) if name else None
        # The hash is verified (or a dummy one) even when blocked or unknown: the answer takes as long.
        right = verify_password(staff.password_hash, password) if staff is not None else verify_dummy(password)
        if blocked:
            minutes = max(1, -(-max(v.retry_after for v in blocked) // 60))
            page = render("login.html", city=city, next=_safe_next(next), error=TOO_MANY.format(minutes=minutes))
            page.status_code = 429
            page.headers["Retry-After"] = str(max(v.retry_after for v in blocked))
            return page
        if staff is None or not right:
            for key, most in keys:
                limits.hit(key, most, window, now)
            page = render("login.html", city=city, next=_safe_next(next), error="用户名或密码不正确")
            page.status_code = 401
            return page
        assert staff.id is not None
        response = RedirectResponse(_safe_next(next), status_code=303)
        token = sessions(hotline).open(staff.id, now)
        response.set_cookie(COOKIE, token, max_age=rules.absolute_hours * 3600, httponly=True, samesite="lax")
        return response

    @routes.post("/logout")
    def logout(request: Request) -> Response:
        token = request.cookies.get(COOKIE)
        if token:
            sessions(hotline).close(token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    return routes


def role_label(staff: Staff) -> str:
    return ROLE_LABELS_ZH.get(Role(staff.role), staff.role)
