"""/healthz and /readyz on the admin app: no login, ready on a fresh database, 503 when the
database is gone or Redis (when set) does not answer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import load_settings
from tests.admin_helpers import admin_env
from tests.conftest import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
CLOSED_REDIS = f"redis://127.0.0.1:{free_port()}/0"


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


@pytest.mark.redis
async def test_redis_checked_when_set(tmp_path: Path) -> None:
    async with admin_env(tmp_path) as env:
        client = env.client()
        url = env.db_url
        env.app.state.settings = load_settings(database_url=url, redis_url=REDIS_URL)
        ready = await client.get("/readyz")
        env.app.state.settings = load_settings(database_url=url, redis_url=CLOSED_REDIS)
        refused = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "database": "ok", "redis": "ok"},
    )
    assert (refused.status_code, refused.json()) == (
        503,
        {"status": "not ready", "database": "ok", "redis": "unreachable"},
    )
