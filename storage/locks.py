"""PostgreSQL session-level advisory locks: one holder per key among every process.

:class:`AdvisoryLock` keeps one connection of its own for as long as it holds the lock; the lock
is PostgreSQL's (``pg_try_advisory_lock``), so a holder that crashes, or whose connection dies,
loses it at once and another process may take it. On SQLite (one machine, one process that
runs the background side) there is nothing to share: :meth:`AdvisoryLock.try_acquire` always
succeeds and takes no connection.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def lock_key(name: str) -> int:
    """A signed 64-bit key for ``name`` (the same in every process)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLock:
    """The lock named ``name`` on ``engine``'s database."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = lock_key(name)
        self.conn: AsyncConnection | None = None
        self.held = False

    @property
    def shared(self) -> bool:
        """Whether other processes can hold it too (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this holder has it."""
        if self.held:
            return True
        if not self.shared:
            self.held = True
            return True
        if self.conn is None:
            self.conn = await self.engine.connect()
        got = await self.conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        await self.conn.commit()  # a session-level lock outlives the transaction
        self.held = bool(got)
        return self.held

    async def check(self) -> None:
        """One round trip on the lock's connection (keeps it from looking idle); raises when the
        connection is gone, and with it the lock."""
        if self.conn is not None:
            await self.conn.execute(text("SELECT 1"))
            await self.conn.commit()

    async def release(self) -> None:
        """Give the lock back and close the connection (closing alone would release it too)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                if self.held and not conn.invalidated:
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                    await conn.commit()
            finally:
                await conn.close()
        self.held = False
