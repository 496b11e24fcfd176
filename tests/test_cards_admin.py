"""The admin's training cards pages: who may open them (not commune, counsellor, institution
accounts), recording one card (errors by field, numbers taken), the import (check, then apply),
the list's search, a card's page with its person and revocation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from storage.models import Person
from storage.models.cards import TrainingCard
from tests.admin_helpers import AdminEnv, admin_env, csrf_of, post_form
from tests.cards_helpers import MINH, PHONE, ROW, add_card, audit_actions, cards_workbook, get_card

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path) as e:
        await e.user("boss", "admin")
        await e.user("province", "provincial")
        await e.user("ward", "commune", communes=["5986"])
        await e.user("helper", "counsellor")
        await e.user("school", "institution", trades=["weld"])
        await e.user("jobs", "employment")
        yield e


def _hidden(page: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


async def test_only_provincial_officers_and_admins_open_the_cards_pages(env: AdminEnv) -> None:
    card_id = await add_card(env.sessionmaker)
    pages = ("/cards", "/cards/new", "/cards/import", f"/cards/{card_id}", "/cards/template.xlsx")
    for name in ("ward", "helper", "school", "jobs"):
        client = await env.login(name)
        for page in pages:
            assert (await client.get(page)).status_code == 403, (name, page)
        assert 'href="/cards"' not in (await client.get("/")).text, name
        token = csrf_of((await client.get("/")).text)  # a valid form: refused for the role
        refused = await client.post(
            f"/cards/{card_id}/revoke", data={"reason": "x", "csrf_token": token}
        )
        assert refused.status_code == 403
    for name in ("boss", "province"):
        client = await env.login(name)
        home = await client.get("/")
        assert '<a href="/cards">Thẻ học nghề</a>' in home.text, name
        for page in pages:
            assert (await client.get(page)).status_code == 200, (name, page)
    card = await get_card(env.sessionmaker, ROW["number"])
    assert card is not None and card.status == "issued"


async def test_record_one_card_with_errors_by_field_then_saved_and_audited(env: AdminEnv) -> None:
    boss = await env.login("boss")
    form = {**ROW, "issue_date": "31/02/2026", "service_completed": "có"}
    wrong = await post_form(boss, "/cards/new", "/cards/new", form)
    assert wrong.status_code == 400
    assert "31/02/2026 không phải là ngày" in wrong.text
    assert await get_card(env.sessionmaker, ROW["number"]) is None
    saved = await post_form(boss, "/cards/new", "/cards/new", {**form, "issue_date": "01/03/2026"})
    assert saved.status_code == 303
    page = await boss.get(saved.headers["location"])
    assert "28/02/2027" in page.text and "Còn hiệu lực" in page.text
    card = await get_card(env.sessionmaker, ROW["number"])
    assert card is not None and card.service_completed and card.holder_phone == PHONE
    taken = await post_form(boss, "/cards/new", "/cards/new", {**form, "issue_date": "02/03/2026"})
    assert taken.status_code == 400 and "đã có trong danh sách" in taken.text
    # an unticked box is a no
    await post_form(boss, "/cards/new", "/cards/new", {**ROW, "number": "N2"})
    unchecked = await get_card(env.sessionmaker, "N2")
    assert unchecked is not None and not unchecked.service_completed
    assert (await audit_actions(env.sessionmaker)).count("card.recorded") == 2


async def _upload(client: httpx.AsyncClient, content: bytes) -> httpx.Response:
    shown = await client.get("/cards/import")
    data = {"csrf_token": csrf_of(shown.text), "step": "check"}
    return await client.post("/cards/import", data=data, files={"file": ("c.xlsx", content, XLSX)})


async def test_web_import_checks_first_then_applies(env: AdminEnv) -> None:
    province = await env.login("province")
    bad = cards_workbook([ROW, {**ROW, "number": "B", "holder_phone": "12345"}])
    wrong = await _upload(province, bad)
    assert wrong.status_code == 400
    assert "cards: dòng 4, cột holder_phone: 12345 không phải số di động Việt Nam" in wrong.text
    good = cards_workbook([ROW, {**ROW, "number": "B", "holder_name": "Lê Văn Tám"}])
    checked = await _upload(province, good)
    assert checked.status_code == 200 and "2 thẻ mới" in checked.text
    # the apply form and the upload form both post back to the cards import
    assert checked.text.count('action="/cards/import"') == 2
    assert await get_card(env.sessionmaker, "B") is None
    applied = await province.post(
        "/cards/import",
        data={
            "csrf_token": csrf_of(checked.text),
            "step": "apply",
            "name": "c.xlsx",
            "content": _hidden(checked.text, "content"),
        },
    )
    assert applied.status_code == 200 and "Đã nhập" in applied.text
    assert await get_card(env.sessionmaker, "B") is not None
    listed = await province.get("/cards", params={"q": "lê văn"})
    assert ">B</a>" in listed.text and ROW["number"] not in listed.text
    assert "card.imported" in await audit_actions(env.sessionmaker)


async def test_card_page_links_the_person_and_revokes_with_a_reason(env: AdminEnv) -> None:
    async with env.sessionmaker() as s:
        person = Person(
            telegram_user_id=5, chat_id=5, full_name=MINH, phone=PHONE, consent_at=datetime.now(UTC)
        )
        s.add(person)
        await s.commit()
        pid = person.id
    card_id = await add_card(env.sessionmaker)
    boss = await env.login("boss")
    page = await boss.get(f"/cards/{card_id}")
    assert f'<a href="/people/{pid}">{MINH}</a>' in page.text
    empty = await post_form(boss, f"/cards/{card_id}", f"/cards/{card_id}/revoke", {"reason": " "})
    assert empty.status_code == 400 and "Cần ghi lý do thu hồi" in empty.text
    done = await post_form(
        boss, f"/cards/{card_id}", f"/cards/{card_id}/revoke", {"reason": "Cấp nhầm người"}
    )
    assert done.status_code == 303
    async with env.sessionmaker() as s:
        card = await s.scalar(select(TrainingCard).where(TrainingCard.id == card_id))
    assert card is not None and card.status == "revoked" and card.revoked_reason == "Cấp nhầm người"
    revoked = await boss.get("/cards", params={"status": "revoked"})
    assert ROW["number"] in revoked.text
    assert ROW["number"] not in (await boss.get("/cards", params={"status": "issued"})).text
    assert "card.revoked" in await audit_actions(env.sessionmaker)
