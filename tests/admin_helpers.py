"""Helpers for the admin tests: a migrated temporary database, the app, accounts and logins."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from admin.accounts import create_api_client, create_user
from admin.app import create_app
from admin.security import set_hash_cost
from bot.config import load_settings
from bot.people import Conversations
from storage.db import create_engine, create_sessionmaker
from storage.fsm import SqlStorage
from storage.migrate import upgrade_async
from storage.models.base import utcnow
from tests.conftest import free_port

set_hash_cost(time_cost=1, memory_cost=1024, parallelism=1)  # argon2 still, but fast

PASSWORD = "correct horse battery"
BOT_ID = 4242  # the bot whose conversations an officer's erasure clears
BASE_URL = "http://testserver"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
_template: Path | None = None


async def migrated_db_file(dest: Path) -> Path:
    """A SQLite file at ``dest`` with every migration applied (copied from a cached template)."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="xuatngu-admin-tpl-"))
        path = folder / "template.sqlite3"
        engine = create_engine(f"sqlite+aiosqlite:///{path}", poolclass=NullPool)
        await upgrade_async(engine)
        await engine.dispose()
        _template = path
    shutil.copyfile(_template, dest)
    return dest


def csrf_of(html: str) -> str:
    """The first CSRF token in a page."""
    match = _CSRF_RE.search(html)
    assert match, "no csrf_token in page"
    return match.group(1)


@dataclass
class AdminEnv:
    """The app under test with its database and a clock tests can move."""

    app: FastAPI
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    db_url: str
    offset: timedelta = field(default_factory=timedelta)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def now(self) -> datetime:
        """The app's current time."""
        return utcnow() + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move the app clock forward."""
        self.offset += delta

    def client(self, base_url: str = BASE_URL, **headers: str) -> httpx.AsyncClient:
        """A new HTTP client talking to the app in-process."""
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=base_url, headers=headers
        )
        self.clients.append(client)
        return client

    async def user(
        self,
        username: str,
        role: str,
        communes: Sequence[str] = (),
        trades: Sequence[str] = (),
        password: str = PASSWORD,
    ) -> int:
        """Create an account; returns its id."""
        async with self.sessionmaker() as session:
            user = await create_user(session, username, password, role, communes, trades)
            await session.commit()
            return user.id

    async def token(
        self, name: str, role: str, communes: Sequence[str] = (), trades: Sequence[str] = ()
    ) -> str:
        """Create an API client; returns its bearer token."""
        async with self.sessionmaker() as session:
            _, token = await create_api_client(session, name, role, communes, trades)
            await session.commit()
            return token

    async def login(self, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
        """A client logged in as ``username`` (asserts success)."""
        client = self.client()
        resp = await post_login(client, username, password)
        assert resp.status_code == 303, resp.text
        return client

    async def session(self) -> AsyncSession:
        """A fresh session (caller closes it)."""
        return self.sessionmaker()


async def post_login(
    client: httpx.AsyncClient, username: str, password: str, next_url: str = "/"
) -> httpx.Response:
    """Fetch the login form and submit it."""
    form = await client.get("/login")
    data = {
        "username": username,
        "password": password,
        "csrf_token": csrf_of(form.text),
        "next": next_url,
    }
    return await client.post("/login", data=data)


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, Any]
) -> httpx.Response:
    """Submit a form on ``page`` to ``action`` with the page's CSRF token."""
    html = (await client.get(page)).text
    return await client.post(action, data={"csrf_token": csrf_of(html), **data})


@asynccontextmanager
async def admin_env(
    tmp_path: Path,
    *,
    cookie_secure: bool = False,
    db_url: str | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> AsyncIterator[AdminEnv]:
    """The admin app on a freshly migrated database: SQLite in ``tmp_path``, or the empty
    database at ``db_url`` (migrated here); ``timezone`` is the TIMEZONE setting."""
    url = db_url or f"sqlite+aiosqlite:///{await migrated_db_file(tmp_path / 'admin.sqlite3')}"
    # SQLite without a pool: a request's session and the dashboard's side-by-side queries
    # would otherwise wait for the engine's single connection
    pool: dict[str, Any] = {} if url.startswith("postgresql") else {"poolclass": NullPool}
    engine = create_engine(url, **pool)
    if db_url is not None:
        await upgrade_async(engine)
    settings = load_settings(database_url=url, cookie_secure=cookie_secure, timezone=timezone)
    sm = create_sessionmaker(engine)
    app = create_app(settings, sm, conversations=Conversations(SqlStorage(sm), BOT_ID))
    env = AdminEnv(app=app, engine=engine, sessionmaker=sm, db_url=url)
    app.state.clock = env.now
    try:
        yield env
    finally:
        for client in env.clients:
            await client.aclose()
        await engine.dispose()


@contextmanager
def serve_admin(tmp_path: Path, seed: Callable[[AdminEnv], Awaitable[None]]) -> Iterator[str]:
    """The admin app, seeded, served by uvicorn on 127.0.0.1:<free port> in a thread (for a
    browser); the base URL. Stopped through the server's handle, the database closed."""
    import uvicorn

    loop = asyncio.new_event_loop()
    cm = admin_env(tmp_path)
    env = loop.run_until_complete(cm.__aenter__())
    loop.run_until_complete(seed(env))
    port = free_port()
    config = uvicorn.Config(
        env.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        loop.run_until_complete(cm.__aexit__(None, None, None))
        loop.close()
