"""2,000 recipients through the Bot API emulator with Telegram's limits and faults on: 40 people
blocked the bot, 2% of the answers fail (502/500 after the message was stored, 502 before,
undecodable bodies), a 429 storm mid-way, and the bot process (``xuatngu run``) is killed with
SIGKILL mid-broadcast and started again. Every recipient gets the message exactly once or is
reported unknown or blocked; nobody gets it twice (counted per chat at the emulator)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from emulator import Emulator, RateLimits
from emulator.faults import Faults
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models import Person
from storage.models.outbox import OutboxRow
from tests.broadcast_helpers import (
    Sessions,
    add_recipients,
    daytime,
    message_status,
    open_chats,
    queue,
    statuses,
    wait_status,
)
from tests.conftest import TEST_TOKEN
from tests.test_crash_updates import bot_process

RECIPIENTS = 2000
BLOCKED = 40
FIRST = 60_000
TEXT = "Thông báo: <b>ngày hội việc làm</b> thứ Bảy này"
SHOWN = "Thông báo: ngày hội việc làm thứ Bảy này"
RATE = 250  # messages per second (Telegram's 30 would make this test take 70 s)
LIMITS = RateLimits(global_capacity=300, global_rate=300)  # and 1 message/s per chat


def received(emu: Emulator) -> Counter[int]:
    """How many times each chat shows the broadcast (whatever the bot was answered)."""
    bot = emu.core.bot_for_token(TEST_TOKEN)
    return Counter(
        {
            chat_id: sum(
                rec.from_bot and rec.message.get("text") == SHOWN for rec in chat.messages.values()
            )
            for chat_id, chat in bot.chats.items()
        }
    )


async def in_flight(sessions: Sessions) -> Counter[str]:
    async with sessions() as s:
        rows = await s.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        return Counter(dict(rows.all()))


async def test_kill_faults_storm_and_blocked_users(any_db_url: str, tmp_path: Path) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    engine = create_engine(any_db_url)
    await upgrade_async(engine)
    sessions = create_sessionmaker(engine)
    emu = Emulator(LIMITS)
    await emu.start()
    chats = list(range(FIRST, FIRST + RECIPIENTS))
    blocked = set(rng.sample(chats, BLOCKED))
    try:
        # no service dates: the reminder scheduler of the same process has nothing to send
        await add_recipients(sessions, chats, discharge_month=None)
        open_chats(emu, chats)
        for chat_id in blocked:
            emu.core.bot_for_token(TEST_TOKEN).chats[chat_id].blocked = True
        emu.core.faults = Faults(rate=0.02, seed=seed)
        mid = await queue(sessions, TEXT)
        async with bot_process(any_db_url, emu.base_url, tmp_path / "bot.log") as bot:
            bot.env.update(SEND_RATE=str(RATE), **{k.upper(): v for k, v in daytime().items()})
            await bot.start()
            kill_at = rng.randrange(300, 1200)
            for _ in range(6000):
                if sum(received(emu).values()) >= kill_at:
                    break
                await asyncio.sleep(0.005)
            await bot.kill()
            at_kill = await in_flight(sessions)
            got = received(emu)
            claimed = await statuses(sessions, mid)
            assert at_kill["sending"] <= 100, f"seed {seed}: {at_kill}"
            assert not any(got[c] for c, st in claimed.items() if st == "claimed"), f"seed {seed}"
            await bot.start()
            storm_at = sum(got.values()) + 200
            for _ in range(6000):
                if sum(received(emu).values()) >= storm_at:
                    emu.core.faults.storm(2.0, retry_after=1)
                    break
                await asyncio.sleep(0.005)
            await wait_status(sessions, mid, "done", seconds=60)
            await bot.stop()
        status, got = await statuses(sessions, mid), received(emu)
        faults = emu.core.faults.counts
        assert faults.get("429_storm", 0) > 0, f"seed {seed}: no storm"
        assert len(status) == RECIPIENTS
        assert max(got.values()) == 1, f"seed {seed}: someone got it twice"
        said_blocked = {c for c, st in status.items() if st == "blocked"}
        # a blocked chat whose call was in flight at the kill, or failed first, is unknown
        assert said_blocked <= blocked and len(said_blocked) >= BLOCKED - 5, f"seed {seed}"
        assert all(status[c] in ("blocked", "unknown") for c in blocked), f"seed {seed}"
        for chat_id, st in status.items():
            if st == "sent":
                assert got[chat_id] == 1, f"seed {seed}: {chat_id} sent but not received"
            else:
                assert st in ("unknown", "blocked"), f"seed {seed}: {chat_id} is {st}"
        unknown = sum(st == "unknown" for st in status.values())
        lost_answers = sum(v for k, v in faults.items() if k != "429_storm")
        assert unknown <= lost_answers + at_kill["sending"], f"seed {seed}"
        assert await message_status(sessions, mid) == "done"
        async with sessions() as s:
            marked = set(
                await s.scalars(select(Person.chat_id).where(Person.blocked_at.is_not(None)))
            )
        assert marked == said_blocked
    finally:
        await emu.stop()
        await engine.dispose()
