"""Queries behind settlements of training support and the officers' dated rules; repository
functions never commit. Which redemptions belong to a period is decided here in SQL (ended,
finished or dropped, within the period's days); what they are worth is computed above
(``bot/cards/amounts.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.cards import CardRedemption, Settlement, SupportRuleOverride, TrainingCard
from storage.models.catalog import Course, Institution

SENT = ("submitted", "approved")  # a settlement the Department has in hand


def ended_on() -> Any:
    """The day a redemption's course ended for it: finished, else dropped (a column)."""
    return func.coalesce(CardRedemption.finished_on, CardRedemption.dropped_on)


def _in_period(institution_id: int, start: date, end: date) -> list[Any]:
    return [
        CardRedemption.institution_id == institution_id,
        ended_on() >= start,
        ended_on() <= end,
    ]


async def period_rows(
    session: AsyncSession, institution_id: int, start: date, end: date
) -> list[tuple[CardRedemption, TrainingCard, Course | None]]:
    """The institution's redemptions whose course ended between ``start`` and ``end``, with
    their card and course, by holder name."""
    stmt = (
        select(CardRedemption, TrainingCard, Course)
        .join(TrainingCard, TrainingCard.id == CardRedemption.card_id)
        .outerjoin(Course, Course.id == CardRedemption.course_id)
        .where(*_in_period(institution_id, start, end))
        .order_by(TrainingCard.holder_name, TrainingCard.number)
    )
    return [(r, c, k) for r, c, k in (await session.execute(stmt)).all()]


async def ended_years(session: AsyncSession, institution_id: int | None = None) -> list[int]:
    """Years in which some redemption (of one institution, or any) ended."""
    stmt = select(ended_on()).where(ended_on().is_not(None)).distinct()
    if institution_id is not None:
        stmt = stmt.where(CardRedemption.institution_id == institution_id)
    return sorted({d.year for d in (await session.scalars(stmt)).all() if d is not None})


async def ended_counts(session: AsyncSession, start: date, end: date) -> dict[int, int]:
    """Redemptions ended between ``start`` and ``end``, per institution."""
    stmt = (
        select(CardRedemption.institution_id, func.count())
        .where(ended_on() >= start, ended_on() <= end)
        .group_by(CardRedemption.institution_id)
    )
    return {i: int(n) for i, n in (await session.execute(stmt)).all()}


async def settlements(session: AsyncSession, institution_id: int | None = None) -> list[Settlement]:
    """Stored settlements (of one institution, or all)."""
    stmt = select(Settlement).order_by(Settlement.period_start, Settlement.period)
    if institution_id is not None:
        stmt = stmt.where(Settlement.institution_id == institution_id)
    return list((await session.scalars(stmt)).all())


async def get_settlement(
    session: AsyncSession, institution_id: int, period: str, start: date
) -> Settlement | None:
    """The stored settlement of that institution and period, if any."""
    stmt = select(Settlement).where(
        Settlement.institution_id == institution_id,
        Settlement.period == period,
        Settlement.period_start == start,
    )
    return (await session.scalars(stmt)).first()


async def institutions(session: AsyncSession) -> list[Institution]:
    """Every institution, by name."""
    return list((await session.scalars(select(Institution).order_by(Institution.name))).all())


async def settle_cards(session: AsyncSession, redemption_ids: Sequence[int]) -> None:
    """The cards of these redemptions become ``settled``."""
    if not redemption_ids:
        return
    cards = select(CardRedemption.card_id).where(CardRedemption.id.in_(list(redemption_ids)))
    await session.execute(
        update(TrainingCard).where(TrainingCard.id.in_(cards)).values(status="settled")
    )


async def paid_rows(
    session: AsyncSession,
    start: date,
    end: date,
    *,
    commune_codes: Sequence[str] | None = None,
    institution_id: int | None = None,
) -> list[tuple[str | None, int, str, dict[str, Any]]]:
    """Redemptions ended between ``start`` and ``end`` whose amounts were frozen by a submitted
    or approved settlement: (the card's home commune, institution id, name, amounts)."""
    sent = select(Settlement.id).where(Settlement.status.in_(SENT))
    stmt = (
        select(
            TrainingCard.home_commune_code,
            Institution.id,
            Institution.name,
            CardRedemption.amounts,
        )
        .join(TrainingCard, TrainingCard.id == CardRedemption.card_id)
        .join(Institution, Institution.id == CardRedemption.institution_id)
        .where(
            ended_on() >= start,
            ended_on() <= end,
            CardRedemption.amounts.is_not(None),
            CardRedemption.settlement_id.in_(sent),
        )
    )
    if commune_codes is not None:
        stmt = stmt.where(TrainingCard.home_commune_code.in_(list(commune_codes) or [""]))
    if institution_id is not None:
        stmt = stmt.where(CardRedemption.institution_id == institution_id)
    return [(c, i, n, a) for c, i, n, a in (await session.execute(stmt)).all()]


async def overrides(session: AsyncSession) -> list[SupportRuleOverride]:
    """The officers' dated rules, by kind and day."""
    stmt = select(SupportRuleOverride).order_by(
        SupportRuleOverride.kind, SupportRuleOverride.valid_from
    )
    return list((await session.scalars(stmt)).all())


async def latest_frozen_start(session: AsyncSession) -> date | None:
    """The latest first day of training among redemptions whose amounts a submitted or
    approved settlement froze (a rule from that day or before would change them)."""
    sent = select(Settlement.id).where(Settlement.status.in_(SENT))
    stmt = select(func.max(CardRedemption.start_date)).where(
        CardRedemption.amounts.is_not(None), CardRedemption.settlement_id.in_(sent)
    )
    return await session.scalar(stmt)


async def latest_sent_period_end(session: AsyncSession) -> date | None:
    """The last day of the latest submitted or approved settlement period."""
    stmt = select(func.max(Settlement.period_end)).where(Settlement.status.in_(SENT))
    return await session.scalar(stmt)


async def add_override(
    session: AsyncSession, kind: str, valid_from: date, fields: dict[str, Any], actor: str
) -> SupportRuleOverride:
    """Store an officer's dated rule (flushed)."""
    row = SupportRuleOverride(kind=kind, valid_from=valid_from, fields=fields, created_by=actor)
    session.add(row)
    await session.flush()
    return row
