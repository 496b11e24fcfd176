"""Shared fixtures: databases (SQLite, PostgreSQL), the Bot API emulator and a running bot.

PostgreSQL and Redis tests skip with a reason when the service is unreachable, unless
``XUATNGU_REQUIRE_SERVICES=1`` (set by ``.ci/run``), where they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import BotApp
from bot.config import Settings, load_settings
from emulator import Emulator, EmulatorClient, RateLimits

PG_ADMIN_URL = os.environ.get("XUATNGU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("XUATNGU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("XUATNGU_REQUIRE_SERVICES") == "1"
TEST_TOKEN = "123456789:TEST-token-for-the-emulator-only"
ARTIFACTS = Path(__file__).parent / "artifacts"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (laptop) or fail (CI) when a service the test needs is down."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (XUATNGU_REQUIRE_SERVICES=1: CI must have it)")
    pytest.skip(message + "; start it to run this test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/test.sqlite3"


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (async URL), dropped afterwards."""
    import asyncpg

    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"xuatngu_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test."""
    async with fresh_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/test.sqlite3"
        return
    async with fresh_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def repo_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """A migrated engine for repository tests, on SQLite and on PostgreSQL."""
    from storage.db import create_engine
    from storage.migrate import upgrade_async

    async with contextlib.AsyncExitStack() as stack:
        if request.param == "postgres":
            url = await stack.enter_async_context(fresh_pg_database())
        else:
            url = f"sqlite+aiosqlite:///{tmp_path}/test.sqlite3"
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        await upgrade_async(engine)
        yield engine


@pytest.fixture
async def emulator() -> AsyncIterator[str]:
    """A Bot API emulator on a free port, rate limits off; yields its base URL."""
    emu = Emulator(RateLimits.off())
    base = await emu.start(host="127.0.0.1", port=0)
    yield base
    await emu.stop()


def make_settings(database_url: str, api_base: str, **extra: Any) -> Settings:
    return load_settings(
        bot_token=TEST_TOKEN,
        telegram_api_base=api_base,
        database_url=database_url,
        admin_port=free_port(),
        cookie_secure=False,
        **extra,
    )


@dataclass
class RunningBot:
    """The bot running as in production (polling task) against the emulator."""

    settings: Settings
    emu: EmulatorClient
    app: BotApp
    with_admin: bool = False
    with_scheduler: bool = False
    _apps: list[BotApp] = field(default_factory=list)

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        assert self.app.sessionmaker is not None
        return self.app.sessionmaker

    @property
    def bot(self) -> Any:
        return self.app.bot

    async def restart(self) -> None:
        """Stop the whole bot process state and start it again on the same database."""
        await self.app.stop()
        self.app = BotApp(
            self.settings, with_admin=self.with_admin, with_scheduler=self.with_scheduler
        )
        await self.app.start()

    async def stop(self) -> None:
        await self.app.stop()


async def start_bot(database_url: str, api_base: str, **extra: Any) -> RunningBot:
    settings = make_settings(database_url, api_base, **extra)
    app = BotApp(settings, with_admin=False, with_scheduler=False)
    await app.start()
    emu = EmulatorClient(api_base)
    return RunningBot(settings=settings, emu=emu, app=app)


@pytest.fixture
async def running_bot(sqlite_url: str, emulator: str) -> AsyncIterator[RunningBot]:
    """The bot on SQLite, polling the emulator."""
    rb = await start_bot(sqlite_url, emulator)
    try:
        yield rb
    finally:
        await rb.stop()
        await rb.emu.close()


@pytest.fixture
async def running_bot_any_db(any_db_url: str, emulator: str) -> AsyncIterator[RunningBot]:
    """The bot polling the emulator, once on SQLite and once on PostgreSQL."""
    rb = await start_bot(any_db_url, emulator)
    try:
        yield rb
    finally:
        await rb.stop()
        await rb.emu.close()


@pytest.fixture(autouse=True)
def _clear_settings_cache() -> None:
    from bot.config import get_settings

    get_settings.cache_clear()


def pytest_configure(config: pytest.Config) -> None:
    ARTIFACTS.mkdir(exist_ok=True)


# The longest file first: pytest-xdist (--dist loadfile) hands files to its workers in
# collection order, so a long file collected late runs alone at the end while the other workers
# are idle. Measured with --durations (2026-12-07, 2 cores): the production layout takes 75 s
# alone and 180–190 s in the suite, where in its alphabetical place it was the last 3 minutes of
# a 12 min 21 s run. (All nine slow files first measured no better: 13 min 31 s; they then
# slow each other down.)
SLOW_FIRST = ("test_production_layout.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
