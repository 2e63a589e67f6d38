"""CSRF tokens for staff forms: an HMAC of the login cookie under the hotline's secret key.

The login cookie is a random token of its server-side session (tickets/sessions.py), so each login
has its own CSRF token; nothing more is stored. A form whose token is missing or does not match the
session that posts it is refused."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from hotline.bootstrap import App
from web.auth import COOKIE, secret_key

FIELD = "csrf_token"


def token_for(request: Request) -> str:
    hotline: App = request.app.state.hotline
    session = request.cookies.get(COOKIE, "")
    key = hashlib.sha256(("csrf:" + secret_key(hotline)).encode()).digest()
    return hmac.new(key, session.encode(), hashlib.sha256).hexdigest()


def valid(request: Request, token: str | None) -> bool:
    return bool(token) and bool(request.cookies.get(COOKIE)) and hmac.compare_digest(token or "", token_for(request))
