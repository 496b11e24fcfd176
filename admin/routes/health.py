"""``/healthz`` (the process answers), ``/readyz`` (the database, and Redis when ``REDIS_URL``
is set, answer within a short timeout; the outbox and reminders are not behind) and ``/metrics``
(Prometheus text, behind ``METRICS_TOKEN`` when set): no login, nothing personal in the bodies."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from admin.deps import now
from bot import lag, metrics
from bot.config import Settings

router = APIRouter()

# a database that takes longer than this to answer ``SELECT 1`` is not ready
READY_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", include_in_schema=False)
async def healthz() -> JSONResponse:
    """Alive: answered without touching the database."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers ``SELECT 1`` (and Redis ``PING`` when ``REDIS_URL`` is
    set) within ``READY_TIMEOUT_SECONDS`` each, and no due outbox message or reminder has
    waited longer than ``READY_MAX_LAG_SECONDS`` (``bot/lag.py``); 503 naming the failing
    check otherwise."""
    settings: Settings = request.app.state.settings
    backlog = await _backlog(request)
    body = {"database": "ok" if backlog is not None else "unreachable"}
    if settings.redis_url is not None:
        body["redis"] = "ok" if await _redis_ok(settings.redis_url) else "unreachable"
    if backlog is not None:
        limit = settings.ready_max_lag_seconds
        body["outbox"] = "ok" if backlog.outbox_lag <= limit else "lagging"
        body["reminders"] = "ok" if backlog.reminder_lag <= limit else "lagging"
    if all(value == "ok" for value in body.values()):
        return JSONResponse({"status": "ready", **body})
    return JSONResponse({"status": "not ready", **body}, 503)


@router.get("/metrics", include_in_schema=False)
async def metrics_page(request: Request) -> Response:
    """Every metric of ``bot/metrics.py``, the backlog gauges measured now; 401 without the
    bearer token when ``METRICS_TOKEN`` is set."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        expected = f"Bearer {token.get_secret_value()}".encode()
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    backlog = await _backlog(request)
    if backlog is not None:  # the database is gone: the gauges keep their last values
        metrics.refresh_backlog(backlog)
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


async def _backlog(request: Request) -> lag.Backlog | None:
    """The backlog measured within ``READY_TIMEOUT_SECONDS``; None when the database does not
    answer."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with request.app.state.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
                return await lag.measure(session, request.app.state.settings, now(request))
    except (SQLAlchemyError, OSError, TimeoutError):
        return None


async def _redis_ok(url: str) -> bool:
    client = Redis.from_url(url, socket_connect_timeout=READY_TIMEOUT_SECONDS)
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await client.ping()
    except (RedisError, OSError, TimeoutError):
        return False
    finally:
        await client.aclose()
    return True
