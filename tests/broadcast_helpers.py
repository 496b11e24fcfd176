"""Helpers of the broadcast tests: many recipients at once, chats opened at the emulator, a
broadcast queued as an author would, and what each chat got."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import service
from bot.broadcasts.compose import Media, check_draft
from emulator import Emulator
from storage.models import Person
from storage.models.base import utcnow
from storage.models.outbox import OutboxMessage, OutboxRow
from storage.segments import Segment
from tests.conftest import TEST_TOKEN

Sessions = async_sessionmaker[AsyncSession]
AUTHOR = service.Author(actor="user:tester", scope=None, sees_all=True)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def daytime() -> dict[str, str]:
    """Quiet hours that do not hold the test's broadcasts (the night is two hours away)."""
    local = utcnow().astimezone(TZ)
    start, end = local + timedelta(hours=2), local + timedelta(hours=3)
    return {"quiet_start": start.strftime("%H:%M"), "quiet_end": end.strftime("%H:%M")}


async def add_recipients(sessions: Sessions, chat_ids: Sequence[int], **fields: Any) -> None:
    """People with these chat ids (= Telegram ids), in one INSERT; ``fields`` for all."""
    now = utcnow()
    values = {
        "language": "vi",
        "tg_first_name": "Minh",
        "branch": "army",
        "home_commune_code": "6187",
        "discharge_month": date(2026, 2, 1),
        "consent_at": now,
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    rows = [{"telegram_user_id": c, "chat_id": c, **values} for c in chat_ids]
    async with sessions() as s:
        for first in range(0, len(rows), 500):
            await s.execute(insert(Person), rows[first : first + 500])
        await s.commit()


def open_chats(emu: Emulator, chat_ids: Sequence[int]) -> None:
    """These users pressed Start long ago: the bot may write to them."""
    bot = emu.core.bot_for_token(TEST_TOKEN)
    for chat_id in chat_ids:
        bot.chat_for(emu.core.ensure_user(chat_id)).started = True


async def queue(
    sessions: Sessions,
    text_vi: str = "Thông báo <b>ngày hội việc làm</b>",
    text_en: str | None = None,
    segment: Segment | None = None,
    media: Media | None = None,
    author: service.Author = AUTHOR,
) -> int:
    """Queue a broadcast to send now; its id."""
    draft = check_draft(text_vi, text_en, segment or Segment(), media)
    async with sessions() as s:
        recipients = await service.count_recipients(s, draft.segment, author)
        message = await service.create(s, draft, author, utcnow(), recipients)
        await s.commit()
        return message.id


async def statuses(sessions: Sessions, message_id: int) -> dict[int, str]:
    """Outbox status by chat id."""
    async with sessions() as s:
        rows = await s.execute(
            select(Person.chat_id, OutboxRow.status)
            .join(Person, Person.id == OutboxRow.person_id)
            .where(OutboxRow.message_id == message_id)
        )
        return {int(chat): status for chat, status in rows.all()}


async def message_status(sessions: Sessions, message_id: int) -> str:
    async with sessions() as s:
        return str(
            await s.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
        )


async def wait_status(
    sessions: Sessions, message_id: int, wanted: str = "done", seconds: float = 60.0
) -> None:
    """Until the broadcast has this status."""
    for _ in range(int(seconds * 10)):
        if await message_status(sessions, message_id) == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"broadcast {message_id} still {await message_status(sessions, message_id)}"
    )


async def until_delivered(emu: Emulator, count: int, seconds: float = 30.0) -> None:
    """Until the emulator's chats got ``count`` messages in all."""
    for _ in range(int(seconds * 100)):
        if sum(emu.core.delivered().values()) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {count} messages delivered")
