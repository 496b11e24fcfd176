"""Engine and session factory: SQLite in WAL mode by default, PostgreSQL through asyncpg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

BUSY_TIMEOUT_MS = 30_000
# a checkpoint after an erasure waits at most this long for readers (a long export) to finish:
# while it waits, writers wait too
CHECKPOINT_WAIT_MS = 2_000


def create_engine(database_url: str, *, writer: bool = False, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; for SQLite make the folder and turn on WAL and foreign keys.

    A SQLite engine pools several connections: in WAL mode readers never wait for each other or
    for the writer, and a writer waits for the write lock on ``busy_timeout``. An admin request
    may hold more than one (the dashboard's queries run side by side, an export streams on its
    own).

    ``writer=True`` is the bot's engine: on SQLite it has one connection, so its transactions
    queue for it, first come first served, instead of meeting in SQLite's busy-wait back-off.
    It changes nothing on PostgreSQL.

    SQLite transactions begin as the driver begins them: ``BEGIN`` (deferred) is sent with the
    first INSERT/UPDATE/DELETE, in the same call, and a SELECT before it reads outside any
    transaction. The bot's transactions start with the inbox claim (a write), so they hold the
    write lock from their first statement, and never fail to upgrade a read snapshot that another
    connection moved past. (An explicit ``BEGIN IMMEDIATE``, SQLAlchemy's recipe, cost one more
    aiosqlite thread hop per transaction: measured in bench/README.md.)
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 1 if writer else 5)
            kwargs.setdefault("max_overflow", 0 if writer else 10)
            kwargs.setdefault("pool_timeout", 120 if writer else 30)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # deleted rows are overwritten with zeros, not left in free pages (erasure)
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # no pre-ping: it costs a round trip on every checkout (one in seven of an update's); a
    # connection the server dropped fails its statement once and SQLAlchemy then invalidates
    # the pool, so the next update gets a fresh connection
    kwargs.setdefault("pool_pre_ping", False)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (no implicit lazy loads under asyncio)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def truncate_wal(session: AsyncSession) -> bool:
    """SQLite: copy the write-ahead log into the database file and empty it, so that rows
    deleted before (an erasure) are not left in the log. Run outside a transaction (after a
    commit). True when done, or on PostgreSQL (nothing to do); False when readers kept the
    log busy (the next call, e.g. the next retention pass, finishes the job).
    """
    if session.get_bind().dialect.name != "sqlite":
        return True
    await session.execute(text(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}"))
    try:
        busy, _, _ = (await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))).one()
    finally:
        await session.execute(text(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}"))
    return not busy
