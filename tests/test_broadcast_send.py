"""Broadcasts through the running bot and the Bot API emulator (rate limits on): statuses,
blocked and unknown chats, opt-out and back, 429, faults, quiet hours, pause and cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.broadcasts import service
from bot.broadcasts.compose import Media
from emulator import Emulator, EmulatorClient, RateLimits
from emulator.faults import Faults
from storage.models import Person
from storage.models.base import utcnow
from storage.models.outbox import OutboxMessage
from storage.segments import Segment
from tests.broadcast_helpers import (
    AUTHOR,
    add_recipients,
    daytime,
    open_chats,
    queue,
    statuses,
    until_delivered,
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
    bot = await start_bot(any_db_url, emu.base_url, send_rate=150, **daytime())
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
    open_chats(emu, [*chats[:-2], 50_100])
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


async def test_429_storm_puts_rows_back_and_nobody_gets_it_twice(
    rb: RunningBot, emu: Emulator
) -> None:
    """Every send answered 429 for 1.5 s mid-way: the rows go back, the whole sender pauses,
    then everyone gets the message exactly once."""
    chats = list(range(51_001, 51_301))
    await add_recipients(rb.sessionmaker, chats)
    open_chats(emu, chats)
    mid = await queue(rb.sessionmaker)
    await until_delivered(emu, 50)
    emu.core.faults.storm(1.5, retry_after=1)
    await wait_status(rb.sessionmaker, mid)
    assert emu.core.faults.counts["429_storm"] >= 1
    assert set((await statuses(rb.sessionmaker, mid)).values()) == {"sent"}
    delivered = emu.core.delivered()
    assert [delivered[c] for c in chats] == [1] * len(chats)


async def test_lost_answers_are_unknown_never_resent_unless_asked(
    rb: RunningBot, emu: Emulator
) -> None:
    """20% of the answers lost (502/500 after the message was stored, undecodable bodies):
    those rows are 'unknown' and never tried again by themselves; a 502 before storing is
    'unknown' too. A counsellor resends the unknown ones by hand."""
    chats = list(range(52_001, 52_201))
    await add_recipients(rb.sessionmaker, chats)
    open_chats(emu, chats)
    emu.core.faults = Faults(rate=0.2, seed=7)
    mid = await queue(rb.sessionmaker)
    await wait_status(rb.sessionmaker, mid)
    got = await statuses(rb.sessionmaker, mid)
    delivered = emu.core.delivered()
    unknown = {c for c, st in got.items() if st == "unknown"}
    assert len(unknown) == sum(emu.core.faults.counts.values()) > 10
    assert all(got[c] == "sent" and delivered[c] == 1 for c in chats if c not in unknown)
    assert max(delivered.values()) == 1
    assert sum(delivered[c] for c in unknown) == len(unknown) - emu.core.faults.counts.get(
        "502_before", 0
    )
    emu.core.faults = Faults()
    async with rb.sessionmaker() as s:
        message = await s.get(OutboxMessage, mid)
        assert message is not None
        csv_text = await service.failures_csv(s, message)
        assert await service.control(s, message, "resend_unknown", AUTHOR, utcnow()) == len(unknown)
        await s.commit()
    assert csv_text.count("\n") == len(unknown) + 1 and ",unknown," in csv_text
    await wait_status(rb.sessionmaker, mid)
    assert set((await statuses(rb.sessionmaker, mid)).values()) == {"sent"}


async def test_pause_resume_cancel(rb: RunningBot, emu: Emulator) -> None:
    """Paused: nothing more goes out; resumed: it goes on; cancelled: the rest never goes."""
    chats = list(range(53_001, 53_601))
    await add_recipients(rb.sessionmaker, chats)
    open_chats(emu, chats)
    mid = await queue(rb.sessionmaker)

    async def act(action: str) -> None:
        async with rb.sessionmaker() as s:
            message = await s.get(OutboxMessage, mid)
            assert message is not None
            assert await service.control(s, message, action, AUTHOR, utcnow()) == 1
            await s.commit()

    await until_delivered(emu, 100)
    await act("pause")
    await asyncio.sleep(0.5)  # the batch in flight ends
    paused_at = sum(emu.core.delivered().values())
    await asyncio.sleep(1.0)
    assert sum(emu.core.delivered().values()) == paused_at < len(chats)
    await act("resume")
    await until_delivered(emu, paused_at + 100)
    await act("cancel")
    await asyncio.sleep(0.5)
    got = await statuses(rb.sessionmaker, mid)
    delivered = emu.core.delivered()
    assert set(got.values()) == {"sent", "cancelled"}
    assert all((delivered[c] == 1) == (got[c] == "sent") for c in chats)
    assert list(got.values()).count("cancelled") > 100


async def test_quiet_hours_hold_until_morning(any_db_url: str, emu: Emulator) -> None:
    """Queued at night: nothing goes out, the report says it is held."""
    local = utcnow().astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=1))
    rb = await start_bot(
        any_db_url, emu.base_url, send_rate=150, quiet_start=start, quiet_end=end.strftime("%H:%M")
    )
    try:
        await add_recipients(rb.sessionmaker, [54_001, 54_002])
        open_chats(emu, [54_001, 54_002])
        mid = await queue(rb.sessionmaker)
        await asyncio.sleep(2.5)
        assert sum(emu.core.delivered().values()) == 0
        async with rb.sessionmaker() as s:
            message = await s.get(OutboxMessage, mid)
            assert message is not None and message.status == "scheduled"
            report = await service.report(s, message, rb.settings, utcnow())
        assert report.held_for_night
    finally:
        await rb.stop()
        await rb.emu.close()


async def test_photo_uploaded_once_then_sent_by_file_id(rb: RunningBot, emu: Emulator) -> None:
    """A photo with a caption: one upload, then Telegram's file id for everyone else."""
    chats = list(range(55_001, 55_031))
    await add_recipients(rb.sessionmaker, chats)
    open_chats(emu, chats)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    media = Media(kind="photo", name="ngay-hoi.png", mime_type="image/png", data=png)
    mid = await queue(rb.sessionmaker, "Ngày hội <i>việc làm</i>", media=media)
    await wait_status(rb.sessionmaker, mid)
    assert set((await statuses(rb.sessionmaker, mid)).values()) == {"sent"}
    assert len(emu.core.files) == 1, list(emu.core.files)  # uploaded once
    async with EmulatorClient(emu.base_url) as client:
        last = (await client.user(chats[-1]).history())[-1]
    assert last.text == "Ngày hội việc làm" and last.raw["photo"]
