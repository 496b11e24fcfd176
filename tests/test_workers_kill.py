"""Two ``xuatngu worker`` processes on PostgreSQL against the Bot API emulator: one holds the
outbox's lock and sends a broadcast of some hundreds of recipients, the other waits. The
holder is killed (SIGKILL) mid-send; the other takes the outbox over and finishes the
broadcast. Nobody gets the message twice (counted per chat at the emulator); every recipient
is sent, or 'unknown' if its call was in flight at the kill; the waiting worker touched no row
before it held the lock."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator import Emulator, RateLimits
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from tests.broadcast_helpers import (
    add_recipients,
    daytime,
    message_status,
    open_chats,
    queue,
    statuses,
    wait_status,
)
from tests.conftest import TEST_TOKEN
from tests.test_broadcast_crash import in_flight
from tests.test_crash_updates import bot_process
from tests.workers_helpers import Worker, workers

RECIPIENTS = 800
FIRST = 80_000
TEXT = "Thông báo: <b>ngày hội việc làm</b> thứ Bảy này"
SHOWN = "Thông báo: ngày hội việc làm thứ Bảy này"
RATE = 250  # messages per second: the broadcast takes a few seconds
LIMITS = RateLimits(global_capacity=300, global_rate=300)


def received(emu: Emulator) -> Counter[int]:
    """How many times each chat shows the broadcast."""
    bot = emu.core.bot_for_token(TEST_TOKEN)
    return Counter(
        {
            chat_id: sum(
                rec.from_bot and rec.message.get("text") == SHOWN for rec in chat.messages.values()
            )
            for chat_id, chat in bot.chats.items()
        }
    )


async def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    for _ in range(int(seconds * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


@pytest.mark.postgres
async def test_holder_killed_mid_send_the_other_worker_takes_over(
    pg_url: str, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    engine = create_engine(pg_url)
    await upgrade_async(engine)
    sessions = create_sessionmaker(engine)
    emu = Emulator(LIMITS)
    await emu.start()
    chats = list(range(FIRST, FIRST + RECIPIENTS))
    try:
        await add_recipients(sessions, chats, discharge_month=None)
        open_chats(emu, chats)
        env = {"SEND_RATE": str(RATE), **{k.upper(): v for k, v in daytime().items()}}
        async with workers(2, pg_url, emu.base_url, tmp_path, **env) as both:
            await until(
                lambda: any(w.holds("sending") for w in both), 30, "no worker took the sending job"
            )
            holder: Worker = next(w for w in both if w.holds("sending"))
            other: Worker = next(w for w in both if w is not holder)
            assert not other.holds("sending")
            await until(lambda: "sending: another process runs it" in other.log(), 10, "no wait")
            mid = await queue(sessions, TEXT)
            kill_at = rng.randrange(100, 600)
            await until(
                lambda: sum(received(emu).values()) >= kill_at, 60, f"seed {seed}: not sending"
            )
            before = await in_flight(sessions)
            await holder.kill()
            at_kill = await in_flight(sessions)
            # the waiting worker ran no recovery: nothing was made 'unknown' before the kill
            assert before["unknown"] == 0, f"seed {seed}: {before}"
            assert 0 < at_kill["sent"] < RECIPIENTS, f"seed {seed}: {at_kill}"
            await until(lambda: other.holds("sending"), 30, f"seed {seed}: no takeover")
            await wait_status(sessions, mid, "done", seconds=60)
            for job in ("retention", "cards"):  # the killed one's jobs too
                await until(lambda job=job: other.holds(job), 30, f"{job} not taken over")
        status, got = await statuses(sessions, mid), received(emu)
        assert len(status) == RECIPIENTS
        assert max(got.values()) == 1, f"seed {seed}: someone got it twice"
        for chat_id, st in status.items():
            assert st in ("sent", "unknown"), f"seed {seed}: {chat_id} is {st}"
            if st == "sent":
                assert got[chat_id] == 1, f"seed {seed}: {chat_id} sent but not received"
        unknown = sum(st == "unknown" for st in status.values())
        # at most the calls in flight at the kill (some may be 'unknown' already when counted)
        assert unknown <= at_kill["sending"] + at_kill["unknown"], f"seed {seed}: {at_kill}"
        assert sum(got.values()) >= RECIPIENTS - unknown
        assert await message_status(sessions, mid) == "done"
        # workers only send: no polling and no Telegram set-up calls
        calls = emu.core.call_counts
        assert calls["sendMessage"] >= RECIPIENTS - unknown, calls
        assert not {"getUpdates", "deleteWebhook", "setMyCommands", "getMe"} & set(calls), calls
    finally:
        await emu.stop()
        await engine.dispose()


@pytest.mark.postgres
async def test_bot_without_background_leaves_sending_to_the_worker(
    pg_url: str, tmp_path: Path
) -> None:
    """``xuatngu run`` with ``BACKGROUND=off`` sends no broadcast; a worker started next to it
    sends it."""
    engine = create_engine(pg_url)
    await upgrade_async(engine)
    sessions = create_sessionmaker(engine)
    emu = Emulator(LIMITS)
    await emu.start()
    chats = list(range(FIRST, FIRST + 50))
    try:
        await add_recipients(sessions, chats, discharge_month=None)
        open_chats(emu, chats)
        env = {"SEND_RATE": str(RATE), **{k.upper(): v for k, v in daytime().items()}}
        async with bot_process(pg_url, emu.base_url, tmp_path / "bot.log") as bot:
            bot.env.update(BACKGROUND="off", **env)
            await bot.start()
            mid = await queue(sessions, TEXT)
            await asyncio.sleep(3)  # the outbox would have sent it by now
            assert sum(received(emu).values()) == 0
            assert await message_status(sessions, mid) == "scheduled"
            assert "lock held" not in bot.log_tail()
            async with workers(1, pg_url, emu.base_url, tmp_path, **env):
                await wait_status(sessions, mid, "done", seconds=30)
            await bot.stop()
        assert received(emu) == Counter(dict.fromkeys(chats, 1))
    finally:
        await emu.stop()
        await engine.dispose()
