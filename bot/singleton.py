"""Once-only background jobs: among every process of one bot, one runs each job at a time.

:func:`run_once_only` waits for the job's PostgreSQL advisory lock (``storage/locks.py``; the
key is the job's name and the bot's id), trying again every :data:`RETRY` seconds until it has
it or ``stop`` is set, runs the job's loop while holding it and gives it back when the loop
ends. A holder that crashes loses the lock with its connection, and a waiting process takes the
job over within :data:`RETRY` seconds; a holder whose lock connection dies stops the job (after
the step it is in) and waits again. On SQLite the lock is always free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.locks import AdvisoryLock

log = logging.getLogger(__name__)

RETRY = 3.0  # seconds between tries while another process holds the job


async def run_once_only(
    engine: AsyncEngine,
    job: str,
    bot_id: int,
    stop: asyncio.Event,
    loop: Callable[[asyncio.Event], Awaitable[None]],
    *,
    retry: float = RETRY,
) -> None:
    """Run ``loop(job_stop)`` while this process holds the lock of ``job`` for bot ``bot_id``.

    ``job_stop`` is set by ``stop`` or when the lock's connection stops answering (checked every
    ``retry`` seconds): the loop then ends, and this process waits for the lock again."""
    while not stop.is_set():
        lock = AdvisoryLock(engine, f"xuatngu:{job}:{bot_id}")
        try:
            if await _acquire(lock, job, stop, retry):
                job_stop = asyncio.Event()
                watch = asyncio.create_task(_watch(lock, job, stop, job_stop, retry))
                try:
                    await loop(job_stop)
                finally:
                    watch.cancel()
        finally:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await lock.release()


async def _acquire(lock: AdvisoryLock, job: str, stop: asyncio.Event, retry: float) -> bool:
    """Until ``lock`` is held (True) or ``stop`` is set (False)."""
    said = False
    while not stop.is_set():
        try:
            if await lock.try_acquire():
                if lock.shared:
                    log.info("%s: lock held, running in this process", job)
                return True
        except (SQLAlchemyError, OSError):
            log.exception("%s: cannot ask for its lock; trying again in %ss", job, retry)
            with contextlib.suppress(SQLAlchemyError, OSError):
                await lock.release()
        if not said:
            log.info("%s: another process runs it; this one waits", job)
            said = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), retry)
    return False


async def _watch(
    lock: AdvisoryLock, job: str, stop: asyncio.Event, job_stop: asyncio.Event, retry: float
) -> None:
    """Set ``job_stop`` when ``stop`` is set or the lock is lost."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), retry)
        if stop.is_set():
            break
        try:
            await lock.check()
        except (SQLAlchemyError, OSError):
            log.error("%s: lost its lock (the connection died); stopping the job here", job)
            break
    job_stop.set()
