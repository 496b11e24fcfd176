"""``/healthz`` (the process answers), ``/readyz`` (the database, and Redis when ``REDIS_URL``
is set, answer within a short timeout) and ``/metrics`` (Prometheus text, behind
``METRICS_TOKEN`` when set): no login, nothing personal in the bodies."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot import lag, metrics
from storage.models.base import utcnow

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
    set) within ``READY_TIMEOUT_SECONDS`` each; 503 naming the failing check otherwise."""
    checks = {"database": await _backlog(request) is not None}
    redis_url = request.app.state.settings.redis_url
    if redis_url is not None:
        checks["redis"] = await _redis_ok(redis_url)
    body = {name: "ok" if ok else "unreachable" for name, ok in checks.items()}
    if all(checks.values()):
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
                return await lag.measure(session, request.app.state.settings, utcnow())
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
