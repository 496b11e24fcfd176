"""The scheduler killed with SIGKILL at random instants loses nothing it had not tried and sends
nothing twice: ``xuatngu scheduler tick`` runs as its own process against the Bot API emulator,
which counts what each chat received."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.timeline import tick
from bot.timeline.tick import SEND_BATCH
from emulator import Emulator, EmulatorClient, RateLimits
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models import Person
from storage.models.timeline import ScheduledSend
from tests.conftest import TEST_TOKEN
from tests.test_timeline_support import FakeSender, at, make_settings

ROOT = Path(__file__).resolve().parent.parent
DUE = 1500
FIRST_CHAT = 50_000
START = datetime(2027, 5, 1, 9, 0)  # local time: every invite is due
KILLS = 2
RATE = 100  # messages per second; the sender also lets its first RATE messages go at once
Sessions = async_sessionmaker[AsyncSession]


async def add_people(sessions: Sessions) -> None:
    """DUE people whose survey invite is due at START; their rows made by a quiet early pass."""
    async with sessions() as s:
        s.add_all(
            Person(
                telegram_user_id=FIRST_CHAT + i,
                chat_id=FIRST_CHAT + i,
                language="vi",
                tg_first_name="Minh",
                enlistment_month=date(2026, 2, 1),
                discharge_month=date(2028, 2, 1),
            )
            for i in range(DUE)
        )
        await s.commit()
    early = await tick(sessions, FakeSender(), at("2027-04-01"), settings=make_settings())
    assert early.created == 8 * DUE and early.sent == 0


async def start_chats(base_url: str) -> None:
    """Every person pressed /start in the emulator, so the bot may write to them."""
    async with EmulatorClient(base_url) as client:
        for first in range(0, DUE, 100):
            await asyncio.gather(
                *(
                    client.user(FIRST_CHAT + i).send("/start")
                    for i in range(first, min(first + 100, DUE))
                )
            )


async def invite_status(sessions: Sessions) -> dict[int, str]:
    """Status of each chat's survey invite."""
    async with sessions() as s:
        rows = await s.execute(
            select(Person.chat_id, ScheduledSend.status)
            .join(Person, Person.id == ScheduledSend.person_id)
            .where(ScheduledSend.entry_id == "survey_invite")
        )
        return dict(rows.all())


def received(emu: Emulator) -> Counter[int]:
    """sendMessage calls the emulator accepted, by chat."""
    return Counter(
        int(c["chat_id"]) for c in emu.core.calls if c["method"] == "sendMessage" and c["ok"]
    )


async def run_tick(
    database_url: str, emu: Emulator, now: datetime, log: Path, kill_at: int | None = None
) -> int:
    """``xuatngu scheduler tick --now NOW`` as its own process; with ``kill_at``, SIGKILL it by
    its pid once the emulator got that many messages. Its exit code (-9 when killed)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "BOT_TOKEN")
    }
    env.update(
        BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_BASE=emu.base_url,
        DATABASE_URL=database_url,
        TIMEZONE="Asia/Ho_Chi_Minh",
        PYTHONPATH=str(ROOT),
    )
    args = ["-m", "bot.cli", "scheduler", "tick", "--now", now.isoformat(), "--rate", str(RATE)]
    with log.open("a") as out:
        out.write(f"--- tick --now {now.isoformat()} kill_at={kill_at}\n")
        out.flush()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=log.parent, env=env, stdout=out, stderr=out
        )
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while proc.returncode is None:
            if kill_at is not None and emu.core.call_counts["sendMessage"] >= kill_at:
                os.kill(proc.pid, signal.SIGKILL)
                break
            assert asyncio.get_running_loop().time() < deadline, "tick still running after 60 s"
            await asyncio.sleep(0.005)
        return await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_sigkill_at_random_instants_loses_only_sends_in_flight(
    any_db_url: str, tmp_path: Path
) -> None:
    """1,500 due; the tick process is killed twice after a random number of messages,
    then run until done: nobody gets the invite twice, claimed rows never tried are sent later,
    and only sends in flight at a kill end 'unknown' (the only ones that may be lost)."""
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    log = tmp_path / "ticks.log"
    engine = create_engine(any_db_url)
    await upgrade_async(engine)
    sessions = create_sessionmaker(engine)
    emu = Emulator(RateLimits.off())
    await emu.start()
    try:
        await add_people(sessions)
        await start_chats(emu.base_url)
        now, in_flight, claimed_at_kills = START, set(), 0
        for _ in range(KILLS):
            # past the process's first burst, so rows wait for their turn after being claimed
            kill_at = emu.core.call_counts["sendMessage"] + RATE + rng.randrange(1, 300)
            code = await run_tick(any_db_url, emu, now, log, kill_at)
            assert code == -signal.SIGKILL, f"seed {seed}: tick ended {code}\n{log.read_text()}"
            status, got = await invite_status(sessions), received(emu)
            sending = {chat for chat, st in status.items() if st == "sending"}
            claimed = {chat for chat, st in status.items() if st == "claimed"}
            assert len(sending) <= SEND_BATCH, f"seed {seed}"
            assert not any(got[chat] for chat in claimed), f"seed {seed}: claimed yet sent"
            in_flight |= sending
            claimed_at_kills += len(claimed)
            now += timedelta(minutes=11)  # past the claim timeout: the next pass recovers
        for _ in range(3):
            code = await run_tick(any_db_url, emu, now, log)
            assert code == 0, f"seed {seed}\n{log.read_text()}"
            now += timedelta(minutes=11)
            status = await invite_status(sessions)
            if set(status.values()) <= {"sent", "unknown"}:
                break
        got = received(emu)
        unknown = {chat for chat, st in status.items() if st == "unknown"}
        lost = {chat for chat in status if got[chat] == 0}
        assert claimed_at_kills > 0, f"seed {seed}: no kill left a claimed row untried"
        assert max(got.values()) == 1, f"seed {seed}: sent twice"
        assert len(status) == DUE and set(got) <= set(status)
        assert unknown == in_flight, f"seed {seed}"
        assert all(st == "sent" for chat, st in status.items() if chat not in unknown)
        assert lost <= unknown, f"seed {seed}: {len(lost - unknown)} lost"
    finally:
        await emu.stop()
        await engine.dispose()
