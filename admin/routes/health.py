"""``/healthz`` (the process answers) and ``/readyz`` (the database answers within a short
timeout): no login, and nothing personal in either body."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
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
    """Ready when the database answers ``SELECT 1`` within ``READY_TIMEOUT_SECONDS``; 503
    with the failing check's name otherwise."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with request.app.state.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError):
        return JSONResponse({"status": "not ready", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ready", "database": "ok"})
