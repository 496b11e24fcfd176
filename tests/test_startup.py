"""Start-up as an operator meets it: Telegram out of reach (one line per try, back-off, then it
runs), a production setting that must not fall into demo mode (one line, exit 2), and the demo
account line printed only when the account is made."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from bot.app import DEMO_ADMIN, BotApp
from bot.config import load_settings
from emulator import Emulator, EmulatorClient, RateLimits
from tests.conftest import TEST_TOKEN, free_port

XUATNGU = str(Path(sys.executable).parent / "xuatngu")
UNREACHABLE = "cannot reach Telegram at"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh server: none of the settings of this machine's shell."""
    names = ("BOT_TOKEN", "TELEGRAM_API_BASE", "DATABASE_URL", "REDIS_URL", "ENVIRONMENT")
    env = {k: v for k, v in os.environ.items() if k not in names}
    return {**env, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.sqlite3", **extra}


class Run:
    """`xuatngu run` in a folder of its own, its output in a file."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc, self.log = proc, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def until(self, predicate: str, count: int = 1, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while self.output().count(predicate) < count:
            assert self.proc.returncode is None, self.output()
            assert time.monotonic() < deadline, f"no {count} x {predicate!r}:\n{self.output()}"
            await asyncio.sleep(0.1)

    async def sigterm(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 15)


Start = Callable[[dict[str, str]], Awaitable[Run]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    started: list[asyncio.subprocess.Process] = []

    async def go(env: dict[str, str]) -> Run:
        log = tmp_path / f"run{len(started)}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                XUATNGU, "run", env=env, cwd=tmp_path, stdout=out, stderr=out
            )
        started.append(proc)
        return Run(proc, log)

    yield go
    for proc in started:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.timeout(120)
async def test_telegram_out_of_reach_one_line_per_try_then_it_runs(
    tmp_path: Path, start: Start
) -> None:
    port, admin_port = free_port(), free_port()  # nothing listens on `port` yet
    env = clean_env(
        tmp_path,
        BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_BASE=f"http://127.0.0.1:{port}",
        ADMIN_PORT=str(admin_port),
        COOKIE_SECURE="false",
    )
    run: Run = await start(env)
    await run.until(UNREACHABLE, count=3, seconds=30)
    tries = [line for line in run.output().splitlines() if UNREACHABLE in line]
    assert [t.rsplit("trying again in ", 1)[1] for t in tries[:3]] == ["1 s", "2 s", "4 s"]
    assert f"http://127.0.0.1:{port} (" in tries[0] and "Cannot connect" in tries[0]
    assert "Traceback" not in run.output() and TEST_TOKEN.split(":")[1] not in run.output()
    async with httpx.AsyncClient() as http:  # officers can work meanwhile
        assert (await http.get(f"http://127.0.0.1:{admin_port}/login")).status_code == 200
    emulator = Emulator(RateLimits.off())
    base = await emulator.start(host="127.0.0.1", port=port)  # Telegram is back
    try:
        await run.until("xuatngu is running", seconds=90)
        async with EmulatorClient(base) as emu:
            reply = await emu.user(4242, first_name="An", language_code="vi").ask("/start")
            assert "Xin chào" in reply.text
        assert await run.sigterm() == 0
    finally:
        await emulator.stop()
    assert "Traceback" not in run.output(), run.output()


@pytest.mark.timeout(60)
async def test_sigterm_while_telegram_is_out_of_reach(tmp_path: Path, start: Start) -> None:
    env = clean_env(
        tmp_path,
        BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_BASE=f"http://127.0.0.1:{free_port()}",
        ADMIN_PORT=str(free_port()),
    )
    run: Run = await start(env)
    await run.until(UNREACHABLE)
    began = time.monotonic()
    assert await run.sigterm() in (0, -signal.SIGTERM)
    assert time.monotonic() - began < 10
    assert "Traceback" not in run.output(), run.output()


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (
            {"DATABASE_URL": "postgresql+asyncpg://xuatngu@127.0.0.1:1/xuatngu"},
            "BOT_TOKEN is empty (demo mode) but DATABASE_URL is PostgreSQL: set BOT_TOKEN",
        ),
        ({"ENVIRONMENT": "production"}, "ENVIRONMENT=production but BOT_TOKEN is empty"),
        (
            {"ENVIRONMENT": "production", "DATABASE_URL": "postgresql://xuatngu@db/xuatngu"},
            "ENVIRONMENT=production but BOT_TOKEN is empty",
        ),
        ({"ENVIRONMENT": "staging"}, "setting ENVIRONMENT is wrong"),
    ],
)
async def test_production_never_falls_into_demo_mode(
    tmp_path: Path, start: Start, settings: dict[str, str], says: str
) -> None:
    run: Run = await start(clean_env(tmp_path, ADMIN_PORT=str(free_port()), **settings))
    assert await asyncio.wait_for(run.proc.wait(), 60) == 2
    lines = run.output().splitlines()
    assert len(lines) == 1 and says in lines[0], run.output()
    assert not (tmp_path / "x.sqlite3").exists()  # refused before touching any database


async def test_demo_account_line_only_when_the_account_is_made(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.app")
    settings = load_settings(
        bot_token=None,
        telegram_api_base=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/demo.sqlite3",
        demo_port=free_port(),
        admin_port=free_port(),
        cookie_secure=False,
        environment="development",
    )
    line = "demo mode: admin login {} / {}".format(*DEMO_ADMIN)
    for expected in (1, 0):  # a first start makes the account, a second finds it
        caplog.clear()
        app = BotApp(settings, with_scheduler=False)
        try:
            await app.start()
        finally:
            await app.stop()
        assert caplog.text.count(line) == expected, caplog.text
