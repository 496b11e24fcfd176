"""The statements of the one send state machine, shared by every table of unprompted sends
(``scheduled_sends`` for reminders, ``outbox`` for broadcasts). Each such table has ``id``,
``person_id``, ``status``, ``claimed_at``, ``claim_token``, ``sent_at`` and ``result``.

pending → claimed (a batch, committed right before it is sent) → sending (committed right
before the Bot API call, under the batch's claim token) → a final status; a 429 puts the row
back to claimed. After a crash, claims go back to pending (never attempted) and 'sending' rows
become 'unknown' (the message may have gone out: never resent by itself). The driver is
``bot/delivery.py``; these functions never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person

# Statuses after which a row is never sent again by itself.
FINAL = ("sent", "blocked", "not_found", "failed", "unknown", "skipped", "cancelled")


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def claim(
    session: AsyncSession,
    table: Any,
    where: Sequence[Any],
    order_by: Sequence[Any],
    limit: int,
    *,
    token: str,
    now: datetime,
    returning: Sequence[Any],
) -> list[Any]:
    """Atomically claim up to ``limit`` rows matching ``where`` (which must select pending
    rows); SKIP LOCKED on PostgreSQL. Returns the ``returning`` columns of the claimed rows."""
    # a materialized CTE, not ``id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)``: PostgreSQL
    # may run such a subquery more than once in the UPDATE's plan and claim more than ``limit``
    # rows (seen: 30 rows claimed for a limit of 1)
    ids = (
        select(table.id)
        .where(*where)
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("claimable")
        .prefix_with("MATERIALIZED")
    )
    stmt = (
        update(table)
        # claimed_at (not status) guards the outer UPDATE: an index on status would tempt
        # SQLite's planner to scan every pending row instead of looking the ids up.
        .where(table.id.in_(select(ids.c.id)), table.claimed_at.is_(None))
        .values(status="claimed", claimed_at=now, claim_token=token)
        .returning(*returning)
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(stmt)).all())


async def mark_sending(
    session: AsyncSession, table: Any, ids: Sequence[int], token: str
) -> list[int]:
    """Mark claimed rows 'sending'; only those this claim still holds (the token, cleared when a
    claim is released, paused or cancelled, proves it). Returns the ids marked."""
    return list(
        await session.scalars(
            update(table)
            .where(table.id.in_(ids), table.claim_token == token, table.status == "claimed")
            .values(status="sending")
            .returning(table.id)
            .execution_options(synchronize_session=False)
        )
    )


async def put_back(session: AsyncSession, table: Any, ids: Sequence[int], token: str) -> None:
    """A 429: the message was refused, so the row is claimed again, to be tried once more."""
    await session.execute(
        update(table)
        .where(table.id.in_(ids), table.claim_token == token, table.status == "sending")
        .values(status="claimed")
        .execution_options(synchronize_session=False)
    )


async def write_outcomes(
    session: AsyncSession, table: Any, outcomes: Sequence[dict[str, Any]], now: datetime
) -> int:
    """Final statuses (``{"id", "status", "result", "person_id"}`` each); people answered 403
    are marked unreachable. Returns how many people were newly marked."""
    if not outcomes:
        return 0
    params = [
        {
            "id": o["id"],
            "status": o["status"],
            "result": o["result"],
            "sent_at": now if o["status"] == "sent" else None,
        }
        for o in outcomes
    ]
    await session.execute(update(table), params)
    blocked = sorted({o["person_id"] for o in outcomes if o["status"] == "blocked"})
    if not blocked:
        return 0
    result = await session.execute(
        update(Person)
        .where(Person.id.in_(blocked), Person.blocked_at.is_(None))
        .values(blocked_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def recover(
    session: AsyncSession, table: Any, *, claimed_before: datetime | None = None
) -> tuple[int, int]:
    """After a crash: claims never attempted go back to 'pending'; attempts without a recorded
    result become 'unknown'. Only claims older than ``claimed_before`` when given (another
    process may still be sending). Returns (released, abandoned)."""
    stale = (table.claimed_at < claimed_before,) if claimed_before is not None else ()
    released = await session.execute(
        update(table)
        .where(table.status == "claimed", *stale)
        .values(status="pending", claimed_at=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    abandoned = await session.execute(
        update(table)
        .where(table.status == "sending", *stale)
        .values(status="unknown", result="result_lost")
        .execution_options(synchronize_session=False)
    )
    return _rowcount(released), _rowcount(abandoned)
