"""Login throttle that stops attackers, not officials: per (username, address) back-off, an
address throttle that only slows, `xuatngu admin unlock`, on SQLite and PostgreSQL; and the one
TRUSTED_PROXIES setting, honoured by `xuatngu run` and `xuatngu admin serve` alike."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from admin.auth import ADDRESS_DELAY, ADDRESS_FREE_FAILURES, PAIR_MAX_WAIT
from storage.models.admin import AuditEntry
from tests.admin_helpers import BASE_URL, PASSWORD, AdminEnv, admin_env, csrf_of, post_form
from tests.conftest import TEST_TOKEN, free_port
from tests.test_admin_sqlite_live import Proc, Start, processes, wait_ready

__all__ = ["processes"]  # the fixture, used by the proxy test below

XUATNGU = str(Path(sys.executable).parent / "xuatngu")
OFFICE = "198.51.100.7"  # the official's own address


@pytest.fixture
async def env(tmp_path: Path, any_db_url: str) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path, db_url=any_db_url) as e:
        await e.user("alice", "admin")
        yield e


def from_address(env: AdminEnv, address: str) -> httpx.AsyncClient:
    """A browser at ``address`` (the app sees it as the peer)."""
    transport = httpx.ASGITransport(app=env.app, client=(address, 50_000))
    client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
    env.clients.append(client)
    return client


async def attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = await client.get("/login")
    data = {"username": username, "password": password, "csrf_token": csrf_of(form.text)}
    return await client.post("/login", data=data)


def record_sleeps(env: AdminEnv) -> list[float]:
    """Replace the login pause with one that moves the app clock and remembers the delays."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        env.advance(timedelta(seconds=seconds))

    env.app.state.sleep = sleep
    return slept


async def test_attackers_from_other_addresses_cannot_lock_an_official_out(env: AdminEnv) -> None:
    slept = record_sleeps(env)
    for i in range(25):  # 25 addresses, 5 wrong passwords each, for alice
        attacker = from_address(env, f"203.0.113.{i + 1}")
        codes = [(await attempt(attacker, "alice", f"guess {n}")).status_code for n in range(5)]
        assert codes[0] == 401 and set(codes[1:]) == {429}  # each pair waits after a failure
    office = from_address(env, OFFICE)
    resp = await attempt(office, "alice", PASSWORD)
    assert resp.status_code == 303 and slept == []
    assert (await office.get("/")).status_code == 200


async def test_a_wrong_password_makes_only_that_pair_wait_longer_each_time(env: AdminEnv) -> None:
    office, elsewhere = from_address(env, OFFICE), from_address(env, "203.0.113.9")
    for wait in (1, 2, 4, 8, 16):
        assert (await attempt(office, "alice", "wrong password")).status_code == 401
        refused = await attempt(office, "alice", PASSWORD)  # right, but too soon
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == str(wait)
        assert f"Hãy thử lại sau {wait} giây" in refused.text
        env.advance(timedelta(seconds=wait - 0.5))
        assert (await attempt(office, "alice", PASSWORD)).status_code == 429
        env.advance(timedelta(seconds=0.5))
    # the same name from another address, another name from this one: no wait at all
    assert (await attempt(elsewhere, "alice", PASSWORD)).status_code == 303
    await env.user("bob", "viewer")
    assert (await attempt(office, "bob", PASSWORD)).status_code == 303
    assert (await attempt(office, "alice", PASSWORD)).status_code == 303
    # a success forgets the pair's failures: the next mistake waits 1 s again
    assert (await attempt(office, "alice", "wrong again")).status_code == 401
    assert (await attempt(office, "alice", PASSWORD)).headers["retry-after"] == "1"
    # an unknown name behaves alike (nothing tells an attacker which names exist)
    assert (await attempt(office, "ghost", "whatever")).status_code == 401
    assert (await attempt(office, "ghost", "whatever")).status_code == 429
    async with env.sessionmaker() as s:
        actions = (await s.scalars(select(AuditEntry.action))).all()
    assert "login.locked" in actions and "login.failed" in actions


async def test_the_wait_stops_growing_at_fifteen_minutes(env: AdminEnv) -> None:
    office = from_address(env, OFFICE)
    for _ in range(14):
        assert (await attempt(office, "alice", "wrong password")).status_code == 401
        env.advance(PAIR_MAX_WAIT)
    assert (await attempt(office, "alice", "wrong password")).status_code == 401
    refused = await attempt(office, "alice", PASSWORD)
    assert refused.headers["retry-after"] == str(int(PAIR_MAX_WAIT.total_seconds()))
    assert "Hãy thử lại sau 15 phút" in refused.text
    env.advance(PAIR_MAX_WAIT)
    assert (await attempt(office, "alice", PASSWORD)).status_code == 303


async def test_many_usernames_from_one_address_only_slow_it(env: AdminEnv) -> None:
    slept = record_sleeps(env)
    shared = from_address(env, "192.0.2.1")  # say, a proxy everybody comes through
    for i in range(30):
        assert (await attempt(shared, f"user{i}", "whatever pw")).status_code == 401
    assert slept == [ADDRESS_DELAY.total_seconds()] * (30 - ADDRESS_FREE_FAILURES)
    slept.clear()
    resp = await attempt(shared, "alice", PASSWORD)  # the official behind the same address
    assert resp.status_code == 303
    assert slept == [ADDRESS_DELAY.total_seconds()]  # held back 3 s, never refused
    slept.clear()
    assert (await attempt(from_address(env, OFFICE), "alice", PASSWORD)).status_code == 303
    assert slept == []  # other addresses are not slowed
    env.advance(timedelta(minutes=16))  # a quiet quarter of an hour forgets the address
    assert (await attempt(shared, "alice", PASSWORD)).status_code == 303
    assert slept == []


async def run_cli(db_url: str, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": db_url}
    proc = await asyncio.create_subprocess_exec(
        XUATNGU,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_unlock_from_the_command_line_and_the_accounts_page(env: AdminEnv) -> None:
    office = from_address(env, OFFICE)
    for _ in range(12):
        await attempt(office, "alice", "wrong password")
        env.advance(PAIR_MAX_WAIT)
    await attempt(office, "alice", "wrong password")
    assert (await attempt(office, "alice", PASSWORD)).status_code == 429
    code, out = await run_cli(env.db_url, "admin", "unlock", "alice")
    assert code == 0 and "alice can log in again" in out, out
    assert (await attempt(office, "alice", PASSWORD)).status_code == 303
    code, out = await run_cli(env.db_url, "admin", "unlock", "nobody")
    assert code == 1 and "No account named nobody" in out

    carol_id = await env.user("carol", "viewer")
    carol = from_address(env, "203.0.113.50")
    assert (await attempt(carol, "carol", "wrong password")).status_code == 401
    page = (await office.get("/accounts")).text
    assert page.count("tạm chặn đăng nhập đến") == 1 and page.count('value="unlock"') == 1
    resp = await post_form(office, "/accounts", f"/accounts/{carol_id}", {"action": "unlock"})
    assert resp.status_code == 303
    assert "tạm chặn đăng nhập đến" not in (await office.get("/accounts")).text
    assert (await attempt(carol, "carol", PASSWORD)).status_code == 303
    async with env.sessionmaker() as s:
        unlocks = (
            await s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "account.unlock"))
        ).all()
    assert sorted(unlocks) == ["cli", "user:alice"]


# ------------------------------------------------------------------ one trusted-proxy setting


def audited_ips(db_file: Path) -> list[str]:
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute("SELECT ip FROM audit_log WHERE action = 'login.failed'").fetchall()
    return [row[0] for row in rows]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", ["run", "admin serve"])
@pytest.mark.parametrize(
    ("trusted", "seen"), [("127.0.0.1", "203.0.113.77"), ("10.0.0.0/8,192.0.2.1", None)]
)
async def test_both_servers_believe_only_the_trusted_proxies(
    server: str, trusted: str, seen: str | None, tmp_path: Path, emulator: str, processes: Start
) -> None:
    port = free_port()
    db_file = tmp_path / "xuatngu.sqlite3"
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE": emulator,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db_file}",
        "ADMIN_PORT": str(port),
        "TRUSTED_PROXIES": trusted,
        "COOKIE_SECURE": "true",
    }
    env.pop("FORWARDED_ALLOW_IPS", None)
    proc: Proc = await processes(*server.split(), env=env)
    base = f"http://127.0.0.1:{port}"
    await wait_ready(proc, base)
    proxied = {"X-Forwarded-For": "203.0.113.77", "X-Forwarded-Proto": "https"}
    async with httpx.AsyncClient(base_url=base, headers=proxied) as http:
        form = await http.get("/login")
    data = {"username": "mallory", "password": "guess", "csrf_token": csrf_of(form.text)}
    cookie = {"Cookie": f"xa_login_csrf={form.cookies['xa_login_csrf']}"}  # as a browser would
    async with httpx.AsyncClient(base_url=base, headers={**proxied, **cookie}) as http:
        resp = await http.post("/login", data=data)
    assert resp.status_code == 401
    hsts = form.headers.get("strict-transport-security")
    if seen:  # the address and the scheme (https: HSTS) as the trusted proxy says
        assert audited_ips(db_file) == [seen] and hsts == "max-age=31536000"
    else:  # the peer itself, over plain http
        assert audited_ips(db_file) == ["127.0.0.1"] and hsts is None
    await proc.stop()
