"""Queries behind an institution's redemption of training cards; repository functions never
commit. What may be redeemed is decided above (``bot/cards/redeem.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from storage.models.cards import CardRedemption, TrainingCard
from storage.models.catalog import Course, Institution
from storage.models.core import Person


@dataclass(frozen=True)
class RedemptionRow:
    """One redemption with what a list shows next to it."""

    redemption: CardRedemption
    card_number: str
    holder_name: str
    person_name: str | None
    course_title: str | None
    institution_name: str


async def card_by_number(session: AsyncSession, number: str) -> TrainingCard | None:
    """The card with this number (exact), if any."""
    return await session.scalar(select(TrainingCard).where(TrainingCard.number == number))


async def cards_of_person(
    session: AsyncSession, person_id: int, phones: Sequence[str]
) -> Sequence[TrainingCard]:
    """Cards linked to the person, or linked to nobody and naming one of ``phones`` (the
    person's phone as it may be written), newest first."""
    cond = TrainingCard.person_id == person_id
    if phones:
        unlinked = TrainingCard.person_id.is_(None) & TrainingCard.holder_phone.in_(list(phones))
        cond = cond | unlinked
    stmt = select(TrainingCard).where(cond).order_by(TrainingCard.issue_date.desc())
    return (await session.scalars(stmt)).all()


async def redemption_of_card(session: AsyncSession, card_id: int) -> CardRedemption | None:
    """The card's redemption, if it was redeemed."""
    stmt = select(CardRedemption).where(CardRedemption.card_id == card_id)
    return await session.scalar(stmt)


async def redemption(
    session: AsyncSession, redemption_id: int, *, with_file: bool = False
) -> CardRedemption | None:
    """One redemption (``with_file``: its declaration scan loaded too)."""
    stmt = select(CardRedemption).where(CardRedemption.id == redemption_id)
    if with_file:
        stmt = stmt.options(undefer(CardRedemption.declaration_file))
    return await session.scalar(stmt)


async def institution_name(session: AsyncSession, institution_id: int) -> str:
    """The institution's name ('' when it is gone)."""
    return (
        await session.scalar(select(Institution.name).where(Institution.id == institution_id))
    ) or ""


async def redemptions_of(session: AsyncSession, institution_id: int) -> list[RedemptionRow]:
    """The institution's redemptions, newest first."""
    stmt = (
        select(
            CardRedemption,
            TrainingCard.number,
            TrainingCard.holder_name,
            Person.full_name,
            Course.title,
            Institution.name,
        )
        .join(TrainingCard, TrainingCard.id == CardRedemption.card_id)
        .join(Institution, Institution.id == CardRedemption.institution_id)
        .outerjoin(Person, Person.id == CardRedemption.person_id)
        .outerjoin(Course, Course.id == CardRedemption.course_id)
        .where(CardRedemption.institution_id == institution_id)
        .order_by(CardRedemption.redeemed_on.desc(), CardRedemption.id.desc())
    )
    return [RedemptionRow(*row) for row in (await session.execute(stmt)).all()]


async def add_redemption(session: AsyncSession, row: CardRedemption) -> bool:
    """Insert the redemption and mark its card redeemed, if the card is still ``issued`` and
    was not redeemed meanwhile (the row lock, and the unique constraint behind it, decide
    between two at once); a card not yet linked to anyone is linked to the redemption's person.
    False when another redemption won (nothing of this one is kept)."""
    try:
        async with session.begin_nested():
            marked = await session.execute(
                update(TrainingCard)
                .where(TrainingCard.id == row.card_id, TrainingCard.status == "issued")
                .values(
                    status="redeemed",
                    person_id=func.coalesce(TrainingCard.person_id, row.person_id),
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(marked, "rowcount", 0) != 1:
                return False
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True
