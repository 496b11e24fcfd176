"""Dialect-specific INSERT … ON CONFLICT for the two databases we support."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


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
