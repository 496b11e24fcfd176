"""Admin login: CSRF, session expiry, cookies, password change (throttling: test_admin_throttle)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.models.admin import AdminSession, AuditEntry
from tests.admin_helpers import PASSWORD, AdminEnv, admin_env, csrf_of, post_form, post_login


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path) as e:
        await e.user("alice", "admin")
        yield e


async def _actions(env: AdminEnv) -> list[str]:
    async with env.sessionmaker() as s:
        return list((await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all())


async def test_pages_need_login(env: AdminEnv) -> None:
    resp = await env.client().get("/people?q=x")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=%2Fpeople%3Fq%3Dx"


async def test_login_sets_safe_cookie_and_audits(env: AdminEnv) -> None:
    client = env.client()
    resp = await post_login(client, "alice", PASSWORD)
    assert resp.status_code == 303
    cookie = resp.headers["set-cookie"]
    assert "xa_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # cookie_secure=False in tests
    assert (await client.get("/")).status_code == 200
    assert "login.succeeded" in await _actions(env)


async def test_secure_cookie_follows_settings(tmp_path: Path) -> None:
    async with admin_env(tmp_path, cookie_secure=True) as env:
        await env.user("bob", "viewer")
        over_http = await post_login(env.client(), "bob", PASSWORD)
        assert over_http.status_code == 403  # the login CSRF cookie is Secure: not sent back
        resp = await post_login(env.client(base_url="https://testserver"), "bob", PASSWORD)
        assert resp.status_code == 303
        assert "Secure" in resp.headers["set-cookie"]


async def test_wrong_password_is_refused_and_audited(env: AdminEnv) -> None:
    client = env.client()
    resp = await post_login(client, "alice", "wrong password!")
    assert resp.status_code == 401
    assert "xa_session" not in client.cookies
    assert (await client.get("/")).status_code == 303
    assert (await _actions(env))[-1] == "login.failed"


async def test_login_without_csrf_is_refused(env: AdminEnv) -> None:
    client = env.client()
    await client.get("/login")
    resp = await client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert resp.status_code == 403
    assert "xa_session" not in client.cookies


async def test_post_without_csrf_is_refused(env: AdminEnv) -> None:
    client = await env.login("alice")
    data = {"username": "mallory", "role": "admin", "password": "long enough pw"}
    resp = await client.post("/accounts", data=data)
    assert resp.status_code == 403
    resp = await client.post("/accounts", data={**data, "csrf_token": "not-the-token"})
    assert resp.status_code == 403
    resp = await post_form(client, "/accounts", "/accounts", data)
    assert resp.status_code == 303  # the same form with the session's token works


async def test_session_idle_expiry(env: AdminEnv) -> None:
    client = await env.login("alice")
    env.advance(timedelta(minutes=25))
    assert (await client.get("/")).status_code == 200  # activity keeps it alive
    env.advance(timedelta(minutes=25))
    assert (await client.get("/")).status_code == 200
    env.advance(timedelta(minutes=31))
    assert (await client.get("/")).status_code == 303
    async with env.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(AdminSession)) == 0


async def test_session_absolute_expiry(env: AdminEnv) -> None:
    client = await env.login("alice")
    for _ in range(11 * 3):  # active every 20 minutes for 11 hours
        env.advance(timedelta(minutes=20))
        assert (await client.get("/")).status_code == 200
    for _ in range(3):
        env.advance(timedelta(minutes=20))
    resp = await client.get("/")
    assert resp.status_code == 303  # past 12 h, however active


async def test_logout_ends_session(env: AdminEnv) -> None:
    client = await env.login("alice")
    resp = await post_form(client, "/", "/logout", {})
    assert resp.status_code == 303
    assert (await client.get("/")).status_code == 303


async def test_password_change(env: AdminEnv) -> None:
    other = await env.login("alice")
    client = await env.login("alice")
    new = "a brand new password"
    bad = await post_form(
        client, "/password", "/password", {"current": "wrong", "new": new, "confirm": new}
    )
    assert bad.status_code == 400
    short = await post_form(
        client, "/password", "/password", {"current": PASSWORD, "new": "short", "confirm": "short"}
    )
    assert short.status_code == 400
    ok = await post_form(
        client, "/password", "/password", {"current": PASSWORD, "new": new, "confirm": new}
    )
    assert ok.status_code == 200
    assert (await client.get("/")).status_code == 200  # this browser stays logged in
    assert (await other.get("/")).status_code == 303  # other sessions end
    assert (await post_login(env.client(), "alice", PASSWORD)).status_code == 401
    env.advance(timedelta(seconds=1))  # a wrong password: this address waits a second
    assert (await post_login(env.client(), "alice", new)).status_code == 303


async def test_open_redirect_is_blocked(env: AdminEnv) -> None:
    resp = await post_login(env.client(), "alice", PASSWORD, next_url="//evil.example/")
    assert resp.headers["location"] == "/"


async def test_deactivated_account_cannot_log_in(env: AdminEnv) -> None:
    uid = await env.user("carol", "viewer")
    carol = await env.login("carol")
    admin = await env.login("alice")
    resp = await post_form(admin, "/accounts", f"/accounts/{uid}", {"action": "deactivate"})
    assert resp.status_code == 303
    assert (await carol.get("/")).status_code == 303
    assert (await post_login(env.client(), "carol", PASSWORD)).status_code == 401


async def test_csrf_token_is_per_session(env: AdminEnv) -> None:
    a = await env.login("alice")
    b = await env.login("alice")
    token_a = csrf_of((await a.get("/")).text)
    token_b = csrf_of((await b.get("/")).text)
    assert token_a != token_b
    resp = await b.post("/logout", data={"csrf_token": token_a})
    assert resp.status_code == 403
