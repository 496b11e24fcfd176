"""The demo's sample training card: fictional, marked [MẪU], for the demo soldier "Hoàng Văn
Minh" whose phone is 0912 345 678 (finish the survey with that name and phone, then /card)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.cards import CardData, record
from bot.cards.rules import current_rules
from storage import cards as repo

SAMPLE_NUMBER = "MẪU-0001"
ISSUED_DAYS_AGO = 20


def sample_card(today: date) -> CardData:
    """The sample card, issued a few days before ``today``."""
    issued = today - timedelta(days=ISSUED_DAYS_AGO)
    return CardData(
        number=SAMPLE_NUMBER,
        holder_name="Hoàng Văn Minh",
        holder_phone="+84912345678",
        holder_birth_date=None,
        home_commune_code=None,
        issuer_kind="military",
        issuer_unit="[MẪU] Ban Chỉ huy Quân sự tỉnh Lạng Sơn",
        issue_date=issued,
        discharge_date=issued,
    )


async def load_sample_card(session: AsyncSession, *, today: date, actor: str) -> bool:
    """Record the sample card unless it is there (committed); whether it was recorded."""
    if await repo.by_number(session, SAMPLE_NUMBER) is not None:
        return False
    rules = await current_rules(session)
    await record(session, sample_card(today), rules=rules, actor=actor)
    await session.commit()
    return True
