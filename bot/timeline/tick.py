"""One scheduler pass (``tick``) and the loop that runs it (``run_scheduler``).

Delivery is *at most once*: a row is claimed (status 'claimed', claim token, time) and committed
before its message goes out, and marked sent/failed after. A claim whose result was never
recorded (the process died mid-send) is not sent again: after ``claim_timeout`` it becomes
'unknown'. Losing a reminder is better than sending the same one twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings, get_settings
from bot.sending import SenderProtocol, SendResult
from bot.timeline.dates import as_utc, is_quiet, parse_clock
from bot.timeline.render import entry_keyboard, language_of, render_text
from bot.timeline.rows import backfill_if_changed
from bot.timeline.schedule import Reminder, Schedule, get_schedule
from storage.models import Person
from storage.models.base import utcnow
from storage.models.timeline import ScheduledSend
from storage.people import bump_count

log = logging.getLogger(__name__)

DROPPED_KEY = "reminder_dropped"
SEND_CHUNK = 50  # results are written after every chunk of sends


@dataclass
class PlannedSend:
    """One message a dry run would send (or skip, with the reason)."""

    person_id: int
    chat_id: int
    entry_id: str
    text: str
    skip_reason: str | None = None


@dataclass
class TickResult:
    """Counts of one pass."""

    created: int = 0
    sent: int = 0
    held_quiet: int = 0
    dropped: int = 0
    skipped: int = 0
    failed: int = 0
    abandoned: int = 0
    blocked: int = 0
    planned: list[PlannedSend] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"created={self.created} sent={self.sent} held_quiet={self.held_quiet} "
            f"dropped={self.dropped} skipped={self.skipped} failed={self.failed} "
            f"abandoned={self.abandoned} blocked={self.blocked}"
        )


@dataclass
class _Claimed:
    """A claimed row with what is needed to send it."""

    row_id: int
    person_id: int
    entry_id: str


@dataclass
class _Outcome:
    """What happened to one claimed row."""

    row_id: int
    status: str
    result: str | None
    person_id: int
    blocked: bool = False


def condition_holds(name: str, person: Person) -> bool:
    """Evaluate one schedule condition against the person as they are now."""
    if name == "survey_unfinished":
        return person.survey_completed_at is None
    if name == "survey_finished":
        return person.survey_completed_at is not None
    if name == "not_returned":
        return person.return_date is None
    if name == "returned":
        return person.return_date is not None
    return name == "always"


def skip_reason(entry: Reminder | None, person: Person | None) -> str | None:
    """Why this row must not be sent now, or None to send it."""
    if entry is None:
        return "unknown_entry"
    if person is None or person.erased_at is not None:
        return "erased"
    if person.blocked_at is not None:
        return "blocked"
    if person.reminders_paused:
        return "paused"
    for name in entry.condition:
        if not condition_holds(name, person):
            return f"condition:{name}"
    return None


async def _abandon_stale_claims(session: AsyncSession, now: datetime, max_age: timedelta) -> int:
    """Claims older than ``max_age`` with no result become 'unknown' (never resent)."""
    result: Any = await session.execute(
        update(ScheduledSend)
        .where(ScheduledSend.status == "claimed", ScheduledSend.claimed_at < now - max_age)
        .values(status="unknown", result="claim_expired")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


async def _drop_overdue(session: AsyncSession, now: datetime) -> int:
    """Pending rows past their relevance (e.g. after downtime) are dropped and counted."""
    result: Any = await session.execute(
        update(ScheduledSend)
        .where(
            ScheduledSend.status == "pending",
            ScheduledSend.due_at <= now,
            ScheduledSend.expires_at <= now,
        )
        .values(status="dropped", result="overdue")
        .execution_options(synchronize_session=False)
    )
    dropped = int(result.rowcount or 0)
    if dropped:
        await bump_count(session, DROPPED_KEY, dropped)
    return dropped


def _due_filter(now: datetime) -> tuple[Any, ...]:
    """Pending rows due by ``now`` (served by the (status, due_at) index)."""
    return (ScheduledSend.status == "pending", ScheduledSend.due_at <= now)


async def _count_due(session: AsyncSession, now: datetime) -> int:
    """How many pending rows are due."""
    return int(
        await session.scalar(
            select(func.count()).select_from(ScheduledSend).where(*_due_filter(now))
        )
        or 0
    )


async def _claim(session: AsyncSession, now: datetime, limit: int) -> list[_Claimed]:
    """Atomically claim up to ``limit`` due rows (SKIP LOCKED on PostgreSQL)."""
    token = str(uuid.uuid4())
    ids = (
        select(ScheduledSend.id)
        .where(*_due_filter(now))
        .order_by(ScheduledSend.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(ScheduledSend)
        # claimed_at (not status) guards the outer UPDATE: an index on status would tempt
        # SQLite's planner to scan every pending row instead of looking the ids up.
        .where(ScheduledSend.id.in_(ids), ScheduledSend.claimed_at.is_(None))
        .values(status="claimed", claimed_at=now, claim_token=token)
        .returning(ScheduledSend.id, ScheduledSend.person_id, ScheduledSend.entry_id)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(stmt)).all()
    return [_Claimed(r[0], r[1], r[2]) for r in rows]


async def _people(session: AsyncSession, ids: Sequence[int]) -> dict[int, Person]:
    """People by id."""
    people = await session.scalars(
        select(Person).where(Person.id.in_(set(ids))).execution_options(populate_existing=True)
    )
    return {p.id: p for p in people}


def _result_of(row: _Claimed, sent: SendResult) -> _Outcome:
    """The row's final status from the send result."""
    if sent.ok:
        return _Outcome(row.row_id, "sent", f"message:{sent.message_id}", row.person_id)
    if sent.blocked:
        return _Outcome(row.row_id, "failed", "blocked", row.person_id, blocked=True)
    return _Outcome(row.row_id, "failed", (sent.error or "error")[:64], row.person_id)


async def _write_outcomes(
    session: AsyncSession, outcomes: list[_Outcome], now: datetime, counts: TickResult
) -> None:
    """Mark rows sent/failed/skipped and people unreachable, then commit."""
    if not outcomes:
        return
    params = [
        {
            "id": o.row_id,
            "status": o.status,
            "result": o.result,
            "sent_at": now if o.status == "sent" else None,
        }
        for o in outcomes
    ]
    await session.execute(update(ScheduledSend), params)
    blocked = sorted({o.person_id for o in outcomes if o.blocked})
    if blocked:
        await session.execute(
            update(Person)
            .where(Person.id.in_(blocked), Person.blocked_at.is_(None))
            .values(blocked_at=now)
            .execution_options(synchronize_session=False)
        )
    await session.commit()
    for o in outcomes:
        counts.sent += o.status == "sent"
        counts.failed += o.status == "failed"
        counts.skipped += o.status == "skipped"
    counts.blocked += len(blocked)


async def _send_one(
    sender: SenderProtocol, schedule: Schedule, row: _Claimed, person: Person | None
) -> _Outcome:
    """Check the row against the person now, then send it or skip it."""
    entry = schedule.reminder(row.entry_id)
    reason = skip_reason(entry, person)
    if reason is not None or entry is None or person is None:
        return _Outcome(row.row_id, "skipped", reason, row.person_id)
    text = render_text(schedule, entry, person)
    markup = entry_keyboard(schedule, entry, language_of(person))
    try:
        sent = await sender.send_text(person.chat_id, text, reply_markup=markup)
    except Exception as exc:  # a bug in a sender must not leave the batch half-recorded
        log.exception("sending reminder %s failed", row.row_id)
        sent = SendResult(ok=False, error=f"{type(exc).__name__}"[:64])
    return _result_of(row, sent)


async def _process_batch(
    session: AsyncSession,
    sender: SenderProtocol,
    schedule: Schedule,
    claimed: list[_Claimed],
    now: datetime,
    counts: TickResult,
) -> None:
    """Send a claimed batch, chunk by chunk, recording results after each chunk."""
    people = await _people(session, [c.person_id for c in claimed])
    for start in range(0, len(claimed), SEND_CHUNK):
        chunk = claimed[start : start + SEND_CHUNK]
        outcomes = await asyncio.gather(
            *(_send_one(sender, schedule, row, people.get(row.person_id)) for row in chunk)
        )
        await _write_outcomes(session, list(outcomes), now, counts)


async def _plan(
    session: AsyncSession, schedule: Schedule, now: datetime, limit: int
) -> list[PlannedSend]:
    """What would be sent now, without changing anything (dry run)."""
    rows = (
        await session.execute(
            select(ScheduledSend, Person)
            .join(Person, Person.id == ScheduledSend.person_id)
            .where(*_due_filter(now), ScheduledSend.expires_at > now)
            .order_by(ScheduledSend.due_at)
            .limit(limit)
        )
    ).all()
    planned = []
    for row, person in rows:
        entry = schedule.reminder(row.entry_id)
        reason = skip_reason(entry, person)
        text = render_text(schedule, entry, person) if entry and reason is None else ""
        planned.append(PlannedSend(person.id, person.chat_id, row.entry_id, text, reason))
    return planned


async def _dry_run(
    session: AsyncSession, schedule: Schedule, now: datetime, quiet: bool, limit: int
) -> TickResult:
    """Counts and the list of messages a real pass would send; writes nothing."""
    counts = TickResult()
    overdue = await session.scalar(
        select(func.count())
        .select_from(ScheduledSend)
        .where(*_due_filter(now), ScheduledSend.expires_at <= now)
    )
    counts.dropped = int(overdue or 0)
    if quiet:
        counts.held_quiet = await _count_due(session, now) - counts.dropped
        return counts
    counts.planned = await _plan(session, schedule, now, limit)
    counts.sent = sum(p.skip_reason is None for p in counts.planned)
    counts.skipped = len(counts.planned) - counts.sent
    return counts


async def tick(
    session_factory: async_sessionmaker[AsyncSession],
    sender: SenderProtocol | None,
    now: datetime,
    *,
    dry_run: bool = False,
    batch_size: int = 500,
    settings: Settings | None = None,
    schedule: Schedule | None = None,
    claim_timeout: timedelta = timedelta(minutes=10),
) -> TickResult:
    """One scheduler pass as if at ``now``: keep rows current, drop overdue, send what is due."""
    settings = settings or get_settings()
    schedule = schedule or get_schedule()
    now = as_utc(now)
    tz: ZoneInfo = settings.tz
    quiet = is_quiet(now, tz, parse_clock(settings.quiet_start), parse_clock(settings.quiet_end))
    async with session_factory() as session:
        if dry_run:
            return await _dry_run(session, schedule, now, quiet, batch_size)
        if sender is None:
            raise ValueError("a sender is needed unless dry_run=True")
        counts = TickResult()
        synced = await backfill_if_changed(session, now=now, schedule=schedule, tz=tz)
        counts.created, counts.skipped = synced.created, synced.skipped
        counts.abandoned = await _abandon_stale_claims(session, now, claim_timeout)
        counts.dropped = await _drop_overdue(session, now)
        await session.commit()
        if quiet:
            counts.held_quiet = await _count_due(session, now)
            return counts
        while True:
            claimed = await _claim(session, now, batch_size)
            await session.commit()
            if not claimed:
                break
            await _process_batch(session, sender, schedule, claimed, now, counts)
            if len(claimed) < batch_size:
                break
    return counts


async def run_scheduler(
    session_factory: async_sessionmaker[AsyncSession],
    sender: SenderProtocol,
    settings: Settings,
    stop_event: asyncio.Event,
    *,
    interval: float = 30.0,
) -> None:
    """Tick every ``interval`` seconds until ``stop_event`` is set (started by ``xuatngu run``)."""
    log.info("scheduler started (every %ss)", interval)
    while not stop_event.is_set():
        try:
            result = await tick(session_factory, sender, utcnow(), settings=settings)
            if result.sent or result.dropped or result.failed or result.abandoned:
                log.info("scheduler tick: %s", result.summary())
        except Exception:
            log.exception("scheduler tick failed; trying again in %ss", interval)
        try:
            await asyncio.wait_for(stop_event.wait(), timeout=interval)
        except TimeoutError:
            pass
    log.info("scheduler stopped")
