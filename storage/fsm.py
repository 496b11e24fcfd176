"""aiogram FSM storage in the database, so a restart loses no half-finished conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import FsmRecord
from storage.models.base import utcnow

# The per-update session (set by the bot's session middleware): FSM reads and writes join its
# transaction, so state and answers commit together and SQLite never waits on itself.
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


def storage_key_string(key: StorageKey) -> str:
    """A stable text key; the user id sits in a fixed place so erasure can find every key."""
    parts = [
        str(key.bot_id),
        str(key.chat_id),
        str(key.user_id),
        str(key.thread_id or ""),
        key.business_connection_id or "",
        key.destiny,
    ]
    return ":".join(parts)


class SqlStorage(BaseStorage):
    """FSM state and data in the ``fsm_states`` table (SQLite or PostgreSQL)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]):
        self._sessionmaker = sessionmaker

    @asynccontextmanager
    async def _session(self, write: bool) -> AsyncIterator[AsyncSession]:
        shared = current_session.get()
        if shared is not None:
            yield shared
            return
        async with self._sessionmaker() as session:
            yield session
            if write:
                await session.commit()

    async def _upsert(self, key: StorageKey, values: dict[str, Any]) -> None:
        async with self._session(write=True) as session:
            dialect = session.bind.dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            row = {"key": storage_key_string(key), "updated_at": utcnow(), **values}
            row.setdefault("data", {})
            stmt = insert(FsmRecord).values(**row)
            update = {
                k: v for k, v in row.items() if k != "key" and (k in values or k == "updated_at")
            }
            stmt = stmt.on_conflict_do_update(index_elements=[FsmRecord.key], set_=update)
            await session.execute(stmt)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, {"state": value})

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session(write=False) as session:
            return await session.scalar(
                select(FsmRecord.state).where(FsmRecord.key == storage_key_string(key))
            )

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._upsert(key, {"data": dict(data)})

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session(write=False) as session:
            data = await session.scalar(
                select(FsmRecord.data).where(FsmRecord.key == storage_key_string(key))
            )
        return dict(data or {})

    async def close(self) -> None:
        """Nothing to close: the engine belongs to the application."""
