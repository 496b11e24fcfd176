"""aiogram FSM storage in the database, so a restart loses no half-finished conversation.

Reads are served from a small in-process cache; the database is the durable copy. Writes made
inside an update join that update's transaction (see :data:`current_session`) and reach the cache
only when it commits, so a rolled-back update leaves the conversation as it was. With several
bot processes, use Redis (``REDIS_URL``) instead: this cache is per process.

An empty record (no state, no data: ``FSMContext.clear()``) is no row at all, as in aiogram's
Redis storage: after a refusal or an erasure nothing keyed by the Telegram id is left.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import bindparam, delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage.dialect import insert_for
from storage.models import FsmRecord
from storage.models.base import utcnow

# The per-update session (set by the bot's session middleware): FSM reads and writes join its
# transaction, so state and answers commit together and SQLite never waits on itself.
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)

Record = tuple[str | None, dict[str, Any]]
_PENDING = "fsm_pending"

_TABLE = FsmRecord.__table__
_SELECT = select(_TABLE.c.state, _TABLE.c.data).where(_TABLE.c.key == bindparam("key"))
_DELETE = delete(FsmRecord).where(FsmRecord.key == bindparam("key"))
_EMPTY: Record = (None, {})


@cache
def _upsert_statement(dialect_name: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE of one FSM record (one statement per dialect)."""
    stmt = insert_for(dialect_name, _TABLE)
    return stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={
            "state": stmt.excluded.state,
            "data": stmt.excluded.data,
            "updated_at": stmt.excluded.updated_at,
        },
    )


def _upsert_params(skey: str, record: Record) -> dict[str, Any]:
    return {"key": skey, "state": record[0], "data": record[1], "updated_at": utcnow()}


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars), much cheaper than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_copy(v) for v in value]
    return value


def storage_key_string(key: StorageKey) -> str:
    """A stable text key: bot, chat, user, thread, business connection, destiny."""
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

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cache_size: int = 10_000):
        self._sessionmaker = sessionmaker
        self._cache: OrderedDict[str, Record] = OrderedDict()
        self._cache_size = cache_size

    def remember(self, key: str, record: Record) -> None:
        """Keep a committed record in the read cache (least recently used dropped first)."""
        self._cache[key] = record
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[tuple[AsyncSession, bool]]:
        shared = current_session.get()
        if shared is not None:
            yield shared, True
            return
        async with self._sessionmaker() as session:
            yield session, False

    async def _read(self, key: StorageKey) -> Record:
        skey = storage_key_string(key)
        shared = current_session.get()
        if shared is not None:
            pending = shared.sync_session.info.get(_PENDING, {})
            if (self, skey) in pending:
                return pending[(self, skey)]
        if skey in self._cache:
            self._cache.move_to_end(skey)
            return self._cache[skey]
        async with self._session() as (session, _):
            rows = (await session.execute(_SELECT, {"key": skey})).all()
        row = rows[0] if rows else None
        record: Record = (row[0], dict(row[1] or {})) if row else (None, {})
        self.remember(skey, record)
        return record

    async def _write(self, key: StorageKey, record: Record) -> None:
        skey = storage_key_string(key)
        if await self._read(key) == record:
            return  # unchanged: nothing to write
        shared = current_session.get()
        if shared is not None:
            # staged: written once per key just before the update's transaction commits
            shared.sync_session.info.setdefault(_PENDING, {})[(self, skey)] = record
            return
        async with self._sessionmaker() as session:
            conn = await session.connection()
            if record == _EMPTY:
                await conn.execute(_DELETE, {"key": skey})
            else:
                upsert = _upsert_statement(conn.dialect.name)
                await conn.execute(upsert, _upsert_params(skey, record))
            await session.commit()
        self.remember(skey, record)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        _, data = await self._read(key)
        await self._write(key, (value, data))

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        state, _ = await self._read(key)
        await self._write(key, (state, _json_copy(dict(data))))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict(_json_copy((await self._read(key))[1]))

    async def close(self) -> None:
        """Nothing to close: the engine belongs to the application."""


def has_staged_writes(session: AsyncSession) -> bool:
    """True when FSM writes wait for this session's commit."""
    return bool(session.sync_session.info.get(_PENDING))


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """Write the staged FSM records in the transaction that is about to commit."""
    pending = session.info.get(_PENDING)
    if pending:
        conn = session.connection()
        records = [(skey, record) for (_, skey), record in pending.items()]
        kept = [_upsert_params(skey, record) for skey, record in records if record != _EMPTY]
        gone = [{"key": skey} for skey, record in records if record == _EMPTY]
        if kept:
            conn.execute(_upsert_statement(conn.dialect.name), kept)
        if gone:  # an empty record is no row
            conn.execute(_DELETE, gone)


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    """Committed FSM writes become visible in their storage's cache."""
    for (storage, skey), record in session.info.pop(_PENDING, {}).items():
        storage.remember(skey, record)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    """Rolled-back FSM writes never reach the cache."""
    session.info.pop(_PENDING, None)
