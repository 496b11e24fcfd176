"""App factory: ``create_app(settings, sessionmaker, sender, conversations)``: admin pages and
the REST API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from admin.deps import LoginRequired, Refused, no_nul_bytes
from admin.routes import (
    accounts,
    alerts,
    api,
    broadcast_api,
    broadcasts,
    cards,
    catalog,
    exports,
    health,
    institutions,
    pages,
    people,
    questions,
    redemptions,
    settlements,
    support_rules,
)
from admin.web import render
from bot.config import Settings
from bot.people import Conversations
from bot.reporting import labels
from bot.sending import SenderProtocol
from storage.models.base import utcnow

STATIC_DIR = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# with Secure cookies the site is meant for https only: browsers keep to it for a year
# (sent over https only, as RFC 6797 asks)
HSTS = "max-age=31536000"
# on SIGTERM, requests still running get this long before they are cancelled (uvicorn's
# timeout_graceful_shutdown; without it one hung request keeps the server from stopping)
SHUTDOWN_GRACE_SECONDS = 3
ERROR_TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    422: "Bad request",
}


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    if request.app.state.settings.cookie_secure and request.url.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api"):
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    title = ERROR_TITLES.get(exc.status_code, "Error")
    message = exc.detail if isinstance(exc, Refused) else ""
    return render(
        request, "error.html", exc.status_code, code=exc.status_code, title=title, message=message
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def create_app(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    sender: SenderProtocol | None = None,
    conversations: Conversations | None = None,
) -> FastAPI:
    """The admin web app (pages, static files, REST API with OpenAPI at /api/openapi.json).

    ``sender``: the bot's sender, through which replies to questions reach people (without one,
    the questions inbox cannot reply). ``conversations``: the bot's FSM storage, through which
    an officer's erasure clears the person's conversation with the bot, as /delete_me does.
    """
    app = FastAPI(
        title="xuatngu admin API",
        version="1",
        description="Returnee survey data for officers and partner systems (bearer tokens).",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(no_nul_bytes)],
    )
    app.state.settings = settings
    app.state.sessionmaker = sessionmaker
    app.state.sender = sender
    app.state.conversations = conversations
    app.state.clock = utcnow
    app.state.sleep = asyncio.sleep  # the login throttle's pause (tests replace it, as the clock)
    app.state.dashboard_cache = {}
    app.middleware("http")(_security_headers)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for module in (
        pages,
        people,
        questions,
        exports,
        broadcasts,
        alerts,
        accounts,
        api,
        broadcast_api,
    ):
        app.include_router(module.router)
    app.include_router(institutions.router)  # month-18 lists for institutions
    app.include_router(catalog.router)
    app.include_router(settlements.router)  # training support (issue 13)
    app.include_router(support_rules.router)
    app.include_router(redemptions.router)  # institutions redeem training cards
    app.include_router(cards.router)  # training cards (issue 13)
    app.include_router(health.router)  # /healthz, /readyz (issue 12)
    _warm_labels()
    return app


def server_config(
    app: FastAPI,
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    log_level: str = "warning",
) -> uvicorn.Config:
    """How ``xuatngu run`` and ``xuatngu admin serve`` alike serve the admin app: the client
    address and scheme come from X-Forwarded-For/-Proto only when the peer is one of
    ``TRUSTED_PROXIES`` (uvicorn's proxy headers)."""
    return uvicorn.Config(
        app,
        host=host or settings.admin_host,
        port=settings.admin_port if port is None else port,
        log_level=log_level,
        lifespan="on",
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


def _warm_labels() -> None:
    """Load the trade, commune and survey names now, not in the first officer's request."""
    labels.communes()
    labels.trades()
    labels.option_label("branch", "army")
