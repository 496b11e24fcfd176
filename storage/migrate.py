"""Run Alembic migrations from code (``xuatngu db upgrade``, ``xuatngu run``, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (synchronous; runs its own event loop)."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations on an existing async engine from inside a running loop."""
    cfg = alembic_config()

    def _go(conn: object) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    async with engine.connect() as conn:
        try:
            await conn.run_sync(_go)
            await conn.commit()
        finally:
            if conn.dialect.name == "sqlite":
                # the migrations ran with foreign keys off (migrations/env.py): on again, out
                # of any transaction, before the connection goes back to the pool
                await conn.rollback()
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """Revisions not yet applied to the database (empty when up to date)."""
    script = ScriptDirectory.from_config(alembic_config())

    def _current(conn: object) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())  # type: ignore[arg-type]

    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
    head = script.get_current_head() or "base"
    if head in current:
        return []
    return [
        rev.revision for rev in script.walk_revisions("base", head) if rev.revision not in current
    ]
