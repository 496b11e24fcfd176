"""Outbox queries: messages by status, the rows of one message, the report's counts and
failures, opt-outs. The send state machine itself is ``storage/delivery.py``; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Person
from storage.models.outbox import BroadcastOptOut, OutboxMessage, OutboxRow

FAILURES = ("blocked", "not_found", "failed", "unknown", "skipped")
OPEN = ("pending", "claimed", "sending")


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def start_due(session: AsyncSession, now: datetime) -> list[OutboxMessage]:
    """Scheduled messages whose time has come become 'sending'; returns them. Reads first, so
    an idle step takes no write lock."""
    due = (OutboxMessage.status == "scheduled", OutboxMessage.send_at <= now)
    if await session.scalar(select(OutboxMessage.id).where(*due).limit(1)) is None:
        return []
    ids = list(
        await session.scalars(
            update(OutboxMessage)
            .where(*due)
            .values(status="sending", started_at=now)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    found = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .execution_options(populate_existing=True)
    )
    return list(found)


async def set_recipients(session: AsyncSession, message_id: int, recipients: int) -> None:
    """The row count once the outbox is filled."""
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(recipients=recipients)
    )


async def next_sending(session: AsyncSession) -> OutboxMessage | None:
    """The message being sent that started first."""
    return await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.status == "sending")
        .order_by(OutboxMessage.started_at, OutboxMessage.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )


async def media_of(session: AsyncSession, message_id: int) -> bytes | None:
    """The uploaded file of a message (loaded only until Telegram gave it a file id)."""
    return await session.scalar(
        select(OutboxMessage.media_data).where(OutboxMessage.id == message_id)
    )


async def set_file_id(session: AsyncSession, message_id: int, file_id: str) -> None:
    """Telegram's id of the uploaded file: later recipients get it without an upload."""
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(media_file_id=file_id)
    )


async def finish_if_done(session: AsyncSession, message_id: int, now: datetime) -> bool:
    """Mark a message 'done' when none of its rows is waiting or in flight."""
    left = await session.scalar(
        select(func.count())
        .select_from(OutboxRow)
        .where(OutboxRow.message_id == message_id, OutboxRow.status.in_(OPEN))
    )
    if left:
        return False
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(status="done", finished_at=now)
    )
    return _rowcount(result) == 1


async def people_and_opt_outs(
    session: AsyncSession, person_ids: Sequence[int]
) -> tuple[dict[int, Person], set[int]]:
    """People by id and which of them opted out of broadcasts."""
    people = await session.scalars(
        select(Person)
        .where(Person.id.in_(set(person_ids)))
        .execution_options(populate_existing=True)
    )
    opted = await session.scalars(
        select(BroadcastOptOut.person_id).where(BroadcastOptOut.person_id.in_(set(person_ids)))
    )
    return {p.id: p for p in people}, set(opted)


async def skip_rows(session: AsyncSession, skipped: list[dict[str, Any]]) -> None:
    """Claimed rows that must not be sent (``{"id", "result"}`` each) become 'skipped'."""
    if skipped:
        await session.execute(
            update(OutboxRow), [{**s, "status": "skipped", "claim_token": None} for s in skipped]
        )


async def set_status(
    session: AsyncSession, message_id: int, new: str, allowed_from: Sequence[str], now: datetime
) -> bool:
    """Change a message's status when it is in one of ``allowed_from``; True if changed.

    Pausing releases the claimed rows of a batch being sent (its sends are cancelled before
    their call); cancelling also cancels every row not attempted yet.
    """
    values: dict[str, Any] = {"status": new}
    if new == "cancelled":
        values["finished_at"] = now
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(allowed_from))
        .values(**values)
    )
    if _rowcount(result) != 1:
        return False
    rows = OutboxRow.message_id == message_id
    if new == "paused":
        await session.execute(
            update(OutboxRow)
            .where(rows, OutboxRow.status == "claimed")
            .values(status="pending", claimed_at=None, claim_token=None)
        )
    elif new == "cancelled":
        await session.execute(
            update(OutboxRow)
            .where(rows, OutboxRow.status.in_(("pending", "claimed")))
            .values(status="cancelled", claim_token=None)
        )
    return True


async def resend_unknown(session: AsyncSession, message_id: int) -> int:
    """Rows whose result is unknown go back to pending (a counsellor's choice: the person may
    get the message twice); returns how many."""
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.message_id == message_id, OutboxRow.status == "unknown")
        .values(status="pending", claimed_at=None, claim_token=None, result="resent by hand")
    )
    return _rowcount(result)


async def status_counts(session: AsyncSession, message_id: int) -> dict[str, int]:
    """Rows by status."""
    rows = await session.execute(
        select(OutboxRow.status, func.count())
        .where(OutboxRow.message_id == message_id)
        .group_by(OutboxRow.status)
    )
    return {status: int(n) for status, n in rows.all()}


async def sent_since(session: AsyncSession, message_id: int, since: datetime) -> int:
    """Rows sent at or after ``since`` (for the rate)."""
    return int(
        await session.scalar(
            select(func.count()).where(
                OutboxRow.message_id == message_id,
                OutboxRow.status == "sent",
                OutboxRow.sent_at >= since,
            )
        )
        or 0
    )


async def opt_out_count(session: AsyncSession, message_id: int) -> int:
    """People who opted out from this message (its button, or /stop right after it)."""
    return int(
        await session.scalar(select(func.count()).where(BroadcastOptOut.message_id == message_id))
        or 0
    )


async def failures(
    session: AsyncSession, message_id: int, *, limit: int | None = None
) -> list[tuple[OutboxRow, Person]]:
    """Rows that did not end 'sent' (nor cancelled), with their people, by id."""
    stmt = (
        select(OutboxRow, Person)
        .join(Person, Person.id == OutboxRow.person_id)
        .where(OutboxRow.message_id == message_id, OutboxRow.status.in_(FAILURES))
        .order_by(OutboxRow.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(row, person) for row, person in (await session.execute(stmt)).all()]


async def list_messages(
    session: AsyncSession, *, created_by: str | None, limit: int = 100
) -> list[OutboxMessage]:
    """Broadcasts, newest first; only one author's when ``created_by`` is given."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.kind == "broadcast")
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    if created_by is not None:
        stmt = stmt.where(OutboxMessage.created_by == created_by)
    return list(await session.scalars(stmt))


async def last_message_sent_to(session: AsyncSession, person_id: int) -> int | None:
    """The broadcast this person got last (for an opt-out by /stop)."""
    return await session.scalar(
        select(OutboxRow.message_id)
        .join(OutboxMessage, OutboxMessage.id == OutboxRow.message_id)
        .where(
            OutboxRow.person_id == person_id,
            OutboxRow.status == "sent",
            OutboxMessage.kind == "broadcast",
        )
        .order_by(OutboxRow.sent_at.desc(), OutboxRow.id.desc())
        .limit(1)
    )


async def message_exists(session: AsyncSession, message_id: int) -> bool:
    """Whether the outbox has this message."""
    found = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.id == message_id))
    return found is not None


async def add_opt_out(
    session: AsyncSession, person_id: int, message_id: int | None, now: datetime
) -> None:
    """Record an opt-out (the first one stays)."""
    stmt = dialect_insert(session, BroadcastOptOut).values(
        person_id=person_id, opted_out_at=now, message_id=message_id
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["person_id"]))


async def remove_opt_out(session: AsyncSession, person_id: int) -> bool:
    """Subscribe again; True when the person had opted out."""
    result = await session.execute(
        delete(BroadcastOptOut).where(BroadcastOptOut.person_id == person_id)
    )
    return _rowcount(result) > 0
