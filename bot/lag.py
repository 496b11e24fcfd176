"""How far the senders are behind: the backlog and lag behind ``/readyz`` and the metrics.

The lag of a queue is how long its oldest due, unsent item has waited: an outbox message
``scheduled`` or ``sending`` whose ``send_at`` has passed (paused and draft ones wait on
purpose), and a ``pending`` reminder whose ``due_at`` has passed and that is still relevant
(overdue ones are dropped by the next tick, never sent). Nothing is sent during quiet hours
(``QUIET_START``–``QUIET_END``), so that time is not counted: during quiet hours the lag is 0,
and afterwards it counts from the later of the due time and the end of the last quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.timeline.dates import as_utc, is_quiet, parse_clock
from storage.models.outbox import OutboxMessage, OutboxRow
from storage.models.timeline import ScheduledSend

WAITING_MESSAGES = ("scheduled", "sending")
WAITING_ROWS = ("pending", "claimed")


@dataclass(frozen=True)
class Backlog:
    """What waits to be sent and how long the oldest due item has waited (seconds)."""

    outbox_rows: int
    reminders_due: int
    outbox_lag: float
    reminder_lag: float


def last_quiet_end(now: datetime, settings: Settings) -> datetime:
    """The most recent end of quiet hours at or before ``now`` (UTC)."""
    local = now.astimezone(settings.tz)
    end = datetime.combine(local.date(), parse_clock(settings.quiet_end), tzinfo=settings.tz)
    if end > local:
        end -= timedelta(days=1)
    return as_utc(end)


def _lag(oldest: datetime | None, now: datetime, held_until: datetime) -> float:
    if oldest is None:
        return 0.0
    return max(0.0, (now - max(as_utc(oldest), held_until)).total_seconds())


async def measure(session: AsyncSession, settings: Settings, now: datetime) -> Backlog:
    """Three cheap queries on indexed columns; lags are 0 during quiet hours."""
    now = as_utc(now)
    oldest_message = await session.scalar(
        select(func.min(OutboxMessage.send_at)).where(
            OutboxMessage.status.in_(WAITING_MESSAGES), OutboxMessage.send_at <= now
        )
    )
    rows = await session.scalar(
        select(func.count())
        .select_from(OutboxRow)
        .join(OutboxMessage, OutboxMessage.id == OutboxRow.message_id)
        .where(OutboxMessage.status == "sending", OutboxRow.status.in_(WAITING_ROWS))
    )
    due = (
        ScheduledSend.status == "pending",
        ScheduledSend.due_at <= now,
        ScheduledSend.expires_at > now,
    )
    reminders, oldest_reminder = (
        await session.execute(select(func.count(), func.min(ScheduledSend.due_at)).where(*due))
    ).one()
    quiet = is_quiet(
        now, settings.tz, parse_clock(settings.quiet_start), parse_clock(settings.quiet_end)
    )
    held_until = now if quiet else last_quiet_end(now, settings)
    return Backlog(
        outbox_rows=int(rows or 0),
        reminders_due=int(reminders or 0),
        outbox_lag=_lag(oldest_message, now, held_until),
        reminder_lag=_lag(oldest_reminder, now, held_until),
    )
