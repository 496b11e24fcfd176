"""Broadcasts through the running bot and the Bot API emulator (rate limits on): statuses,
blocked and unknown chats, opt-out and back, 429, faults, quiet hours, pause and cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.broadcasts import service
from emulator import Emulator, EmulatorClient, RateLimits
from storage.models import Person
from storage.models.base import utcnow
from storage.models.outbox import OutboxMessage
from storage.segments import Segment
from tests.broadcast_helpers import (
    AUTHOR,
    add_recipients,
    open_chats,
    queue,
    statuses,
    wait_status,
)
from tests.conftest import RunningBot, start_bot

LIMITS = RateLimits(global_capacity=200, global_rate=200)  # 1 message/s per chat (burst 3)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """The emulator with Telegram's limits on (a faster global rate for the tests)."""
    emulator = Emulator(LIMITS)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def rb(any_db_url: str, emu: Emulator) -> AsyncIterator[RunningBot]:
    """The bot with its outbox sender at 150 messages/s."""
    bot = await start_bot(any_db_url, emu.base_url, send_rate=150)
    try:
        yield bot
    finally:
        await bot.stop()
        await bot.emu.close()


async def test_statuses_blocked_not_found_language_and_opt_out(
    rb: RunningBot, emu: Emulator
) -> None:
    """40 in the segment: 3 blocked the bot (403), 2 never opened a chat (400 chat not
    found), the English ones get the English text; the stop button opts out, /start back in."""
    chats = list(range(50_001, 50_041))
    await add_recipients(rb.sessionmaker, chats[:30])
    await add_recipients(rb.sessionmaker, chats[30:], language="en")
    await add_recipients(rb.sessionmaker, [50_100], home_commune_code="9999")  # not in segment
    open_chats(emu, chats[:-2] + [50_100])
    client = EmulatorClient(emu.base_url)
    for chat in chats[:3]:
        await client.user(chat).block()
    segment = Segment(communes=("6187",))
    mid = await queue(rb.sessionmaker, "Chào <b>bạn</b>", "Hello <b>you</b>", segment)
    await wait_status(rb.sessionmaker, mid)
    got = await statuses(rb.sessionmaker, mid)
    assert set(got) == set(chats)
    assert [got[c] for c in chats[:3]] == ["blocked"] * 3
    assert [got[c] for c in chats[-2:]] == ["not_found"] * 2
    assert all(got[c] == "sent" for c in chats[3:-2])
    delivered = emu.core.delivered()
    assert all(delivered[c] == 1 for c in chats[3:-2]) and delivered[50_100] == 0
    english = await client.user(chats[31]).history()
    vietnamese = await client.user(chats[5]).history()
    assert english[-1].text == "Hello you" and vietnamese[-1].text == "Chào bạn"
    async with rb.sessionmaker() as s:
        blocked = await s.scalars(select(Person.chat_id).where(Person.blocked_at.is_not(None)))
        assert set(blocked) == set(chats[:3])
    # the button under the broadcast: no more broadcasts (reminders stay unless asked)
    user = client.user(chats[5])
    reply = await user.click("🔕 Không nhận thông báo nữa")
    assert "không nhận thông báo chung" in reply.text
    async with rb.sessionmaker() as s:
        message = await s.get(OutboxMessage, mid)
        assert message is not None
        report = await service.report(s, message, rb.settings, utcnow())
    assert report.opt_outs == 1 and report.counts["sent"] == 35
    second = await queue(rb.sessionmaker, "Lần hai", segment=segment)
    await wait_status(rb.sessionmaker, second)
    assert chats[5] not in await statuses(rb.sessionmaker, second)
    assert (await user.history())[-1].text != "Lần hai"
    back = await user.ask("/start")
    assert "lại nhận thông báo" in back.text
    third = await queue(rb.sessionmaker, "Lần ba", segment=segment)
    await wait_status(rb.sessionmaker, third)
    assert (await statuses(rb.sessionmaker, third))[chats[5]] == "sent"
    await client.close()
