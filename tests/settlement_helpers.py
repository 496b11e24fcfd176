"""Helpers for the settlement tests: cards and their redemptions as ORM rows, the app clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow
from storage.models.cards import CardRedemption, TrainingCard
from storage.models.catalog import Course, Institution
from tests.admin_helpers import AdminEnv


async def redeemed_card(
    session: AsyncSession,
    institution: Institution,
    number: str,
    holder: str,
    *,
    commune: str,
    start: date,
    course_days: int,
    tuition: int,
    finished_on: date | None = None,
    dropped_on: date | None = None,
    days_attended: int | None = None,
    course: Course | None = None,
) -> CardRedemption:
    """A card issued by a military unit and redeemed by ``institution`` (flushed)."""
    card = TrainingCard(
        number=number,
        holder_name=holder,
        home_commune_code=commune,
        issuer_kind="military",
        issuer_unit="Sư đoàn 3",
        issue_date=date(2025, 11, 1),
        status="redeemed",
    )
    session.add(card)
    await session.flush()
    redemption = CardRedemption(
        card_id=card.id,
        institution_id=institution.id,
        course_id=course.id if course else None,
        redeemed_on=start,
        redeemed_by="user:school",
        declaration="tick",
        declared_to="Cán bộ tuyển sinh",
        start_date=start,
        course_days=course_days,
        tuition_vnd=tuition,
        finished_on=finished_on,
        dropped_on=dropped_on,
        days_attended=days_attended,
    )
    session.add(redemption)
    await session.flush()
    return redemption


def set_today(env: AdminEnv, day: date) -> None:
    """Move the app clock to noon (UTC) of ``day``: the same day in the province."""
    env.offset = datetime.combine(day, time(5), tzinfo=UTC) - utcnow()
