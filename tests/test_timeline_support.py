"""Shared helpers of the timeline tests: a migrated SQLite database, people, a fake sender."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings, load_settings
from bot.sending import NOT_SENT, BeforeCall, SendResult
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models import Person
from storage.models.timeline import ScheduledSend

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_ids = itertools.count(1000)


def at(day: str, clock: str = "09:00") -> datetime:
    """A local (Asia/Ho_Chi_Minh) moment as aware UTC, e.g. at("2027-05-01", "09:00")."""
    hh, mm = (int(x) for x in clock.split(":"))
    return datetime.combine(date.fromisoformat(day), time(hh, mm), tzinfo=TZ).astimezone(UTC)


@dataclass
class Sent:
    """One message the fake sender got."""

    chat_id: int
    text: str
    markup: InlineKeyboardMarkup | None


@dataclass
class FakeSender:
    """Records sends; chats in ``blocked`` answer like a 403."""

    sent: list[Sent] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)

    async def send_text(
        self,
        chat_id: int,
        text: str,
        reply_markup: InlineKeyboardMarkup | None = None,
        *,
        before_call: BeforeCall | None = None,
    ) -> SendResult:
        """Record and answer (nothing when ``before_call`` says no)."""
        if before_call is not None and not await before_call():
            return NOT_SENT
        if chat_id in self.blocked:
            return SendResult(ok=False, blocked=True, error="Forbidden: bot was blocked")
        self.sent.append(Sent(chat_id, text, reply_markup))
        return SendResult(ok=True, message_id=len(self.sent))


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests, independent of the environment's .env."""
    values: dict[str, Any] = {"timezone": "Asia/Ho_Chi_Minh"}
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(name="db")
async def db_fixture(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite database file in tmp_path."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'timeline.sqlite3'}")
    await upgrade_async(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture(name="any_db")
async def any_db_fixture(any_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database, once SQLite and once PostgreSQL (conftest's any_db_url)."""
    engine = create_engine(any_db_url)
    await upgrade_async(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def add_person(
    session: AsyncSession,
    *,
    enlisted: str | None = None,
    discharge: str | None = None,
    returned: str | None = None,
    survey_done: datetime | None = None,
    language: str = "vi",
    paused: bool = False,
    name: str | None = "Minh",
    commune: str | None = None,
) -> Person:
    """A person with dates given as 'YYYY-MM' months and 'YYYY-MM-DD' return date."""
    uid = next(_ids)
    person = Person(
        telegram_user_id=uid,
        chat_id=uid,
        language=language,
        tg_first_name=name,
        enlistment_month=date.fromisoformat(enlisted + "-01") if enlisted else None,
        discharge_month=date.fromisoformat(discharge + "-01") if discharge else None,
        return_date=date.fromisoformat(returned) if returned else None,
        survey_completed_at=survey_done,
        reminders_paused=paused,
        home_commune_code=commune,
    )
    session.add(person)
    await session.flush()
    return person


async def rows_of(session: AsyncSession, person_id: int) -> dict[str, ScheduledSend]:
    """The person's rows by entry id (fresh from the database)."""
    rows = await session.scalars(
        select(ScheduledSend)
        .where(ScheduledSend.person_id == person_id)
        .execution_options(populate_existing=True)
    )
    return {r.entry_id: r for r in rows}
