"""Retention: what the bot promised to forget, forgotten on schedule.

One pass (:func:`retention_pass`), run at start-up and then every hour beside the reminder
scheduler (:func:`run_retention`, started by ``bot/app.py``):

- people are erased :data:`RETENTION_YEARS` years after their discharge month (from the first
  day of that month, five years on), or, with no discharge month, five years after they last
  wrote (``people.last_contact_at``): their row and everything that cascades from it, and their
  conversation state; counted (anonymous count :data:`RETENTION_COUNT`) and audited (an entry
  with the number, nothing personal), in the same transaction;
- update-inbox rows older than a day are forgotten (Telegram never resends an update after
  24 h);
- on SQLite, the write-ahead log is emptied, so erased rows do not linger in it (also catching
  up on an erasure whose own checkpoint found the log busy).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.people import Conversations
from storage import people as repo
from storage.audit import audit
from storage.db import truncate_wal
from storage.models.base import utcnow
from storage.updates import prune_updates

log = logging.getLogger(__name__)

RETENTION_YEARS = 5
RETENTION_COUNT = "erasures_retention"
INBOX_KEEP = timedelta(days=1)
BATCH = 500  # people erased per transaction
EVERY = 3600.0  # seconds between passes

_Day = TypeVar("_Day", bound=date)  # a date or a datetime


@dataclass
class RetentionResult:
    """What one pass did."""

    erased: int = 0
    pruned_updates: int = 0
    log_emptied: bool = True


def years_before(day: _Day, years: int) -> _Day:
    """The same day (or instant) ``years`` years earlier; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


async def _erase_expired(
    session: AsyncSession, now: datetime, tz: ZoneInfo, conversations: Conversations | None
) -> int:
    """Erase the people past retention, a batch per transaction; how many."""
    today = now.astimezone(tz).date()
    # discharged in a month whose first day is five years ago or more
    discharged_before = years_before(today, RETENTION_YEARS) + timedelta(days=1)
    contact_before = years_before(now, RETENTION_YEARS)
    erased = 0
    while True:
        expired = await repo.expired_people(
            session,
            discharged_before=discharged_before,
            contact_before=contact_before,
            limit=BATCH,
        )
        if not expired:
            return erased
        if conversations is not None:  # first: once the row is gone, nothing names them
            for _, telegram_user_id in expired:
                await conversations.forget(telegram_user_id)
        count = await repo.delete_people(session, [person_id for person_id, _ in expired])
        await repo.bump_count(session, RETENTION_COUNT, count)
        await audit(
            session,
            actor="scheduler",
            action="erasure",
            detail={"by": "retention", "people": count},
        )
        await session.commit()
        erased += count
        if len(expired) < BATCH:
            return erased


async def retention_pass(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    tz: ZoneInfo,
    conversations: Conversations | None = None,
) -> RetentionResult:
    """One pass as if at ``now`` (see the module docstring)."""
    result = RetentionResult()
    async with sessionmaker() as session:
        result.erased = await _erase_expired(session, now, tz, conversations)
        result.pruned_updates = await prune_updates(session, before=now - INBOX_KEEP)
        await session.commit()
        result.log_emptied = await truncate_wal(session)
    return result


async def run_retention(
    sessionmaker: async_sessionmaker[AsyncSession],
    tz: ZoneInfo,
    stop: asyncio.Event,
    *,
    conversations: Conversations | None = None,
    interval: float = EVERY,
) -> None:
    """A pass now and every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            result = await retention_pass(
                sessionmaker, utcnow(), tz=tz, conversations=conversations
            )
            if result.erased or not result.log_emptied:
                log.info(
                    "retention: %s people erased, %s old updates forgotten, log emptied: %s",
                    result.erased,
                    result.pruned_updates,
                    result.log_emptied,
                )
        except (SQLAlchemyError, OSError):
            log.exception("retention pass failed; trying again in %ss", interval)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
