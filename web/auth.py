"""Staff login for the dashboard: accounts that `hotline staff add --username … --password …`
creates, argon2 hashes (hotline.passwords), and a session cookie signed with HOTLINE_SECRET_KEY
(or a random key generated once and kept in HOTLINE_HOME when it is unset)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hotline.bootstrap import App
from hotline.passwords import verify_password
from tickets.directory import Directory
from tickets.models import Staff
from tickets.states import ROLE_LABELS_ZH, Role

COOKIE = "hotline_staff"
MAX_AGE = 12 * 3600
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


def secret_key(hotline: App) -> str:
    if hotline.settings.env.secret_key:
        return hotline.settings.env.secret_key
    path = hotline.settings.env.home / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _signer(hotline: App) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(hotline), salt="hotline-staff-login")


def current_staff(request: Request) -> Staff | None:
    hotline: App = request.app.state.hotline
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        value = _signer(hotline).loads(token, max_age=MAX_AGE)
        staff_id = int(str(value).split(".")[0])  # "ID.NONCE": each login is its own session
    except (BadSignature, ValueError):
        return None
    staff = Directory(hotline.engine).get(staff_id)
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

    @routes.post("/login")
    def login(username: str = Form(""), password: str = Form(""), next: str = Form("/workbench")) -> Response:
        staff = Directory(hotline.engine).by_username(username.strip())
        if staff is None or not verify_password(staff.password_hash, password):
            page = render("login.html", city=city, next=_safe_next(next), error="用户名或密码不正确")
            page.status_code = 401
            return page
        response = RedirectResponse(_safe_next(next), status_code=303)
        session = _signer(hotline).dumps(f"{staff.id}.{secrets.token_urlsafe(12)}")
        response.set_cookie(COOKIE, session, max_age=MAX_AGE, httponly=True, samesite="lax")
        return response

    @routes.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    return routes


def role_label(staff: Staff) -> str:
    return ROLE_LABELS_ZH.get(Role(staff.role), staff.role)
