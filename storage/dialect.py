"""Statements the repositories share: INSERT … ON CONFLICT per database, UPDATE by id."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow


def insert_for(dialect_name: str, table: Any) -> Any:
    """``insert(table)`` that knows ``on_conflict_do_update/nothing`` (PostgreSQL or SQLite)."""
    module: Any = postgresql if dialect_name == "postgresql" else sqlite
    return module.insert(table)


def dialect_name(session: AsyncSession) -> str:
    """The name of the database behind ``session`` ("sqlite" or "postgresql")."""
    return str(session.get_bind().dialect.name)


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """:func:`insert_for` the database behind ``session``."""
    return insert_for(dialect_name(session), table)


@cache
def _update_by_id_statement(table: Table, columns: tuple[str, ...]) -> Any:
    """UPDATE table SET these columns WHERE id = :pk (built once per table and columns)."""
    return (
        update(table)
        .where(table.c.id == bindparam("pk"))
        .values({c: bindparam(f"new_{c}") for c in columns})
    )


async def update_by_id(
    session: AsyncSession, table: Table, row_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    """Write some columns of one row now, in one statement, with ``updated_at``.

    Returns what was written (``values`` and ``updated_at``), for the caller to keep its loaded
    object in step. The hot paths use it instead of a unit-of-work flush at commit.
    """
    written = {**values, "updated_at": utcnow()}
    columns = tuple(sorted(written))
    params = {f"new_{c}": written[c] for c in columns}
    await session.execute(_update_by_id_statement(table, columns), {"pk": row_id, **params})
    return written
