"""Composing broadcasts in the admin pages and through the REST API: checks, the phone
preview, the segment count, role scoping, the second confirmation above 500, audit, controls,
the report and its CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models.admin import AuditEntry
from storage.models.outbox import OutboxMessage
from tests.admin_helpers import AdminEnv, admin_env, csrf_of
from tests.broadcast_helpers import add_recipients
from tests.factories import make_person

OTHER = "6190"  # a second commune of Lạng Sơn


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path) as e:
        async with e.sessionmaker() as s:
            await make_person(s, answers={"loan_interest": "abroad"}, trades=("han_dien",))
            await make_person(s, answers={"loan_interest": "none"}, language="en")
            await make_person(
                s, commune_code=OTHER, branch="police", discharge_month=date(2026, 8, 1)
            )
            await s.commit()
        await e.user("boss", "admin")
        await e.user("xa", "commune", communes=["6187"])
        await e.user("viewer", "viewer")
        yield e


async def compose(env: AdminEnv, user: str, **fields: object) -> tuple[int, str]:
    client = await env.login(user)
    page = await client.get("/broadcasts/new")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page.text), "text_vi": "Chào <b>bạn</b>", **fields}
    resp = await client.post("/broadcasts/new", data=data)
    return resp.status_code, resp.headers.get("location", resp.text)


async def test_preview_counts_and_shows_the_phone_view(env: AdminEnv) -> None:
    code, html = await compose(env, "boss", action="preview", answer="loan_interest=abroad")
    assert code == 200
    assert 'id="recipient-count">1<' in html
    assert '<div class="bubble-text">Chào <b>bạn</b></div>' in html
    code, html = await compose(env, "boss", action="preview", force="police", text_en="Hi <i>x")
    assert code == 400 and "unclosed &lt;i&gt;" in html


async def test_bad_html_and_unknown_filters_are_refused(env: AdminEnv) -> None:
    code, html = await compose(
        env, "boss", action="send", text_vi="a & b <script>x</script>", commune="nowhere"
    )
    assert code == 400
    assert "&amp;amp;" in html and "not allowed" in html and "nowhere" in html
    async with env.sessionmaker() as s:
        assert await s.scalar(select(OutboxMessage.id)) is None


async def test_commune_officer_reaches_only_their_communes(env: AdminEnv) -> None:
    code, html = await compose(env, "xa", action="preview")
    assert code == 200 and 'id="recipient-count">2<' in html  # not the third person
    code, html = await compose(env, "xa", action="send", commune=OTHER)
    assert code == 400 and OTHER in html
    code, location = await compose(env, "xa", action="send")
    assert code == 303
    async with env.sessionmaker() as s:
        message = await s.scalar(select(OutboxMessage))
        assert message is not None and message.scope_communes == ["6187"]
        assert message.status == "scheduled" and message.recipients == 2
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "broadcast.created"))
        assert entry is not None and entry.actor == "user:xa"
    viewer = await env.login("viewer")
    assert (await viewer.get("/broadcasts")).status_code == 403
    boss = await env.login("boss")
    assert (await boss.get(location)).status_code == 200  # province roles see every broadcast


async def test_above_500_recipients_needs_a_second_confirmation(env: AdminEnv) -> None:
    await add_recipients(env.sessionmaker, range(70_000, 70_600))
    code, location = await compose(env, "boss", action="send")
    assert code == 303
    client = await env.login("boss")
    page = await client.get(location)
    assert 'name="count" value="603"' in page.text
    async with env.sessionmaker() as s:
        assert await s.scalar(select(OutboxMessage.status)) == "draft"
    token = csrf_of(page.text)
    wrong = await client.post(
        f"{location}/action", data={"csrf_token": token, "action": "confirm", "count": "500"}
    )
    assert wrong.status_code == 409
    ok = await client.post(
        f"{location}/action", data={"csrf_token": token, "action": "confirm", "count": "603"}
    )
    assert ok.status_code == 303
    async with env.sessionmaker() as s:
        assert await s.scalar(select(OutboxMessage.status)) == "scheduled"
        actions = set(await s.scalars(select(AuditEntry.action)))
    assert {"broadcast.created", "broadcast.confirm"} <= actions
    report = await client.get(f"{location}/report.json")
    assert report.json()["status"] == "scheduled" and report.json()["recipients"] == 603
    paused = await client.post(f"{location}/action", data={"csrf_token": token, "action": "pause"})
    assert paused.status_code == 303
    assert (await client.get(f"{location}/report.json")).json()["status"] == "paused"
    csv = await client.get(f"{location}/failures.csv")
    assert csv.status_code == 200 and csv.text.startswith("\ufeffperson_id")


async def test_rest_api_sends_follows_and_controls(env: AdminEnv) -> None:
    token = await env.token("crm", "counsellor")
    api = env.client(Authorization=f"Bearer {token}")
    bad = await api.post("/api/broadcasts", json={"text_vi": "x <b", "segment": {"force": "navy"}})
    assert bad.status_code == 422 and len(bad.json()["detail"]) == 2
    sent = await api.post(
        "/api/broadcasts",
        json={"text_vi": "Vay vốn", "segment": {"answer": "loan_interest=abroad"}},
    )
    assert sent.status_code == 201 and sent.json()["recipients"] == 1
    mid = sent.json()["id"]
    report = await api.get(f"/api/broadcasts/{mid}")
    assert report.json()["status"] == "scheduled"
    assert (await api.post(f"/api/broadcasts/{mid}/cancel")).json()["status"] == "cancelled"
    assert (await api.post(f"/api/broadcasts/{mid}/cancel")).status_code == 409
    await add_recipients(env.sessionmaker, range(71_000, 71_600))
    big = await api.post("/api/broadcasts", json={"text_vi": "Tất cả"})
    assert big.status_code == 409 and big.json()["detail"]["recipients"] == 603
    confirmed = await api.post(
        "/api/broadcasts", json={"text_vi": "Tất cả", "confirm_recipients": 603}
    )
    assert confirmed.status_code == 201
    other = env.client(Authorization=f"Bearer {await env.token('other', 'counsellor')}")
    assert (await other.get(f"/api/broadcasts/{mid}")).status_code == 404  # not theirs
    viewer = env.client(Authorization=f"Bearer {await env.token('watcher', 'viewer')}")
    assert (await viewer.get("/api/broadcasts")).status_code == 403


def test_cli_send_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``xuatngu broadcast send`` queues for the running bot; ``report`` follows it."""
    import asyncio
    import json

    from typer.testing import CliRunner

    from bot.cli.broadcast import broadcast_app
    from bot.config import get_settings
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade_async

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"

    async def setup() -> None:
        engine = create_engine(url)
        await upgrade_async(engine)
        sessions = create_sessionmaker(engine)
        await add_recipients(sessions, range(80_000, 80_010))
        await add_recipients(sessions, range(80_100, 80_103), branch="police")
        await engine.dispose()

    asyncio.run(setup())
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    text = tmp_path / "tin.html"
    text.write_text("Ngày hội việc làm <b>thứ Bảy</b>", encoding="utf-8")
    runner = CliRunner()
    try:
        bad = runner.invoke(
            broadcast_app, ["send", "--text-file", str(text), "--segment", "force=navy"]
        )
        assert bad.exit_code == 2 and "navy" in bad.output
        ok = runner.invoke(
            broadcast_app,
            [
                "send",
                "--text-file",
                str(text),
                "--segment",
                "force=police",
                "--at",
                "2099-01-01T08:00",
            ],
        )
        assert ok.exit_code == 0 and "queued for 3 recipients" in ok.output, ok.output
        mid = ok.output.split()[1]
        report = runner.invoke(broadcast_app, ["report", mid, "--json"])
        assert report.exit_code == 0
        data = json.loads(report.output)
        assert data["status"] == "scheduled" and data["recipients"] == 3
        cancelled = runner.invoke(broadcast_app, ["cancel", mid])
        assert cancelled.exit_code == 0 and "cancelled" in cancelled.output
    finally:
        get_settings.cache_clear()
