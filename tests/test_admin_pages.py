"""Admin pages: dashboard, language switch, people search and detail, call-backs, accounts,
audit log, XLSX export, survey content; plus the CLI, the migration and ``audit()``."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from storage.audit import audit
from storage.models.admin import AdminUser, AuditEntry
from storage.models.timeline import Outcome
from tests.admin_helpers import PASSWORD, AdminEnv, admin_env, post_form, post_login
from tests.factories import make_person

KY_LUA = "6187"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path) as e:
        async with e.sessionmaker() as s:
            p = await make_person(
                s,
                full_name="Hoàng Văn Bình",
                phone="+84987654321",
                trades=("weld", "drive_b"),
                answers={"wants_call": "yes", "education": "grade_12"},
                discharge_month=date(2026, 2, 1),
            )
            s.add(Outcome(person_id=p.id, status="finished_training", status_date=date(2026, 6, 1)))
            await make_person(s, full_name="Lý Thị Cúc", phone="+84911111111", trades=("drive_b",))
            await make_person(s, full_name="Chưa Xong", completed=False, trades=())
            await s.commit()
        await e.user("boss", "admin")
        yield e


async def test_dashboard_shows_counts_kpis_and_charts(env: AdminEnv) -> None:
    client = await env.login("boss")
    html = (await client.get("/")).text
    assert '<div class="tile"><b>3</b>' in html  # people reached
    assert '<div class="tile"><b>2</b>' in html  # completed
    assert "Chỉ tiêu với người xuất ngũ năm 2026" in html
    assert "Đã học nghề" in html and "≥ 60%" in html and "≥ 70%" in html
    assert "<svg" in html and "Lái xe ô tô hạng B" in html  # top trades chart
    assert html.count('class="bar-row"') >= 5


async def test_language_switch(env: AdminEnv) -> None:
    client = await env.login("boss")
    resp = await client.get("/lang/en?next=/people")
    assert resp.status_code == 303 and resp.headers["location"] == "/people"
    html = (await client.get("/")).text
    assert "Targets for people discharged in 2026" in html and "Tổng quan" not in html
    await client.get("/lang/vi")
    assert "Tổng quan" in (await client.get("/")).text


async def test_people_search_and_filters(env: AdminEnv) -> None:
    client = await env.login("boss")
    assert "Hoàng Văn Bình" in (await client.get("/people?q=bình")).text
    html = (await client.get("/people?q=0987654")).text  # phone typed the local way
    assert "Hoàng Văn Bình" in html and "Lý Thị Cúc" not in html
    html = (await client.get("/people?trade=weld")).text
    assert "Hoàng Văn Bình" in html and "Lý Thị Cúc" not in html
    html = (await client.get("/people?completed=no")).text
    assert "Chưa Xong" in html and "Lý Thị Cúc" not in html
    html = (await client.get("/people?discharge_month=2025-01")).text
    assert "Hoàng Văn Bình" not in html


async def test_person_detail_shows_answers_and_history(env: AdminEnv) -> None:
    client = await env.login("boss")
    listing = (await client.get("/people?q=Bình")).text
    pid = re.search(r'href="/people/(\d+)">Hoàng', listing).group(1)  # type: ignore[union-attr]
    html = (await client.get(f"/people/{pid}")).text
    assert "Muốn cán bộ gọi điện" in html and "Đã học xong" in html
    assert "Lái xe ô tô hạng B" in html


async def test_callback_done_with_note_is_audited(env: AdminEnv) -> None:
    client = await env.login("boss")
    html = (await client.get("/callbacks")).text
    pid = re.search(r'action="/callbacks/(\d+)"', html).group(1)  # type: ignore[union-attr]
    resp = await post_form(client, "/callbacks", f"/callbacks/{pid}", {"note": "Hẹn thứ hai"})
    assert resp.status_code == 303
    assert "Hoàng Văn Bình" not in (await client.get("/callbacks")).text
    done = (await client.get("/callbacks?done=true")).text
    assert "Hẹn thứ hai" in done
    audit_page = (await client.get("/audit?action=callback")).text
    assert "Đã gọi lại xong" in audit_page and "callback.done" not in audit_page


async def test_accounts_create_reset_and_audit(env: AdminEnv) -> None:
    client = await env.login("boss")
    bad = await post_form(
        client,
        "/accounts",
        "/accounts",
        {"username": "xa1", "role": "commune", "password": "x" * 12},
    )
    assert bad.status_code == 400  # a commune account needs a commune
    ok = await post_form(
        client,
        "/accounts",
        "/accounts",
        {"username": "xa1", "role": "commune", "password": "x" * 12, "commune": KY_LUA},
    )
    assert ok.status_code == 303
    async with env.sessionmaker() as s:
        user = await s.scalar(select(AdminUser).where(AdminUser.username == "xa1"))
    assert (
        user is not None and user.communes == [KY_LUA] and user.password_hash.startswith("$argon2")
    )
    reset = await post_form(client, "/accounts", f"/accounts/{user.id}", {"action": "reset"})
    temp = re.search(r'id="temp-password">([^<]+)<', reset.text).group(1)  # type: ignore[union-attr]
    assert (await post_login(env.client(), "xa1", "x" * 12)).status_code == 401
    env.advance(timedelta(seconds=1))  # a wrong password: this address waits a second
    assert (await post_login(env.client(), "xa1", temp)).status_code == 303
    log = (await client.get("/audit")).text
    for action in ("Tạo tài khoản", "Đặt lại mật khẩu", "Đăng nhập thành công", "Đăng nhập không"):
        assert action in log
    assert temp not in log and PASSWORD not in log


async def test_api_client_token_shown_once(env: AdminEnv) -> None:
    client = await env.login("boss")
    resp = await post_form(client, "/accounts", "/api-clients", {"name": "crm", "role": "viewer"})
    token = re.search(r'id="new-token">([^<]+)<', resp.text).group(1)  # type: ignore[union-attr]
    assert token not in (await client.get("/accounts")).text
    api = env.client(Authorization=f"Bearer {token}")
    assert (await api.get("/api/kpis")).status_code == 200


async def test_xlsx_export_download(env: AdminEnv) -> None:
    client = await env.login("boss")
    resp = await post_form(
        client, "/exports", "/exports/download", {"fmt": "xlsx", "completed_only": "true"}
    )
    assert resp.status_code == 200
    assert "attachment" in resp.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(resp.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3  # header + two completed surveys
    assert {r[1] for r in rows[1:]} == {"Hoàng Văn Bình", "Lý Thị Cúc"}


async def test_survey_page_shows_questions(env: AdminEnv) -> None:
    client = await env.login("boss")
    html = (await client.get("/survey")).text
    assert "wants_call" in html and "Bạn có muốn cán bộ gọi điện" in html
    assert "Would you like an officer to call you" in html  # the other language too


async def test_error_pages_and_headers(env: AdminEnv) -> None:
    client = await env.login("boss")
    resp = await client.get("/people/123456")
    assert resp.status_code == 404 and "Không tìm thấy" in resp.text
    assert "default-src 'self'" in resp.headers["content-security-policy"]
    assert resp.headers["x-frame-options"] == "DENY"
    assert (await client.get("/static/admin.css")).status_code == 200


async def test_audit_function_for_the_bot(env: AdminEnv) -> None:
    async with env.sessionmaker() as s:
        await audit(
            s, actor="bot", action="person.erased", detail={"person_id": 7, "token": "secret"}
        )
        await s.commit()
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "person.erased"))
    assert entry is not None and entry.detail == {"person_id": 7}


def test_cli_create_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli.admin import admin_app
    from bot.config import get_settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        ok = runner.invoke(
            admin_app,
            [
                "create-user",
                "xa.kylua",
                "--role",
                "commune",
                "--commune",
                KY_LUA,
                "--password-stdin",
            ],
            input="a long enough password\n",
        )
        assert ok.exit_code == 0, ok.output
        bad = runner.invoke(
            admin_app,
            ["create-user", "school", "--role", "institution", "--password-stdin"],
            input="a long enough password\n",
        )
        assert bad.exit_code == 1 and "trade" in bad.output
        listed = runner.invoke(admin_app, ["list-users"])
        assert "xa.kylua\tcommune\tactive\t6187" in listed.output
    finally:
        get_settings.cache_clear()


def test_migration_downgrades_and_upgrades(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from storage.migrate import alembic_config, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0001")
    sync = create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    assert "admin_users" not in inspect(sync).get_table_names()
    upgrade(url)
    names = set(inspect(sync).get_table_names())
    assert {
        "admin_users",
        "admin_sessions",
        "audit_log",
        "api_clients",
        "callback_requests",
    } <= names
    sync.dispose()


async def test_people_list_is_paged(env: AdminEnv) -> None:
    async with env.sessionmaker() as s:
        for i in range(30):
            await make_person(s, full_name=f"Trang {i:02d}", trades=())
        await s.commit()
    client = await env.login("boss")
    first = (await client.get("/people?q=Trang")).text
    assert "Trang 29" in first and "Trang 00" not in first  # newest first, 25 a page
    assert "Trang 2 đến" not in first and 'href="/people?q=Trang&amp;page=2"' in first
    second = (await client.get("/people?q=Trang&page=2")).text
    assert "Trang 00" in second and "Trang 29" not in second
