"""Queries for entering and keeping the catalog (import, export, admin lists and forms);
repository functions never commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.catalog import (
    Course,
    Employer,
    Institution,
    JobFair,
    SupportPolicy,
    Vacancy,
)

CatalogModel = Institution | SupportPolicy | Course | Employer | JobFair | Vacancy
ALL_MODELS: tuple[type[CatalogModel], ...] = (
    Institution,
    SupportPolicy,
    Course,
    Employer,
    JobFair,
    Vacancy,
)


def _equal(model: type[Any], column: str, value: Any) -> ColumnElement[bool]:
    attr = getattr(model, column)
    return attr.is_(None) if value is None else attr == value


async def find(
    session: AsyncSession, model: type[CatalogModel], key: dict[str, Any]
) -> CatalogModel | None:
    """The row whose columns equal ``key`` (None matches NULL), or None."""
    stmt = select(model).where(*(_equal(model, c, v) for c, v in key.items())).limit(1)
    return cast(CatalogModel | None, (await session.scalars(stmt)).first())


async def get(session: AsyncSession, model: type[CatalogModel], row_id: int) -> CatalogModel | None:
    """One row by id, or None."""
    return cast(CatalogModel | None, await session.get(model, row_id))


async def rows(
    session: AsyncSession, model: type[CatalogModel], institution_id: int | None = None
) -> Sequence[CatalogModel]:
    """Every row of one list by id; courses of one institution when ``institution_id``."""
    stmt = select(model).order_by(model.id)
    if model is Course and institution_id is not None:
        stmt = stmt.where(Course.institution_id == institution_id)
    return cast(Sequence[CatalogModel], (await session.scalars(stmt)).all())


async def names(session: AsyncSession, model: type[CatalogModel], column: str) -> dict[int, str]:
    """id → name (or title, code) of every row of one list."""
    result = await session.execute(select(model.id, getattr(model, column)))
    return dict(result.all())


async def is_empty(session: AsyncSession) -> bool:
    """Whether the catalog holds no institution, course, fair or vacancy at all."""
    for model in (Institution, Course, JobFair, Vacancy):
        if await session.scalar(select(func.count()).select_from(model)):
            return False
    return True


async def institution_name(session: AsyncSession, institution_id: int | None) -> str | None:
    """An institution's name, or None."""
    if institution_id is None:
        return None
    return await session.scalar(select(Institution.name).where(Institution.id == institution_id))
