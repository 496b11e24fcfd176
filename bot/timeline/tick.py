"""One scheduler pass (``tick``) and the loop that runs it (``run_scheduler``).

Delivery is *at most once*, and a crash loses only the sends that were in flight:

1. a small batch of due rows is claimed (status 'claimed', claim token, time) and committed right
   before it is sent;
2. right before each Bot API call (once the rate limits let it go) the row is marked 'sending'
   under the batch's claim token, and that mark is committed;
3. the result (sent/failed) is committed right after the call.

After a crash, claims older than ``claim_timeout`` go back to 'pending' (never attempted: sent
by a later pass), while 'sending' rows become 'unknown' (the message may or may not have gone
out) and are never retried. Releasing a claim clears its token, so a slow pass whose claim was
released cannot mark, and send, the row again. Steps 2 and 3 and the recovery are the state
machine every unprompted send shares (``bot/delivery.py``, ``storage/delivery.py``).
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

from bot import metrics
from bot.config import Settings, get_settings
from bot.delivery import Journal, send_journaled
from bot.sending import SenderProtocol
from bot.timeline.dates import as_utc, is_quiet, parse_clock
from bot.timeline.render import entry_keyboard, language_of, render_text
from bot.timeline.rows import backfill_if_changed
from bot.timeline.schedule import Reminder, Schedule, get_schedule
from storage import delivery
from storage.models import Person
from storage.models.base import utcnow
from storage.models.timeline import ScheduledSend
from storage.people import bump_count

log = logging.getLogger(__name__)

DROPPED_KEY = "reminder_dropped"
SEND_BATCH = 50  # rows claimed at once, right before sending them: at most this many in flight
CLAIM_TIMEOUT = timedelta(minutes=10)  # a claim older than this is abandoned (one-shot ticks)
DRY_RUN_LIMIT = 500  # rows a dry run lists


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
    released: int = 0
    abandoned: int = 0
    blocked: int = 0
    planned: list[PlannedSend] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"created={self.created} sent={self.sent} held_quiet={self.held_quiet} "
            f"dropped={self.dropped} skipped={self.skipped} failed={self.failed} "
            f"released={self.released} abandoned={self.abandoned} blocked={self.blocked}"
        )


@dataclass
class _Claimed:
    """A claimed row."""

    row_id: int
    person_id: int
    entry_id: str


@dataclass
class _Ready:
    """A claimed row to send, with its person and schedule entry."""

    row_id: int
    person: Person
    entry: Reminder


@dataclass
class _Batch:
    """One claim: its token, how many rows it took and those to send."""

    token: str
    claimed: int
    ready: list[_Ready]


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


async def _recover_stale_claims(
    session: AsyncSession, now: datetime, max_age: timedelta, counts: TickResult
) -> None:
    """After a crash: claims never attempted go back to 'pending'; attempts without a recorded
    result become 'unknown' (never resent)."""
    counts.released, counts.abandoned = await delivery.recover(
        session, ScheduledSend, claimed_before=now - max_age
    )


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


async def _claim(session: AsyncSession, now: datetime, limit: int, token: str) -> list[_Claimed]:
    """Atomically claim up to ``limit`` due rows (SKIP LOCKED on PostgreSQL)."""
    rows = await delivery.claim(
        session,
        ScheduledSend,
        _due_filter(now),
        [ScheduledSend.due_at],
        limit,
        token=token,
        now=now,
        returning=(ScheduledSend.id, ScheduledSend.person_id, ScheduledSend.entry_id),
    )
    return [_Claimed(r[0], r[1], r[2]) for r in rows]


async def _people(session: AsyncSession, ids: Sequence[int]) -> dict[int, Person]:
    """People by id."""
    people = await session.scalars(
        select(Person).where(Person.id.in_(set(ids))).execution_options(populate_existing=True)
    )
    return {p.id: p for p in people}


async def _claim_batch(
    session: AsyncSession, schedule: Schedule, now: datetime, limit: int, counts: TickResult
) -> _Batch:
    """Claim the next due rows and, in the same transaction, skip those that must not be sent
    (checked against the person as they are now); commit before anything is sent."""
    token = str(uuid.uuid4())
    claimed = await _claim(session, now, limit, token)
    people = await _people(session, [c.person_id for c in claimed]) if claimed else {}
    ready, skipped = [], []
    for row in claimed:
        entry = schedule.reminder(row.entry_id)
        person = people.get(row.person_id)
        reason = skip_reason(entry, person)
        if reason is not None or entry is None or person is None:
            skipped.append({"id": row.row_id, "status": "skipped", "result": reason})
        else:
            ready.append(_Ready(row.row_id, person, entry))
    if skipped:
        await session.execute(update(ScheduledSend), skipped)
    await session.commit()
    counts.skipped += len(skipped)
    return _Batch(token, len(claimed), ready)


async def _send_one(
    sender: SenderProtocol, schedule: Schedule, journal: Journal, row: _Ready
) -> None:
    """Send one row: the attempt is committed right before the call, the result right after."""
    text = render_text(schedule, row.entry, row.person)
    markup = entry_keyboard(schedule, row.entry, language_of(row.person))
    chat = row.person.chat_id
    await send_journaled(
        journal,
        row.row_id,
        row.person.id,
        lambda mark: sender.send_text(chat, text, reply_markup=markup, before_call=mark),
    )


async def _send_batch(
    session: AsyncSession,
    sender: SenderProtocol,
    schedule: Schedule,
    batch: _Batch,
    now: datetime,
    counts: TickResult,
) -> None:
    """Send a claimed batch side by side (the sender keeps the rate limits)."""
    journal = Journal(session, ScheduledSend, batch.token, now)
    async with asyncio.TaskGroup() as group:
        for row in batch.ready:
            group.create_task(_send_one(sender, schedule, journal, row))
    counts.sent += journal.statuses["sent"]
    counts.failed += journal.statuses.total() - journal.statuses["sent"]
    counts.blocked += journal.newly_blocked


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
    batch_size: int = SEND_BATCH,
    settings: Settings | None = None,
    schedule: Schedule | None = None,
    claim_timeout: timedelta = CLAIM_TIMEOUT,
) -> TickResult:
    """One scheduler pass as if at ``now``: keep rows current, recover stale claims, drop
    overdue rows, then send what is due, ``batch_size`` rows claimed at a time."""
    settings = settings or get_settings()
    schedule = schedule or get_schedule()
    now = as_utc(now)
    tz: ZoneInfo = settings.tz
    quiet = is_quiet(now, tz, parse_clock(settings.quiet_start), parse_clock(settings.quiet_end))
    async with session_factory() as session:
        if dry_run:
            return await _dry_run(session, schedule, now, quiet, DRY_RUN_LIMIT)
        if sender is None:
            raise ValueError("a sender is needed unless dry_run=True")
        counts = TickResult()
        synced = await backfill_if_changed(session, now=now, schedule=schedule, tz=tz)
        counts.created, counts.skipped = synced.created, synced.skipped
        await _recover_stale_claims(session, now, claim_timeout, counts)
        counts.dropped = await _drop_overdue(session, now)
        await session.commit()
        if quiet:
            counts.held_quiet = await _count_due(session, now)
            return counts
        while True:
            batch = await _claim_batch(session, schedule, now, batch_size, counts)
            await _send_batch(session, sender, schedule, batch, now, counts)
            if batch.claimed < batch_size:
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
    """Tick every ``interval`` seconds until ``stop_event`` is set (started by ``xuatngu run``).

    It runs only in the process holding the sending job's lock (``bot/singleton.py``), so the
    first tick takes every claim back at once: whoever held them is gone. (A one-shot
    ``xuatngu scheduler tick`` running meanwhile loses its claims and sends nothing more: a
    claim's token fences it, ``storage/delivery.py``.)"""
    log.info("scheduler started (every %ss)", interval)
    claim_timeout = timedelta(0)
    while not stop_event.is_set():
        try:
            with metrics.TICK_SECONDS.time():
                result = await tick(
                    session_factory,
                    sender,
                    utcnow(),
                    settings=settings,
                    claim_timeout=claim_timeout,
                )
            claim_timeout = CLAIM_TIMEOUT
            if (
                result.sent
                or result.dropped
                or result.failed
                or result.released
                or result.abandoned
            ):
                log.info("scheduler tick: %s", result.summary())
        except Exception:
            log.exception("scheduler tick failed; trying again in %ss", interval)
        try:
            await asyncio.wait_for(stop_event.wait(), timeout=interval)
        except TimeoutError:
            pass
    log.info("scheduler stopped")
