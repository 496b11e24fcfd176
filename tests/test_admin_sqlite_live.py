"""The real ``xuatngu run`` and ``xuatngu admin serve`` processes on the default SQLite: officers
open every admin page while scripted users talk to the bot (so it writes), then one SIGTERM stops
each process within 10 s."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import async_sessionmaker

from admin.app import create_app
from bot.config import load_settings
from emulator import EmulatorClient
from tests.conftest import TEST_TOKEN, free_port
from tests.survey_helpers import run_to_trades, tap_until_summary

XUATNGU = str(Path(sys.executable).parent / "xuatngu")
PASSWORD = "officer password 1"
PAGE_SECONDS = 5.0  # every page answers within this
STOP_SECONDS = 10.0  # one SIGTERM stops a process within this
OFFICERS = 12  # officers opening every page at the same time (more than a pool of 10)
USERS = 3  # soldiers answering the survey meanwhile
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

# a connection idle for uvicorn's keep-alive timeout (5 s) is closed by the server; a client
# reusing it just then gets "Server disconnected" (seen on a loaded machine): let the client
# drop idle connections first, as browsers do
KEEP_ALIVE = httpx.Limits(keepalive_expiry=2.0)


class Proc:
    """A started ``xuatngu`` process and its log file."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path):
        self.proc = proc
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def stop(self) -> None:
        """One SIGTERM (by pid); fails unless the process exits cleanly within STOP_SECONDS."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), STOP_SECONDS)
        except TimeoutError:
            pytest.fail(f"still running {STOP_SECONDS} s after SIGTERM:\n{self.output()}")
        # exit 0, or the SIGTERM raised again after uvicorn's graceful shutdown
        assert self.proc.returncode in (0, -signal.SIGTERM), self.output()
        assert "Traceback" not in self.output(), self.output()


Start = Callable[..., Awaitable[Proc]]


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Start]:
    """``start(*args, env=…)`` starts ``xuatngu *args``; what still runs at the end is killed."""
    started: list[asyncio.subprocess.Process] = []

    async def start(*args: str, env: dict[str, str]) -> Proc:
        log = tmp_path / f"{'-'.join(args)}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                XUATNGU, *args, env=env, cwd=tmp_path, stdout=out, stderr=out
            )
        started.append(proc)
        return Proc(proc, log)

    try:
        yield start
    finally:
        for proc in started:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


def cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """Run ``xuatngu *args`` to completion; its stdout."""
    done = subprocess.run(
        [XUATNGU, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def wait_ready(proc: Proc, base: str) -> None:
    """Until the admin backend answers (the process must not die meanwhile)."""
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(base_url=base, timeout=2) as http:
        while time.monotonic() < deadline:
            assert proc.proc.returncode is None, f"exited:\n{proc.output()}"
            try:
                if (await http.get("/login")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    pytest.fail(f"admin backend at {base} never answered:\n{proc.output()}")


async def log_in(http: httpx.AsyncClient) -> None:
    page = await http.get("/login")
    match = _CSRF_RE.search(page.text)
    assert match, page.text
    form = {"username": "officer", "password": PASSWORD, "csrf_token": match.group(1)}
    resp = await http.post("/login", data=form)
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"] == "/"


# files of records the sample data has none of (tests/test_redemption.py downloads one)
NO_SAMPLE = frozenset({"/redemptions/{institution_id}/{redemption_id}/declaration"})


def get_paths(person_id: int, message_id: int) -> list[str]:
    """Every GET route of the admin app, path parameters filled in with real values."""
    values = {"person_id": str(person_id), "code": "vi", "message_id": str(message_id)}
    values |= {"sheet": "courses", "item_id": "1", "institution_id": "1"}  # the sample catalog
    values |= {"card_id": "1"}  # the sample card
    app = create_app(load_settings(), async_sessionmaker())
    paths = []
    for route in iter_route_contexts(app.routes):
        if "GET" not in (route.methods or ()) or route.path in NO_SAMPLE:
            continue
        path = route.path or ""
        for name in re.findall(r"{(\w+)}", path):
            assert name in values, f"{path}: the test has no value for {{{name}}}"
            path = path.replace(f"{{{name}}}", values[name])
        paths.append(path)
    assert {"/", "/people", f"/people/{person_id}", "/exports", "/api/kpis"} <= set(paths)
    return paths


async def first_person(api: httpx.AsyncClient) -> int:
    """The id of the first person the bot stored (waits for the bot's first write)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        resp = await api.get("/api/people")
        assert resp.status_code == 200, resp.text
        items = resp.json()["items"]
        if items:
            return int(items[-1]["id"])
        await asyncio.sleep(0.2)
    pytest.fail("the bot stored nobody")


async def open_every_page(
    http: httpx.AsyncClient, api: httpx.AsyncClient, paths: list[str]
) -> None:
    for path in paths:
        client = api if path.startswith("/api/") else http
        began = time.monotonic()
        resp = await client.get(path)
        took = time.monotonic() - began
        assert resp.status_code < 400, f"GET {path}: {resp.status_code} {resp.text[:300]}"
        assert took < PAGE_SECONDS, f"GET {path} took {took:.1f} s"


async def soldier(emu: EmulatorClient, user_id: int) -> None:
    user = emu.user(user_id, first_name=f"Soldier{user_id}")
    await user.ask("/start")
    await run_to_trades(user)
    reply = await user.ask("sua xe may")
    await user.click(reply.button_texts[0])
    reply = await tap_until_summary(user, await user.click("Xong"))
    await user.click(next(b for b in reply.button_texts if "Xác nhận" in b))


@pytest.mark.timeout(240)
@pytest.mark.parametrize("server", ["run", "admin serve"])
async def test_every_page_while_the_bot_writes_then_one_sigterm_stops_it(
    server: str, tmp_path: Path, emulator: str, processes: Start
) -> None:
    bot_port, serve_port = free_port(), free_port()
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE": emulator,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/xuatngu.sqlite3",
        "ADMIN_HOST": "127.0.0.1",
        "ADMIN_PORT": str(bot_port),
        "COOKIE_SECURE": "false",
    }
    cli(
        env,
        "admin",
        "create-user",
        "officer",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD,
    )
    token = cli(env, "admin", "create-token", "partner", "--role", "admin").strip().splitlines()[-1]
    cli(env, "catalog", "load-sample")

    bot = await processes("run", env=env)
    under_test, port = bot, bot_port
    if server == "admin serve":  # the admin backend alone, the bot writing from its own process
        port = serve_port
        under_test = await processes("admin", "serve", "--port", str(port), env=env)
    await wait_ready(bot, f"http://127.0.0.1:{bot_port}")
    base = f"http://127.0.0.1:{port}"
    await wait_ready(under_test, base)

    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(EmulatorClient(emulator))
        api = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=base,
                timeout=PAGE_SECONDS,
                headers={"Authorization": f"Bearer {token}"},
                limits=KEEP_ALIVE,
            )
        )
        officers = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, timeout=PAGE_SECONDS, limits=KEEP_ALIVE)
            )
            for _ in range(OFFICERS)
        ]
        soldiers = [asyncio.create_task(soldier(emu, 5000 + i)) for i in range(USERS)]
        try:
            person_id = await first_person(api)
            later = {"text_vi": "Hẹn sau", "send_at": "2099-01-01T08:00"}  # never sent here
            broadcast = await api.post("/api/broadcasts", json=later)
            assert broadcast.status_code == 201, broadcast.text
            paths = get_paths(person_id, broadcast.json()["id"])
            for http in officers:
                await log_in(http)
            while True:  # rounds of every page until the soldiers are done
                # each officer's own year too: dashboards not in the cache, computed side by side
                await asyncio.gather(
                    *(
                        open_every_page(h, api, [f"/?year={2020 + i}", *paths])
                        for i, h in enumerate(officers)
                    )
                )
                if all(s.done() for s in soldiers):
                    break
            await asyncio.gather(*soldiers)  # the bot answered everyone meanwhile
            people = (await api.get("/api/people")).json()["items"]
            assert sum(p["survey_completed_at"] is not None for p in people) == USERS, people
        finally:
            for task in soldiers:
                task.cancel()
            await asyncio.gather(*soldiers, return_exceptions=True)

    await under_test.stop()
    if under_test is not bot:
        await bot.stop()
