"""The alert path under SIGKILL: ``xuatngu run`` (its outbox loop runs the alert pass and sends
the alerts) is killed at a random instant, from the pass itself to mid-sending, and started
again. Nobody gets an alert twice, nobody eligible is left without theirs (each row ends sent,
or unknown when its call was in flight at the kill), and nobody gets more than two."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from emulator import Emulator, RateLimits
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models.alerts import ItemAlert
from storage.models.outbox import OutboxMessage, OutboxRow
from tests.alerts_helpers import TAM_THANH, add_course, add_institution, today
from tests.broadcast_helpers import Sessions, daytime, open_chats
from tests.conftest import TEST_TOKEN
from tests.factories import make_person
from tests.test_crash_updates import bot_process

PEOPLE = 300
FIRST = 70_000
TITLES = ("Hàn khóa sáng", "Hàn khóa chiều")


def received(emu: Emulator) -> Counter[tuple[int, str]]:
    """How many times each chat shows each course's alert."""
    bot = emu.core.bot_for_token(TEST_TOKEN)
    counts: Counter[tuple[int, str]] = Counter()
    for chat_id, chat in bot.chats.items():
        for rec in chat.messages.values():
            text = rec.message.get("text") or ""
            for title in TITLES:
                if rec.from_bot and text.startswith("🔔") and title in text:
                    counts[(chat_id, title)] += 1
    return counts


async def row_statuses(sessions: Sessions) -> Counter[str]:
    async with sessions() as s:
        rows = await s.execute(
            select(OutboxRow.status, func.count())
            .join(OutboxMessage, OutboxMessage.id == OutboxRow.message_id)
            .where(OutboxMessage.kind == "alert")
            .group_by(OutboxRow.status)
        )
        return Counter(dict(rows.all()))


async def test_kill_anywhere_in_the_alert_path(any_db_url: str, tmp_path: Path) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    engine = create_engine(any_db_url)
    await upgrade_async(engine)
    sessions = create_sessionmaker(engine)
    emu = Emulator(RateLimits(global_capacity=300, global_rate=300))
    await emu.start()
    chats = list(range(FIRST, FIRST + PEOPLE))
    try:
        async with sessions() as s:
            for chat in chats:
                person = await make_person(
                    s,
                    telegram_user_id=chat,
                    trades=("weld",),
                    commune_code=TAM_THANH,
                    discharge_month=None,
                    enlistment_month=None,
                )
                person.return_date = today()
            await s.commit()
        open_chats(emu, chats)
        school = await add_institution(sessions)
        for title in TITLES:
            await add_course(sessions, school, title=title)
        kill_at = rng.randrange(0, 2 * PEOPLE)
        async with bot_process(any_db_url, emu.base_url, tmp_path / "bot.log") as bot:
            bot.env.update(SEND_RATE="250", **{k.upper(): v for k, v in daytime().items()})
            await bot.start()
            for _ in range(6000):
                if sum(received(emu).values()) >= kill_at:
                    break
                await asyncio.sleep(0.005)
            await bot.kill()
            at_kill = await row_statuses(sessions)
            await bot.start()
            for _ in range(1200):
                now = await row_statuses(sessions)
                if now and not (now["pending"] or now["claimed"] or now["sending"]):
                    break
                await asyncio.sleep(0.05)
            await bot.stop()
        final, got = await row_statuses(sessions), received(emu)
        assert set(final) <= {"sent", "unknown"}, f"seed {seed}: {final}"
        assert final.total() == 2 * PEOPLE, f"seed {seed}: {final}"
        assert final["unknown"] <= at_kill["sending"], f"seed {seed}: {final} {at_kill}"
        assert max(got.values()) == 1, f"seed {seed}: someone got an alert twice"
        assert sum(got.values()) >= final["sent"], f"seed {seed}"
        per_chat = Counter(chat for chat, _ in got)
        assert max(per_chat.values()) <= 2
        async with sessions() as s:
            given = await s.scalar(select(func.count()).select_from(ItemAlert))
            messages = await s.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "alert")
            )
        assert (given, messages) == (2 * PEOPLE, 2), f"seed {seed}"
    finally:
        await emu.stop()
        await engine.dispose()
