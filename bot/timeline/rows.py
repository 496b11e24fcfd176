"""Due rows: one ``ScheduledSend`` per person and schedule entry, kept in step with their dates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.timeline.dates import as_utc, due_window, parse_clock
from bot.timeline.schedule import Reminder, Schedule, get_schedule
from storage.dialect import dialect_insert
from storage.models import Person
from storage.models.base import utcnow
from storage.models.timeline import ScheduledSend, TimelineState

# Rows never sent and never claimed: these may be moved or deleted when dates change.
UNSENT = ("pending", "skipped")
DIGEST_KEY = "schedule_digest"


@dataclass
class SyncCounts:
    """What one recomputation did."""

    created: int = 0
    skipped: int = 0
    moved: int = 0
    deleted: int = 0

    def add(self, other: SyncCounts) -> None:
        """Add another count in place."""
        self.created += other.created
        self.skipped += other.skipped
        self.moved += other.moved
        self.deleted += other.deleted


@dataclass(frozen=True)
class Wanted:
    """A row as the schedule says it should be."""

    person_id: int
    entry_id: str
    due_at: datetime
    expires_at: datetime
    status: str
    result: str | None


def _default_tz() -> ZoneInfo:
    """The province time zone from the settings."""
    from bot.config import get_settings

    return get_settings().tz


def wanted_rows(
    person: Person, schedule: Schedule, *, now: datetime, tz: ZoneInfo, send_time: time
) -> list[Wanted]:
    """The rows one person should have now; stages already past are 'skipped'.

    A person who joins late gets only the current stage: of the entries already due and still
    relevant, only those with the latest due time stay pending; older ones are skipped. When
    every stage of an anchor had passed by the time they finished the survey (home for months
    when they first answer), its latest ``catch_up`` entry is due from that moment instead.
    """
    if person.erased_at is not None:
        return []
    windows: list[tuple[Reminder, datetime, datetime]] = []
    for entry in schedule.reminders:
        window = due_window(entry, person, tz=tz, send_time=send_time)
        if window is not None:
            windows.append((entry, *window))
    late = _catch_up(windows, person.survey_completed_at)
    windows = [(entry, *late.get(entry.id, (due, exp))) for entry, due, exp in windows]
    current = [due for _, due, exp in windows if due <= now < exp]
    latest = max(current) if current else None
    out = []
    for entry, due, exp in windows:
        if exp <= now:
            status, result = "skipped", "past_at_creation"
        elif latest is not None and due < latest:
            status, result = "skipped", "superseded"
        else:
            status, result = "pending", None
        out.append(Wanted(person.id, entry.id, due, exp, status, result))
    return out


def _catch_up(
    windows: list[tuple[Reminder, datetime, datetime]], finished: datetime | None
) -> dict[str, tuple[datetime, datetime]]:
    """New windows, from the moment the survey was ``finished``, for the latest ``catch_up``
    entry of each anchor none of whose stages was still relevant then."""
    if finished is None:
        return {}
    found: dict[str, tuple[datetime, datetime]] = {}
    for anchor in {entry.anchor for entry, _, _ in windows}:
        group = [(entry, due, exp) for entry, due, exp in windows if entry.anchor == anchor]
        if any(due <= finished < exp for _, due, exp in group):
            continue  # a stage was current: it is sent as usual
        past = [(due, exp, e) for e, due, exp in group if e.catch_up and exp <= finished]
        if past:
            due, exp, entry = max(past, key=lambda p: p[0])
            found[entry.id] = (finished, finished + (exp - due))
    return found


def _insert_ignoring_duplicates(session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING (another scheduler may insert the same rows)."""
    stmt = dialect_insert(session, ScheduledSend).on_conflict_do_nothing(
        index_elements=["person_id", "entry_id"]
    )
    return session.execute(stmt, rows)


async def sync_rows(
    session: AsyncSession,
    people: Sequence[Person],
    *,
    now: datetime,
    schedule: Schedule,
    tz: ZoneInfo,
) -> SyncCounts:
    """Create missing rows and move or delete unsent ones so they match the people's dates."""
    counts = SyncCounts()
    if not people:
        return counts
    send_time = parse_clock(schedule.send_time)
    ids = [p.id for p in people]
    existing_rows = (
        await session.scalars(select(ScheduledSend).where(ScheduledSend.person_id.in_(ids)))
    ).all()
    existing = {(r.person_id, r.entry_id): r for r in existing_rows}
    wanted: dict[tuple[int, str], Wanted] = {}
    for person in people:
        for w in wanted_rows(person, schedule, now=now, tz=tz, send_time=send_time):
            wanted[(w.person_id, w.entry_id)] = w
    inserts: list[dict[str, Any]] = []
    for key, w in wanted.items():
        row = existing.get(key)
        if row is None:
            inserts.append(_row_values(w, now))
            counts.created += w.status == "pending"
            counts.skipped += w.status == "skipped"
        elif row.status in UNSENT and (row.due_at, row.expires_at) != (w.due_at, w.expires_at):
            counts.moved += await _move_unsent(session, row.id, w)
    stale = [r.id for k, r in existing.items() if k not in wanted and r.status in UNSENT]
    for row_id in stale:
        # One id per statement: with a list of ids, SQLite's planner may scan the status index.
        # The status test keeps a row a scheduler claimed meanwhile.
        gone = await session.execute(
            delete(ScheduledSend)
            .where(ScheduledSend.id == row_id, ScheduledSend.status.in_(UNSENT))
            .execution_options(synchronize_session=False)
        )
        counts.deleted += _rowcount(gone)
    if inserts:
        await _insert_ignoring_duplicates(session, inserts)
    await session.flush()
    return counts


async def _move_unsent(session: AsyncSession, row_id: int, w: Wanted) -> int:
    """Give an unsent row new times, unless a scheduler claimed it meanwhile; 1 if moved."""
    result = await session.execute(
        update(ScheduledSend)
        .where(ScheduledSend.id == row_id, ScheduledSend.status.in_(UNSENT))
        .values(due_at=w.due_at, expires_at=w.expires_at, status=w.status, result=w.result)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def _rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


def _row_values(w: Wanted, now: datetime) -> dict[str, Any]:
    """Column values of a new row."""
    return {
        "person_id": w.person_id,
        "entry_id": w.entry_id,
        "due_at": w.due_at,
        "expires_at": w.expires_at,
        "status": w.status,
        "result": w.result,
        "created_at": now,
    }


async def reschedule_person(
    session: AsyncSession,
    person: Person,
    *,
    now: datetime | None = None,
    schedule: Schedule | None = None,
    tz: ZoneInfo | None = None,
) -> SyncCounts:
    """Recompute one person's rows after their enlistment, discharge or return date changed.

    Only rows never sent and never claimed are moved or deleted; the caller commits.
    """
    await session.flush()
    return await sync_rows(
        session,
        [person],
        now=as_utc(now) if now else utcnow(),
        schedule=schedule or get_schedule(),
        tz=tz or _default_tz(),
    )


def schedule_key(schedule: Schedule, tz: ZoneInfo) -> str:
    """What the rows were computed from: the schedule's digest and the time zone."""
    return f"{schedule.digest()}|{tz.key}"


async def backfill_if_changed(
    session: AsyncSession,
    *,
    now: datetime,
    schedule: Schedule,
    tz: ZoneInfo,
    batch_size: int = 1000,
) -> SyncCounts:
    """When the schedule changed since the last pass, bring every person's rows in step.

    Runs over the whole population, but only once per schedule change (and on first start).
    """
    key = schedule_key(schedule, tz)
    state = await session.get(TimelineState, DIGEST_KEY)
    counts = SyncCounts()
    if state is not None and state.value == key:
        return counts
    last_id = 0
    while True:
        people = (
            await session.scalars(
                select(Person)
                .where(Person.id > last_id, Person.erased_at.is_(None))
                .order_by(Person.id)
                .limit(batch_size)
            )
        ).all()
        if not people:
            break
        counts.add(await sync_rows(session, people, now=now, schedule=schedule, tz=tz))
        last_id = people[-1].id
        await session.commit()
    await mark_schedule_current(session, schedule, tz)
    await session.commit()
    return counts


async def mark_schedule_current(session: AsyncSession, schedule: Schedule, tz: ZoneInfo) -> None:
    """Record that every row matches this schedule (bench and imports that build rows directly)."""
    key = schedule_key(schedule, tz)
    stmt = dialect_insert(session, TimelineState).values(
        key=DIGEST_KEY, value=key, updated_at=utcnow()
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"], set_={"value": key, "updated_at": utcnow()}
        )
    )
