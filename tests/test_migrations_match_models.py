"""The migrations create exactly what the models describe (no forgotten migration)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import storage.models  # noqa: F401  (registers every table)
from storage.db import create_engine
from storage.migrate import upgrade_async
from storage.models.base import Base


async def test_models_and_migrations_agree(any_db_url: str) -> None:
    engine = create_engine(any_db_url)
    try:
        await upgrade_async(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()
