"""Alembic environment: async engine, URL or connection from the caller (storage.migrate)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

import storage.models  # noqa: F401  (registers every table)
from storage.db import create_engine
from storage.locks import lock_key
from storage.models.base import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("No database URL: run migrations with `xuatngu db upgrade`.")
    return str(url)


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if connection.dialect.name == "postgresql":
        # several processes starting together: one migrates, the others wait here and then
        # find nothing to do (the lock ends with the migrations' transaction)
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key("xuatngu:migrations")}
        )
    if sqlite:
        # A table rebuild (batch mode) drops the old table: with foreign keys on, SQLite would
        # first delete its rows and cascade to every table referring to it. Off for the run
        # (this is the connection's first statement, so no transaction holds the setting back),
        # checked before the commit, and back on afterwards (storage.migrate).
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"migrations left rows that refer to missing rows: {broken[:5]}")


async def _run_async() -> None:
    engine = create_engine(_url())
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())
