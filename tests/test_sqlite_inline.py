"""The bot's inline SQLite engine: statements on the event loop, the write lock awaited."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from storage import people as repo
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async


async def test_inline_engine_reads_and_writes_like_aiosqlite(sqlite_url: str) -> None:
    side = create_engine(sqlite_url)
    await upgrade_async(side)
    bot = create_engine(sqlite_url, inline=True)
    try:
        assert bot.dialect.driver == "xuatngu_inline"
        sessions = create_sessionmaker(bot)
        async with sessions() as session:
            person = await repo.create_person(
                session, telegram_user_id=7, chat_id=7, language="vi", source="qr"
            )
            assert await repo.claim_update(session, bot_id=1, update_id=1)
            assert not await repo.claim_update(session, bot_id=1, update_id=1)
            await session.commit()
        async with create_sessionmaker(side)() as session:  # committed: the other engine sees it
            found = await repo.get_person(session, telegram_user_id=7)
            assert found is not None and found.id == person.id and found.source == "qr"
        async with sessions() as session:  # a rolled-back transaction leaves nothing
            await repo.create_person(
                session, telegram_user_id=8, chat_id=8, language="en", source=None
            )
            await session.rollback()
            assert await repo.get_person(session, telegram_user_id=8) is None
        async with bot.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await bot.dispose()
        await side.dispose()


async def test_waiting_for_the_write_lock_does_not_block_the_event_loop(sqlite_url: str) -> None:
    """Another connection holds the write lock: the bot's transaction waits on the loop.

    The other connection is aiosqlite, which needs the event loop to finish its own
    transaction: a wait that blocked the loop would deadlock until the lock timeout.
    """
    side = create_engine(sqlite_url)
    await upgrade_async(side)
    bot = create_engine(sqlite_url, inline=True)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    try:
        async with side.connect() as other:
            await other.execute(text("BEGIN IMMEDIATE"))  # the write lock, held
            await other.execute(
                text(
                    "INSERT INTO processed_updates (bot_id, update_id, processed_at)"
                    " VALUES (1, 98, '2026-01-01')"
                )
            )

            async def bot_write() -> float:
                started = time.monotonic()
                async with create_sessionmaker(bot)() as session:
                    assert await repo.claim_update(session, bot_id=1, update_id=99)
                    await session.commit()
                return time.monotonic() - started

            waiting = asyncio.create_task(bot_write())
            before = ticks
            await asyncio.sleep(0.3)
            assert not waiting.done(), "the bot wrote while another connection held the lock"
            assert ticks - before >= 20, "the event loop stalled while the bot waited"
            await other.commit()
        waited = await asyncio.wait_for(waiting, 5)
        assert waited >= 0.3
        async with create_sessionmaker(side)() as session:
            assert not await repo.claim_update(session, bot_id=1, update_id=98)
            assert not await repo.claim_update(session, bot_id=1, update_id=99)
    finally:
        tick_task.cancel()
        await bot.dispose()
        await side.dispose()


async def test_lock_wait_gives_up_with_sqlites_error(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import sqlite_inline

    monkeypatch.setattr(sqlite_inline, "LOCK_WAIT_SECONDS", 0.2)
    side = create_engine(sqlite_url)
    await upgrade_async(side)
    bot = create_engine(sqlite_url, inline=True)
    try:
        async with side.connect() as other:
            await other.execute(text("BEGIN IMMEDIATE"))
            async with create_sessionmaker(bot)() as session:
                with pytest.raises(Exception, match="locked"):
                    await repo.claim_update(session, bot_id=1, update_id=5)
            await other.rollback()
    finally:
        await bot.dispose()
        await side.dispose()
