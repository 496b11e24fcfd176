"""``/healthz`` (the process answers) and ``/readyz`` (the database, and Redis when
``REDIS_URL`` is set, answer within a short timeout): no login, nothing personal in the bodies."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

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
    checks = {"database": await _database_ok(request)}
    redis_url = request.app.state.settings.redis_url
    if redis_url is not None:
        checks["redis"] = await _redis_ok(redis_url)
    body = {name: "ok" if ok else "unreachable" for name, ok in checks.items()}
    if all(checks.values()):
        return JSONResponse({"status": "ready", **body})
    return JSONResponse({"status": "not ready", **body}, 503)


async def _database_ok(request: Request) -> bool:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with request.app.state.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError):
        return False
    return True


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
