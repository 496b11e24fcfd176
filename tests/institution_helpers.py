"""Helpers for the institution-list tests: institutions, their intakes and accounts (ORM rows)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

import openpyxl
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.timeline.dates import add_months, month_start
from storage.models.admin import AdminUser
from storage.models.catalog import Course, Institution
from tests.admin_helpers import AdminEnv


def months_ago(months: int, today: date | None = None) -> date:
    """The 1st of the month ``months`` before this one (negative: after)."""
    return add_months(month_start(today or date.today()), -months)


def typed_month(day: date) -> str:
    """A month as a soldier types it: ``06/2025``."""
    return f"{day.month:02d}/{day.year}"


async def make_institution(
    session: AsyncSession, name: str, trades: Sequence[str], *, kind: str = "cao_dang"
) -> Institution:
    """An institution training for ``trades`` (flushed)."""
    inst = Institution(name=name, kind=kind, trades=list(trades), place_code="6187")
    session.add(inst)
    await session.flush()
    return inst


async def make_course(
    session: AsyncSession,
    institution: Institution,
    title: str,
    *,
    trade_code: str,
    status: str = "open",
    starts_in_days: int = 30,
) -> Course:
    """An intake of the institution (open by default, starting in a month; flushed)."""
    course = Course(
        institution_id=institution.id,
        trade_code=trade_code,
        level="so_cap",
        title=title,
        start_date=date.today() + timedelta(days=starts_in_days),
        status=status,
    )
    session.add(course)
    await session.flush()
    return course


async def institution_account(env: AdminEnv, username: str, institution: Institution) -> int:
    """An ``institution`` account linked to the institution (its trades as the account's)."""
    user_id = await env.user(username, "institution", trades=list(institution.trades))
    async with env.sessionmaker() as session:
        await session.execute(
            update(AdminUser).where(AdminUser.id == user_id).values(institution_id=institution.id)
        )
        await session.commit()
    return user_id


def sheets(content: bytes) -> dict[str, list[list[object]]]:
    """Every sheet of an XLSX file: its rows of cell values (header first)."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
