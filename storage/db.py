"""Engine and session factory: SQLite in WAL mode by default, PostgreSQL through asyncpg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(database_url: str, *, inline: bool = False, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; for SQLite make the folder and turn on WAL and foreign keys.

    ``inline=True`` (the bot's own engine) runs SQLite on the event loop instead of through
    aiosqlite's thread: see :mod:`storage.sqlite_inline`. It does not change PostgreSQL.

    A SQLite engine pools several connections: in WAL mode readers never wait for each other or
    for the writer, and a writer waits for the write lock on ``busy_timeout``. An admin request
    may hold more than one (the dashboard's queries run side by side, an export streams on its
    own). The bot's inline engine keeps one connection: its transactions queue for it, first come
    first served (:mod:`storage.sqlite_inline`).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 1 if inline else 5)
            kwargs.setdefault("max_overflow", 0 if inline else 10)
            kwargs.setdefault("pool_timeout", 120 if inline else 30)
        if inline:
            from storage import sqlite_inline

            url = url.set(drivername=f"sqlite+{sqlite_inline.DRIVER}")
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            if not inline:  # the inline dialect waits for the write lock on the event loop
                cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (no implicit lazy loads under asyncio)."""
    return async_sessionmaker(engine, expire_on_commit=False)
