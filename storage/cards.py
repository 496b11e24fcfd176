"""Queries on training cards (``storage/models/cards.py``): find, list, expire, link to a
person, and the cards due an expiry reminder (queued as an outbox row with its own text)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Person
from storage.models.cards import TrainingCard
from storage.models.outbox import OutboxMessage, OutboxRow

CARD_EXPIRY = "card_expiry"  # outbox kind of the expiry reminder (item_kind "card")
LIST_LIMIT = 200


async def by_number(session: AsyncSession, number: str) -> TrainingCard | None:
    return await session.scalar(select(TrainingCard).where(TrainingCard.number == number))


async def by_id(session: AsyncSession, card_id: int) -> TrainingCard | None:
    return await session.get(TrainingCard, card_id)


async def taken_numbers(session: AsyncSession, numbers: Sequence[str]) -> set[str]:
    """Which of ``numbers`` are already stored."""
    if not numbers:
        return set()
    found = await session.scalars(
        select(TrainingCard.number).where(TrainingCard.number.in_(list(numbers)))
    )
    return set(found)


async def search(
    session: AsyncSession, *, text: str | None = None, status: str | None = None
) -> list[TrainingCard]:
    """Cards whose number or holder name contains ``text`` (case-insensitive), of ``status``,
    newest first, at most :data:`LIST_LIMIT`."""
    query = select(TrainingCard)
    if text:
        like = f"%{text.lower()}%"
        query = query.where(
            or_(
                func.lower(TrainingCard.number).like(like),
                func.lower(TrainingCard.holder_name).like(like),
            )
        )
    if status:
        query = query.where(TrainingCard.status == status)
    query = query.order_by(TrainingCard.issue_date.desc(), TrainingCard.id.desc())
    return list(await session.scalars(query.limit(LIST_LIMIT)))


async def expire_due(session: AsyncSession, today: date) -> list[tuple[int, str]]:
    """Mark issued cards whose ``valid_until`` is before ``today`` expired: their (id, number)."""
    due = list(
        await session.execute(
            select(TrainingCard.id, TrainingCard.number).where(
                TrainingCard.status == "issued", TrainingCard.valid_until < today
            )
        )
    )
    if due:
        await session.execute(
            update(TrainingCard)
            .where(TrainingCard.id.in_([row[0] for row in due]), TrainingCard.status == "issued")
            .values(status="expired")
        )
    return [(int(row[0]), str(row[1])) for row in due]


async def people_by_phone(session: AsyncSession, phone: str) -> list[Person]:
    """Consented, not erased people with this (normalised) phone."""
    return list(
        await session.scalars(
            select(Person).where(
                Person.phone == phone, Person.consent_at.is_not(None), Person.erased_at.is_(None)
            )
        )
    )


async def unlinked_by_phone(session: AsyncSession, phone: str) -> list[TrainingCard]:
    """Cards with this holder phone not yet linked to anyone."""
    return list(
        await session.scalars(
            select(TrainingCard).where(
                TrainingCard.holder_phone == phone, TrainingCard.person_id.is_(None)
            )
        )
    )


async def of_person(session: AsyncSession, person_id: int) -> TrainingCard | None:
    """The person's newest card."""
    return await session.scalar(
        select(TrainingCard)
        .where(TrainingCard.person_id == person_id)
        .order_by(TrainingCard.issue_date.desc(), TrainingCard.id.desc())
        .limit(1)
    )


async def due_reminder(session: AsyncSession, until: date, today: date) -> list[TrainingCard]:
    """Issued cards of entitled holders linked to a consented, reachable person, expiring from
    ``today`` to ``until``, not reminded yet."""
    return list(
        await session.scalars(
            select(TrainingCard)
            .join(Person, Person.id == TrainingCard.person_id)
            .where(
                TrainingCard.status == "issued",
                TrainingCard.service_completed.is_(True),
                TrainingCard.other_state_training.is_(False),
                TrainingCard.expiry_reminded_at.is_(None),
                TrainingCard.valid_until >= today,
                TrainingCard.valid_until <= until,
                Person.consent_at.is_not(None),
                Person.erased_at.is_(None),
                Person.blocked_at.is_(None),
            )
        )
    )


async def queue_reminder(
    session: AsyncSession, card: TrainingCard, person_id: int, text: str, now: datetime
) -> bool:
    """One outbox message (kind :data:`CARD_EXPIRY`, unique per card) with the person's row and
    text, and the card marked reminded; False when the card had its message already."""
    insert = dialect_insert(session, OutboxMessage).values(
        kind=CARD_EXPIRY,
        item_kind="card",
        item_id=card.id,
        created_at=now,
        created_by=f"bot:{CARD_EXPIRY}",
        text_vi=card.number,
        segment={},
        status="sending",
        send_at=now,
        started_at=now,
        recipients=1,
    )
    inserted = await session.execute(
        insert.on_conflict_do_nothing(index_elements=["kind", "item_kind", "item_id"]).returning(
            OutboxMessage.id
        )
    )
    message_id = inserted.scalar()
    card.expiry_reminded_at = now
    if message_id is None:
        return False
    session.add(OutboxRow(message_id=message_id, person_id=person_id, text=text))
    await session.flush()
    return True
