"""Bad input gets a 4xx with a reason, never a 500 (SQLite and PostgreSQL): NUL characters in
every form and filter, call-backs assigned to nobody or to a non-counsellor, out-of-range ids;
API tokens that expire; HSTS with Secure cookies; a plain-http trial told why login fails; the
account forms' defaults."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from admin.accounts import TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX
from storage.models.admin import ApiClient, CallbackRequest
from tests.admin_helpers import PASSWORD, AdminEnv, admin_env, csrf_of, post_form, post_login
from tests.factories import make_person

NUL = "\x00"
NUL_MESSAGE = "Nội dung có ký tự không được phép (NUL)."
KY_LUA = "6187"


@pytest.fixture
async def env(tmp_path: Path, any_db_url: str) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path, db_url=any_db_url) as e:
        async with e.sessionmaker() as s:
            await make_person(s, full_name="Hoàng Văn Bình", answers={"wants_call": "yes"})
            await s.commit()
        await e.user("boss", "admin")
        yield e


async def _person_id(env: AdminEnv) -> int:
    client = await env.login("boss")
    html = (await client.get("/callbacks")).text
    match = re.search(r'action="/callbacks/(\d+)"', html)
    assert match, html
    return int(match.group(1))


@pytest.mark.parametrize(
    "path",
    [
        "/people?q=b%00nh",
        "/people?commune=61%0087",
        "/people?branch=%00",
        "/people?trade=weld%00",
        "/people?discharge_month=2026-%0002",
        "/exports?commune=%00",
        "/exports?trade=%00&date_from=2026-01-01",
        "/audit?action=login%00",
        "/callbacks?done=%00",
        "/api/people?updated_since=%00",
    ],
)
async def test_nul_in_a_filter_is_refused(env: AdminEnv, path: str) -> None:
    client = await env.login("boss")
    if path.startswith("/api/"):
        token = await env.token("crm", "admin")
        resp = await env.client(Authorization=f"Bearer {token}").get(path)
        assert resp.status_code == 400 and resp.json()["detail"] == (
            "The text holds a character that is not allowed (NUL)."
        )
        return
    resp = await client.get(path)
    assert resp.status_code == 400 and NUL_MESSAGE in resp.text


async def test_nul_in_a_form_is_refused(env: AdminEnv) -> None:
    resp = await post_login(env.client(), f"bo{NUL}ss", PASSWORD)
    assert resp.status_code == 400 and NUL_MESSAGE in resp.text
    resp = await post_login(env.client(), "boss", f"pass{NUL}word")
    assert resp.status_code == 400
    pid = await _person_id(env)
    client = await env.login("boss")
    note = await post_form(client, "/callbacks", f"/callbacks/{pid}", {"note": f"Hẹn{NUL}"})
    assert note.status_code == 400 and NUL_MESSAGE in note.text
    for data in ({"commune": NUL}, {"trade": f"weld{NUL}"}, {"date_from": f"2026{NUL}"}):
        resp = await post_form(client, "/exports", "/exports/download", {"fmt": "csv", **data})
        assert resp.status_code == 400, data
    made = await post_form(
        client, "/accounts", "/accounts", {"username": f"x{NUL}y", "role": "viewer"}
    )
    assert made.status_code == 400
    # and nothing of it was stored: the call-back is still open, without a note
    async with env.sessionmaker() as s:
        assert await s.scalar(select(CallbackRequest.note)) is None


async def test_call_back_goes_only_to_an_active_counsellor(env: AdminEnv) -> None:
    pid = await _person_id(env)
    client = await env.login("boss")
    officer = await env.user("xa.kylua", "commune", communes=[KY_LUA])
    counsellor = await env.user("tuvan", "counsellor")
    refused = "Chỉ có thể giao yêu cầu gọi lại cho tài khoản cán bộ tư vấn đang hoạt động."
    for who in (99999, officer):
        data = {"action": "assign", "counsellor_id": str(who)}
        resp = await post_form(client, "/callbacks", f"/callbacks/{pid}", data)
        assert resp.status_code == 400 and refused in resp.text, who
    for who in ("0", str(2**40), "abc"):
        data = {"action": "assign", "counsellor_id": who}
        resp = await post_form(client, "/callbacks", f"/callbacks/{pid}", data)
        assert resp.status_code == 422, who
    async with env.sessionmaker() as s:
        assert await s.scalar(select(CallbackRequest.assigned_counsellor_id)) is None
    data = {"action": "assign", "counsellor_id": str(counsellor)}
    assert (await post_form(client, "/callbacks", f"/callbacks/{pid}", data)).status_code == 303
    async with env.sessionmaker() as s:
        assert await s.scalar(select(CallbackRequest.assigned_counsellor_id)) == counsellor
    data = {"action": "assign", "counsellor_id": ""}  # "Nobody"
    assert (await post_form(client, "/callbacks", f"/callbacks/{pid}", data)).status_code == 303
    async with env.sessionmaker() as s:
        assert await s.scalar(select(CallbackRequest.assigned_counsellor_id)) is None


async def test_ids_beyond_the_database_range_are_refused(env: AdminEnv) -> None:
    client = await env.login("boss")
    huge = 2**40
    for path in (f"/callbacks/{huge}", f"/accounts/{huge}", f"/api-clients/{huge}"):
        resp = await post_form(client, "/accounts", path, {"action": "activate"})
        assert resp.status_code == 422, path


async def test_api_tokens_expire(env: AdminEnv) -> None:
    client = await env.login("boss")
    page = (await client.get("/accounts")).text
    assert f"mặc định {TOKEN_DAYS_DEFAULT}, tối đa {TOKEN_DAYS_MAX}" in page
    assert f'name="days" type="number" min="1" max="{TOKEN_DAYS_MAX}"' in page
    for days in ("0", str(TOKEN_DAYS_MAX + 1)):
        data = {"name": "crm", "role": "viewer", "days": days}
        resp = await post_form(client, "/accounts", "/api-clients", data)
        assert resp.status_code == 400 and "thời hạn từ 1 đến 365 ngày" in resp.text
    resp = await post_form(client, "/accounts", "/api-clients", {"name": "crm", "role": "viewer"})
    token = re.search(r'id="new-token">([^<]+)<', resp.text).group(1)  # type: ignore[union-attr]
    data = {"name": "short", "role": "viewer", "days": "2"}
    resp = await post_form(client, "/accounts", "/api-clients", data)
    short = re.search(r'id="new-token">([^<]+)<', resp.text).group(1)  # type: ignore[union-attr]
    async with env.sessionmaker() as s:
        lifetimes = {
            c.name: c.expires_at - c.created_at for c in (await s.scalars(select(ApiClient))).all()
        }
    assert abs(lifetimes["crm"] - timedelta(days=TOKEN_DAYS_DEFAULT)) < timedelta(minutes=1)
    api, api_short = (env.client(Authorization=f"Bearer {t}") for t in (token, short))
    assert (await api.get("/api/kpis")).status_code == 200
    assert (await api_short.get("/api/kpis")).status_code == 200
    env.advance(timedelta(days=2, seconds=1))
    resp = await api_short.get("/api/kpis")
    assert resp.status_code == 401 and resp.json()["detail"] == "invalid or expired token"
    assert (await api.get("/api/kpis")).status_code == 200
    client = await env.login("boss")  # the earlier session is long idle
    assert "đã hết hạn" in (await client.get("/accounts")).text
    env.advance(timedelta(days=TOKEN_DAYS_DEFAULT))
    assert (await api.get("/api/kpis")).status_code == 401


def test_cli_token_lifetime(tmp_path: Path) -> None:
    xuatngu = str(Path(sys.executable).parent / "xuatngu")
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3"}
    made = subprocess.run(
        [xuatngu, "admin", "create-token", "crm", "--role", "viewer", "--days", "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith("xa_") and len(made.stdout.splitlines()) == 1
    until = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=30)).strftime("%d/%m/%Y")
    assert f"The token works until {until}" in made.stderr
    too_long = subprocess.run(
        [xuatngu, "admin", "create-token", "x2", "--role", "viewer", "--days", "366"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert too_long.returncode == 1 and "1 to 365 days" in too_long.stderr


async def test_account_forms_default_to_the_least_role_and_name_the_application(
    env: AdminEnv,
) -> None:
    client = await env.login("boss")
    page = (await client.get("/accounts")).text
    selected = re.findall(r'<option value="(\w+)" selected>', page)
    assert selected == ["viewer", "viewer"]  # new account, new API client
    assert "Tên ứng dụng" in page


# ------------------------------------------------------------------ https, HSTS, plain-http trial


async def test_hsts_only_with_secure_cookies_over_https(tmp_path: Path) -> None:
    async with admin_env(tmp_path, cookie_secure=True) as env:
        https = await env.client(base_url="https://admin.example").get("/login")
        assert https.headers["strict-transport-security"] == "max-age=31536000"
        local = await env.client(base_url="http://127.0.0.1:8080").get("/login")
        assert "strict-transport-security" not in local.headers  # never over http (RFC 6797)
    (tmp_path / "plain").mkdir()
    async with admin_env(tmp_path / "plain", cookie_secure=False) as env:
        https = await env.client(base_url="https://admin.example").get("/login")
        assert "strict-transport-security" not in https.headers


@pytest.mark.parametrize(
    ("base", "secure", "told"),
    [
        ("http://192.0.2.10:8080", True, True),
        ("http://admin.example", True, True),
        ("http://127.0.0.1:8080", True, False),  # browsers keep Secure cookies on localhost
        ("http://localhost:8080", True, False),
        ("https://admin.example", True, False),
        ("http://192.0.2.10:8080", False, False),  # COOKIE_SECURE=false: a trial works
    ],
)
async def test_plain_http_trial_is_told_why_login_fails(
    tmp_path: Path, base: str, secure: bool, told: bool
) -> None:
    async with admin_env(tmp_path, cookie_secure=secure) as env:
        await env.user("bob", "viewer")
        form = await env.client(base_url=base).get("/login")
        assert ('id="cookies-lost"' in form.text) is told
        data = {"username": "bob", "password": PASSWORD, "csrf_token": csrf_of(form.text)}
        # what a browser sends back: a Secure cookie only over https or to localhost
        cookie = "" if told else f"xa_login_csrf={form.cookies['xa_login_csrf']}"
        resp = await env.client(base_url=base, Cookie=cookie).post("/login", data=data)
        if told:
            assert resp.status_code == 403
            assert "COOKIE_SECURE=false" in resp.text and "https" in resp.text
            assert "Không có quyền" not in resp.text  # not a bare "403 · Not allowed"
            english = await env.client(base_url=base, Cookie="xa_lang=en").get("/login")
            assert "so logging in cannot work" in english.text
        else:
            assert resp.status_code == 303
