"""Once-only jobs: PostgreSQL advisory locks (``storage/locks.py``) and the loop that waits for
one (``bot/singleton.py``). Two holders, only one gets the lock; the second gets it once the
first's connection dies (a crash) or it gives it back; on SQLite every holder has it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.singleton import run_once_only
from storage.db import create_engine
from storage.locks import AdvisoryLock


@pytest.fixture
async def engines(pg_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one database, as two processes would have."""
    first, second = create_engine(pg_url), create_engine(pg_url)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


@pytest.mark.postgres
async def test_one_holder_then_the_other_after_a_crash(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first = AdvisoryLock(engines[0], "xuatngu:outbox:1")
    second = AdvisoryLock(engines[1], "xuatngu:outbox:1")
    other_bot = AdvisoryLock(engines[1], "xuatngu:outbox:2")
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert not await second.try_acquire()  # asking again changes nothing
        assert await other_bot.try_acquire()  # another bot's job is another lock
        assert first.conn is not None
        await first.conn.invalidate()  # the holder's connection dies, no unlock sent
        for _ in range(50):
            if await second.try_acquire():
                break
            await asyncio.sleep(0.1)
        assert second.held
        await first.release()
        assert not await first.try_acquire()
        await second.release()  # given back: the first may take it
        assert await first.try_acquire()
    finally:
        for lock in (first, second, other_bot):
            await lock.release()


def job(log: list[str], name: str) -> Callable[[asyncio.Event], Awaitable[None]]:
    async def loop(stop: asyncio.Event) -> None:
        log.append(f"{name} starts")
        await stop.wait()
        log.append(f"{name} ends")

    return loop


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


@pytest.mark.postgres
async def test_the_waiting_process_takes_the_job_over(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    log: list[str] = []
    stops = asyncio.Event(), asyncio.Event()
    runs = [
        asyncio.create_task(run_once_only(engine, "outbox", 7, stop, job(log, name), retry=0.1))
        for engine, stop, name in zip(engines, stops, ("a", "b"), strict=True)
    ]
    async with AsyncExitStack() as stack:
        for run in runs:
            stack.callback(run.cancel)
        for _ in range(50):
            if log:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the other one tries five times meanwhile
        assert log in (["a starts"], ["b starts"]), log
        holder = 0 if log == ["a starts"] else 1
        stops[holder].set()
        await asyncio.wait_for(runs[holder], 5)
        for _ in range(50):
            if len(log) == 3:
                break
            await asyncio.sleep(0.05)
        other = "ab"[1 - holder]
        assert log[1:] == [f"{'ab'[holder]} ends", f"{other} starts"], log
        stops[1 - holder].set()
        await asyncio.wait_for(runs[1 - holder], 5)


@pytest.mark.postgres
async def test_a_holder_whose_lock_connection_dies_stops_and_waits_again(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """The lock's connection is cut (as a proxy or idle timeout would): the job stops there and,
    the lock being free, starts again once this process holds it again."""
    log: list[str] = []
    stop = asyncio.Event()
    run = asyncio.create_task(run_once_only(engines[0], "cards", 7, stop, job(log, "a"), retry=0.1))
    try:
        await until(lambda: log == ["a starts"], "the job did not start")
        async with engines[1].connect() as conn:
            cut = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND granted AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
        assert cut == 1
        await until(lambda: len(log) == 3, f"no restart: {log}")
        assert log == ["a starts", "a ends", "a starts"]
        stop.set()
        await asyncio.wait_for(run, 5)
        assert log[-1] == "a ends"
    finally:
        run.cancel()


async def test_sqlite_every_holder_has_it(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    first, second = (
        AdvisoryLock(engine, "xuatngu:outbox:1"),
        AdvisoryLock(engine, "xuatngu:outbox:1"),
    )
    try:
        assert await first.try_acquire() and await second.try_acquire()
        assert first.conn is None and second.conn is None
    finally:
        await engine.dispose()
