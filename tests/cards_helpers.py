"""Helpers of the training-card tests: a card's fields, a card recorded through the domain, a
unit's list as a workbook, and a soldier who finished the survey with a given name."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cards.cards import CardData, record
from bot.cards.importer import SHEET, card_sheets
from bot.cards.rules import current_rules
from bot.catalog import xlsx
from emulator import EmulatedUser, EmulatorClient
from storage.models.admin import AuditEntry
from storage.models.cards import TrainingCard
from tests.survey_helpers import run_to_trades, tap_until_summary

Sessions = async_sessionmaker[AsyncSession]
MINH = "Hoàng Văn Minh"
PHONE = "+84912345678"  # "0912 345 678", as the survey stores it
ROW: dict[str, Any] = {
    "number": "QK1-2026-000123",
    "holder_name": MINH,
    "holder_phone": "0912 345 678",
    "holder_birth_date": "15/04/2004",
    "home_commune_code": "Phường Tam Thanh",
    "issuer_kind": "military",
    "issuer_unit": "Sư đoàn 3, Quân khu 1",
    "issue_date": "01/03/2026",
    "discharge_date": "01/03/2026",
}


def card_data(**changes: Any) -> CardData:
    """A card for Hoàng Văn Minh issued on 1/3/2026 by a military unit."""
    base = CardData(
        number="QK1-2026-000123",
        holder_name=MINH,
        holder_phone=PHONE,
        holder_birth_date=date(2004, 4, 15),
        home_commune_code="5986",
        issuer_kind="military",
        issuer_unit="Sư đoàn 3, Quân khu 1",
        issue_date=date(2026, 3, 1),
        discharge_date=date(2026, 3, 1),
    )
    return replace(base, **changes)


async def add_card(sessions: Sessions, **changes: Any) -> int:
    """Record a card as an officer would (committed); its id."""
    async with sessions() as s:
        card = await record(s, card_data(**changes), rules=await current_rules(s), actor="test")
        await s.commit()
        return card.id


async def get_card(sessions: Sessions, number: str) -> TrainingCard | None:
    async with sessions() as s:
        return await s.scalar(select(TrainingCard).where(TrainingCard.number == number))


async def audit_actions(sessions: Sessions) -> list[str]:
    async with sessions() as s:
        return list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def cards_workbook(rows: list[dict[str, Any]]) -> bytes:
    """A unit's list with ``rows`` (from row 3 on, under the two header rows)."""
    return xlsx.write({SHEET: rows}, spec=card_sheets())


async def soldier(
    emu: EmulatorClient, user_id: int, *, name: str = MINH, lang: str = "vi"
) -> EmulatedUser:
    """A soldier home in Tam Thanh, phone 0912 345 678, who finished the survey choosing
    welding (hàn điện)."""
    user = emu.user(user_id, first_name="Minh", language_code="vi")
    reply = await run_to_trades(user, name=name, months=("03/2024", "3/2026"))
    reply = await user.ask("han dien")
    reply = await user.click(reply.button_texts[0])
    reply = await tap_until_summary(user, await user.click("Xong"))
    await user.click("✅ Xác nhận")
    if lang == "en":
        await user.ask("/language")
        await user.click("🇬🇧 English")
    return user
