"""Helpers for the redemption tests: cards, two institutions with their courses and accounts,
and a returnee on the first one's month-18 list (ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.cards import CardRedemption, TrainingCard
from storage.models.catalog import Course, Institution
from storage.models.timeline import Outcome
from tests.admin_helpers import AdminEnv, csrf_of
from tests.factories import make_person
from tests.institution_helpers import institution_account, make_institution

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DISCHARGE = date(2026, 2, 1)
PROVINCE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def make_card(
    session: AsyncSession,
    number: str,
    *,
    holder_name: str = "Nguyễn Văn Ánh",
    holder_phone: str | None = "0912345678",
    birth: date | None = None,
    person_id: int | None = None,
    valid_days: int = 200,
    **fields: Any,
) -> TrainingCard:
    """An issued card (valid ``valid_days`` more days; negative: expired by then; flushed)."""
    card = TrainingCard(
        number=number,
        person_id=person_id,
        holder_name=holder_name,
        holder_phone=holder_phone,
        holder_birth_date=birth,
        issuer_kind="military",
        issuer_unit="Trung đoàn 123",
        issue_date=province_today() - timedelta(days=100),
        valid_until=province_today() + timedelta(days=valid_days),
        **fields,
    )
    session.add(card)
    await session.flush()
    return card


async def make_intake(
    session: AsyncSession,
    inst: Institution,
    title: str,
    *,
    level: str = "so_cap",
    trade_code: str = "weld",
) -> Course:
    """An open intake that started today: 60 days of study, 3,000,000 đ (flushed)."""
    course = Course(
        institution_id=inst.id,
        trade_code=trade_code,
        level=level,
        title=title,
        start_date=province_today(),
        duration_days=60,
        fee_vnd=3_000_000,
        status="open",
    )
    session.add(course)
    await session.flush()
    return course


def province_today() -> date:
    """Today in the province (the tests' TIMEZONE)."""
    return datetime.now(PROVINCE_TZ).date()


def local_today(env: AdminEnv) -> date:
    """Today in the province, as the app sees it."""
    return env.now().astimezone(PROVINCE_TZ).date()


@dataclass
class World:
    env: AdminEnv
    person_id: int
    other_id: int  # someone on school B's list only
    school_a: int
    school_b: int
    course_a: int
    course_a_trung_cap: int
    course_b: int


async def build_world(env: AdminEnv) -> World:
    """School A (weld) and school B (drive_b), their intakes and accounts, a soldier (weld) on
    A's list, another (drive_b) on B's, and admin ``boss``."""
    async with env.sessionmaker() as s:
        person = await make_person(
            s,
            full_name="Nguyễn Văn Ánh",
            trades=("weld",),
            consent_sharing=True,
            discharge_month=DISCHARGE,
        )
        other = await make_person(
            s,
            full_name="Lý Văn Bảo",
            phone="+84987654321",
            trades=("drive_b",),
            consent_sharing=True,
            discharge_month=DISCHARGE,
        )
        a = await make_institution(s, "Trường Cao đẳng Lạng Sơn", ["weld"])
        b = await make_institution(s, "Trung tâm lái xe Lạng Sơn", ["drive_b"], kind="lai_xe")
        course_a = await make_intake(s, a, "Hàn điện sơ cấp")
        tc = await make_intake(s, a, "Hàn trung cấp", level="trung_cap")
        course_b = await make_intake(s, b, "Lái xe hạng B", trade_code="drive_b")
        await s.commit()
        world = World(env, person.id, other.id, a.id, b.id, course_a.id, tc.id, course_b.id)
    await institution_account(env, "school_a", a)
    await institution_account(env, "school_b", b)
    await env.user("boss", "admin")
    return world


async def post_redeem(
    client: httpx.AsyncClient,
    institution_id: int,
    card: TrainingCard,
    person_id: int,
    course_id: int,
    *,
    scan: bytes | None = None,
    **fields: str,
) -> httpx.Response:
    """Confirm a redemption the way the page's form does (a tick unless ``scan``)."""
    page = await client.get(f"/redemptions/{institution_id}")
    data: dict[str, str] = {
        "csrf_token": csrf_of(page.text),
        "card_id": str(card.id),
        "person_id": str(person_id),
        "course_id": str(course_id),
        "declaration": "scan" if scan is not None else "tick",
        "declared_to": "Cán bộ Hoàng Thị Mai",
        **fields,
    }  # fields may override the declaration
    files = {"scan": ("cam-ket.pdf", scan, "application/pdf")} if scan is not None else None
    return await client.post(f"/redemptions/{institution_id}/redeem", data=data, files=files)


async def stored(env: AdminEnv, card_id: int) -> tuple[str, list[CardRedemption]]:
    """The card's status and its redemptions."""
    async with env.sessionmaker() as s:
        card = await s.get(TrainingCard, card_id)
        assert card is not None
        rows = (
            await s.scalars(select(CardRedemption).where(CardRedemption.card_id == card_id))
        ).all()
        return card.status, list(rows)


async def outcomes(env: AdminEnv, person_id: int) -> list[str]:
    """The person's outcome statuses, oldest first."""
    async with env.sessionmaker() as s:
        stmt = select(Outcome.status).where(Outcome.person_id == person_id).order_by(Outcome.id)
        return list((await s.scalars(stmt)).all())
