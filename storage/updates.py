"""The update inbox: Telegram updates stored before they are confirmed; they never commit.

An update's life: :func:`store_updates` (state ``received``) → :func:`claim_update` in the
update's own transaction (``handled``) → :func:`mark_replied` once its handler finished
(``replied``; the payload, with what the person typed, is emptied: only the ids are kept to
recognise a repeat) → :func:`prune_updates` a day later.

Each update records its ``owner``, the process that stored it; :func:`unfinished_owners` and
:func:`unfinished_updates` let a process finish what a process that is gone left.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_name, insert_for
from storage.models import InboxUpdate
from storage.models.base import utcnow

RECEIVED, HANDLED, REPLIED = "received", "handled", "replied"

_INBOX = cast(Table, InboxUpdate.__table__)
_CLAIM = (
    update(_INBOX)
    .where(
        _INBOX.c.bot_id == bindparam("b_id"),
        _INBOX.c.update_id == bindparam("u_id"),
        _INBOX.c.state == RECEIVED,
    )
    .values(state=HANDLED)
)
_MARK_REPLIED = (
    update(_INBOX)
    .where(
        _INBOX.c.bot_id == bindparam("b_id"),
        _INBOX.c.update_id.in_(bindparam("u_ids", expanding=True)),
    )
    .values(state=REPLIED, payload={})
)
_OPEN = (RECEIVED, HANDLED)


@cache
def _store_statement(dialect_name: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING update_id (one per dialect)."""
    return (
        insert_for(dialect_name, _INBOX)
        .on_conflict_do_nothing(index_elements=[_INBOX.c.bot_id, _INBOX.c.update_id])
        .returning(_INBOX.c.update_id)
    )


async def store_updates(
    session: AsyncSession,
    *,
    bot_id: int,
    updates: Sequence[tuple[int, dict[str, Any]]],
    owner: str | None = None,
) -> set[int]:
    """Store ``(update_id, payload)`` pairs as ``received`` by process ``owner``, in one
    statement.

    Returns the ids stored now; an id already in the inbox (a repeated update) is left as it is.
    """
    if not updates:
        return set()
    now = utcnow()
    rows = [
        {
            "bot_id": bot_id,
            "update_id": uid,
            "payload": data,
            "state": RECEIVED,
            "received_at": now,
            "owner": owner,
        }
        for uid, data in updates
    ]
    # one INSERT … VALUES (…), (…) RETURNING: SQLAlchemy's "insertmanyvalues" batching
    result = await session.execute(_store_statement(dialect_name(session)), rows)
    return set(result.scalars())


async def claim_update(session: AsyncSession, *, bot_id: int, update_id: int) -> bool:
    """Mark a stored update ``handled`` in the handling's transaction.

    False when it is not ``received`` (handled before, or never stored): skip the handling.
    """
    result = await session.execute(_CLAIM, {"b_id": bot_id, "u_id": update_id})
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_replied(session: AsyncSession, *, bot_id: int, update_ids: Sequence[int]) -> None:
    """These updates' handlers finished (replies sent, or the failure reported): forget their
    payloads."""
    await session.execute(_MARK_REPLIED, {"b_id": bot_id, "u_ids": list(update_ids)})


async def unfinished_owners(session: AsyncSession, *, bot_id: int) -> list[str | None]:
    """The processes that stored updates not ``replied`` yet (None: stored before 0013)."""
    rows = await session.scalars(
        select(_INBOX.c.owner)
        .where(_INBOX.c.bot_id == bot_id, _INBOX.c.state.in_(_OPEN))
        .distinct()
    )
    return list(rows)


async def unfinished_updates(
    session: AsyncSession, *, bot_id: int, owner: str | None
) -> list[tuple[int, str, dict[str, Any]]]:
    """``(update_id, state, payload)`` of the updates process ``owner`` stored (None: before
    migration 0013) and that are not ``replied`` yet, oldest first."""
    mine = _INBOX.c.owner.is_(None) if owner is None else _INBOX.c.owner == owner
    rows = await session.execute(
        select(_INBOX.c.update_id, _INBOX.c.state, _INBOX.c.payload)
        .where(_INBOX.c.bot_id == bot_id, _INBOX.c.state.in_(_OPEN), mine)
        .order_by(_INBOX.c.update_id)
    )
    return [(r.update_id, r.state, r.payload) for r in rows]


async def prune_updates(session: AsyncSession, *, before: datetime) -> int:
    """Forget updates received before ``before`` (Telegram never resends after 24 h)."""
    result = await session.execute(delete(InboxUpdate).where(InboxUpdate.received_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
