"""The FastAPI application. Routes parse input, call one service function and render."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from hotline.bootstrap import App
from web import auth, chat, dashboard, desk, kb, open311, ops, public, workbench
from web.edge import Edge

STATIC = Path(__file__).parent / "static"


def create_app(hotline: App) -> FastAPI:
    # No /docs, /redoc or /openapi.json: the routes are the staff's pages, not a public API.
    api = FastAPI(title=f"{hotline.config.city.name} 12345 市民热线", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.hotline = hotline
    api.add_middleware(Edge)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    api.include_router(chat.router(hotline))
    api.include_router(auth.router(hotline))
    api.include_router(dashboard.router(hotline))
    api.include_router(public.router(hotline))
    api.include_router(kb.router(hotline))
    api.include_router(workbench.router(hotline))
    api.include_router(desk.router(hotline))
    if hotline.settings.env.wechat is not None:  # WECHAT_TOKEN turns the Official Account's /wechat on
        from web import wechat

        api.include_router(wechat.router(hotline))
    api.include_router(open311.router(hotline))
    api.include_router(ops.router(hotline))

    # A new user opens the bare address first (README points at /chat): send them to the citizen's page.
    @api.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/chat", status_code=303)

    @api.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400"})

    return api
