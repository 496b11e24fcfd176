"""/healthz and /readyz on the admin app: no login, ready on a fresh database, 503 when the
database is gone or Redis (when set) does not answer."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import load_settings
from storage.models import Person
from storage.models.outbox import OutboxMessage
from storage.models.timeline import ScheduledSend
from tests.admin_helpers import AdminEnv, admin_env
from tests.broadcast_helpers import TZ, add_recipients, daytime
from tests.conftest import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
CLOSED_REDIS = f"redis://127.0.0.1:{free_port()}/0"
ALL_OK = {"database": "ok", "outbox": "ok", "reminders": "ok"}


async def test_ready_on_fresh_sqlite_without_login(tmp_path: Path) -> None:
    async with admin_env(tmp_path) as env:
        client = env.client()
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", **ALL_OK})


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
        {"status": "ready", **ALL_OK, "redis": "ok"},
    )
    assert (refused.status_code, refused.json()) == (
        503,
        {"status": "not ready", **ALL_OK, "redis": "unreachable"},
    )


def lag_settings(env: AdminEnv, **quiet: str) -> None:
    """READY_MAX_LAG_SECONDS=900 and these quiet hours (``daytime()`` unless given)."""
    env.app.state.settings = load_settings(
        database_url=env.db_url, ready_max_lag_seconds=900, **(quiet or daytime())
    )


async def add_waiting(env: AdminEnv, age: timedelta, **message: Any) -> tuple[int, int]:
    """A broadcast and a reminder both due ``age`` ago; their ids."""
    due = env.now() - age
    await add_recipients(env.sessionmaker, [63_001])
    async with env.sessionmaker() as s:
        person_id = await s.scalar(select(Person.id).where(Person.chat_id == 63_001))
        assert person_id is not None
        outbox = OutboxMessage(created_by="user:tester", text_vi="Chào", send_at=due, **message)
        reminder = ScheduledSend(
            person_id=person_id, entry_id="e1", due_at=due, expires_at=due + timedelta(days=3)
        )
        s.add_all([outbox, reminder])
        await s.commit()
        return outbox.id, reminder.id


async def set_status(env: AdminEnv, table: Any, row_id: int, status: str) -> None:
    async with env.sessionmaker() as s:
        row = await s.get(table, row_id)
        row.status = status
        await s.commit()


async def test_not_ready_while_a_due_message_or_reminder_waits_too_long(tmp_path: Path) -> None:
    async with admin_env(tmp_path) as env:
        lag_settings(env)
        client = env.client()
        outbox_id, reminder_id = await add_waiting(env, timedelta(minutes=20))
        both = await client.get("/readyz")
        await set_status(env, OutboxMessage, outbox_id, "paused")  # held on purpose
        reminder_only = await client.get("/readyz")
        await set_status(env, ScheduledSend, reminder_id, "sent")
        ready = await client.get("/readyz")
        env.advance(timedelta(days=3))  # past its relevance: dropped by the next tick, not sent
        await set_status(env, OutboxMessage, outbox_id, "done")
        await set_status(env, ScheduledSend, reminder_id, "pending")
        expired = await client.get("/readyz")
    lagging = {"database": "ok", "outbox": "lagging", "reminders": "lagging"}
    assert (both.status_code, both.json()) == (503, {"status": "not ready", **lagging})
    assert (reminder_only.status_code, reminder_only.json()["outbox"]) == (503, "ok")
    assert reminder_only.json()["reminders"] == "lagging"
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", **ALL_OK})
    assert expired.status_code == 200


async def test_time_held_by_quiet_hours_is_not_lag(tmp_path: Path) -> None:
    """Rows due three hours ago: ready during quiet hours and 10 minutes after they end; not
    ready once 20 minutes have passed since."""
    async with admin_env(tmp_path) as env:
        local = env.now().astimezone(TZ)
        client = env.client()
        await add_waiting(env, timedelta(hours=3), status="sending")
        lag_settings(
            env,
            quiet_start=f"{local - timedelta(hours=4):%H:%M}",
            quiet_end=f"{local + timedelta(hours=1):%H:%M}",
        )
        in_quiet = await client.get("/readyz")
        lag_settings(
            env,
            quiet_start=f"{local - timedelta(hours=4):%H:%M}",
            quiet_end=f"{local - timedelta(minutes=10):%H:%M}",
        )
        just_after = await client.get("/readyz")
        env.advance(timedelta(minutes=10))
        later = await client.get("/readyz")
    assert (in_quiet.status_code, in_quiet.json()) == (200, {"status": "ready", **ALL_OK})
    assert (just_after.status_code, just_after.json()) == (200, {"status": "ready", **ALL_OK})
    assert later.status_code == 503
    assert (later.json()["outbox"], later.json()["reminders"]) == ("lagging", "lagging")
