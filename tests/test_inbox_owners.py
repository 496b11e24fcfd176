"""Several bot processes on one PostgreSQL database: a process finishes the updates another one
stored only once that one is gone (its lock free), never while it lives; the same with the
real processes killed: tests/test_production_layout.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from emulator import EmulatedUser
from handlers.polling import SWEEP, process_lock
from storage import updates as inbox_repo
from storage.db import create_engine
from storage.models import InboxUpdate
from tests.conftest import RunningBot, start_bot


def help_update(update_id: int, user: EmulatedUser, name: str) -> dict[str, Any]:
    """What Telegram sends when ``user`` types /help."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": name},
            "from": {"id": user.id, "is_bot": False, "first_name": name, "language_code": "vi"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


async def replies(user: EmulatedUser) -> int:
    return len(await user.history())


async def state(rb: RunningBot, update_id: int) -> str:
    async with rb.sessionmaker() as session:
        found = await session.scalar(
            select(InboxUpdate.state).where(InboxUpdate.update_id == update_id)
        )
    return str(found)


@pytest.mark.postgres
async def test_the_updates_of_a_gone_process_are_finished_a_living_ones_are_not(
    pg_url: str, emulator: str
) -> None:
    rb = await start_bot(pg_url, emulator)
    locks = create_engine(pg_url)
    alive = process_lock(locks, "a-living-process")
    try:
        assert rb.bot is not None
        living, gone = rb.emu.user(7201, first_name="Tùng"), rb.emu.user(7202, first_name="Vũ")
        for user in (living, gone):  # they started the chat long ago
            assert "Các lệnh:" in (await user.ask("/help")).text
        assert await alive.try_acquire()  # another bot process, alive, holds its lock
        async with rb.sessionmaker() as session:
            for update_id, user, owner in (
                (900_101, living, "a-living-process"),
                (900_102, gone, "a-gone-process"),
            ):
                await inbox_repo.store_updates(
                    session,
                    bot_id=rb.bot.id,
                    updates=[(update_id, help_update(update_id, user, "Tùng"))],
                    owner=owner,
                )
            await session.commit()
        # within a sweep or two the gone process's update is handled and answered once
        for _ in range(int(4 * SWEEP * 10)):
            if await replies(gone) > 1:
                break
            await asyncio.sleep(0.1)
        assert "Các lệnh:" in ((await gone.history())[-1].text or "")
        assert await state(rb, 900_102) == "replied"
        # the living one's is left to it: two more sweeps, nothing
        await asyncio.sleep(2 * SWEEP)
        assert await replies(living) == 1
        assert await state(rb, 900_101) == "received"
        # it dies (its lock is free): now it is finished here, once
        await alive.release()
        for _ in range(int(4 * SWEEP * 10)):
            if await replies(living) > 1:
                break
            await asyncio.sleep(0.1)
        await rb.emu.settle(idle=SWEEP)
        assert await replies(living) == 2 and await replies(gone) == 2
        assert await state(rb, 900_101) == "replied"
    finally:
        await alive.release()
        await locks.dispose()
        await rb.stop()
        await rb.emu.close()
