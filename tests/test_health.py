"""/healthz and /readyz on the admin app: no login, ready on a fresh database, 503 when the
database is gone."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.admin_helpers import admin_env


async def test_ready_on_fresh_sqlite_without_login(tmp_path: Path) -> None:
    async with admin_env(tmp_path) as env:
        client = env.client()
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "database": "ok"})


async def test_not_ready_when_database_is_gone(tmp_path: Path) -> None:
    db_dir = tmp_path / "db"
    db_dir.mkdir()
    async with admin_env(db_dir) as env:
        client = env.client()
        assert (await client.get("/readyz")).status_code == 200
        shutil.rmtree(db_dir)
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "not ready", "database": "unreachable"},
    )
    assert alive.status_code == 200
