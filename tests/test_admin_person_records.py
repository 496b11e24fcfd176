"""Officers record what happens to a person, correct and erase them, from the person page and the
REST API: audited, scoped to their people, and the KPIs follow. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select, update

from bot.people import ERASURE_COUNT
from storage import people as people_repo
from storage import questions as questions_repo
from storage.models import FsmRecord, Person
from storage.models.admin import AuditEntry, CallbackRequest
from storage.models.questions import Question
from storage.models.timeline import Outcome
from tests.admin_helpers import BOT_ID, AdminEnv, admin_env, csrf_of, post_form
from tests.factories import make_person

KY_LUA, TAM_THANH = "6187", "5986"
LEVEL = {"training_level": "elementary"}


@dataclass
class World:
    """Anh: Kỳ Lừa, registered, came home 10/02/2026 and did the survey on 20/02. Binh: Tam
    Thanh. Officers: boss (admin), xa (Kỳ Lừa), tinh (provincial), truong (institution)."""

    env: AdminEnv
    anh: int
    binh: int
    admin_token: str

    async def kpis(self) -> dict[str, int]:
        client = self.env.client(Authorization=f"Bearer {self.admin_token}")
        body = (await client.get("/api/kpis?year=2026")).json()
        return {k["key"]: k["numerator"] for k in body["kpis"]}

    async def audit(self, action: str) -> list[AuditEntry]:
        async with self.env.sessionmaker() as s:
            stmt = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            return list((await s.scalars(stmt)).all())

    async def person(self, person_id: int) -> Person | None:
        async with self.env.sessionmaker() as s:
            return await s.get(Person, person_id)


@pytest.fixture
async def world(any_db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with admin_env(tmp_path, db_url=any_db_url) as env:
        async with env.sessionmaker() as s:
            anh = await make_person(
                s,
                full_name="Nông Văn Anh",
                commune_code=KY_LUA,
                trades=("weld",),
                answers=LEVEL,
                completed_at=datetime(2026, 2, 20, 3, 0, tzinfo=UTC),
            )
            s.add(Outcome(person_id=anh.id, status="looking", status_date=date(2026, 2, 25)))
            binh = await make_person(
                s, full_name="Lộc Văn Bình", commune_code=TAM_THANH, answers=LEVEL
            )
            await s.commit()
            ids = anh.id, binh.id
        await env.user("boss", "admin")
        await env.user("xa", "commune", communes=[KY_LUA])
        await env.user("tinh", "provincial")
        await env.user("truong", "institution", trades=["weld"])
        yield World(env, *ids, admin_token=await env.token("crm", "admin"))


async def record(client: httpx.AsyncClient, pid: int, **form: str) -> httpx.Response:
    return await post_form(client, f"/people/{pid}", f"/people/{pid}/outcomes", form)


async def test_each_outcome_kind_is_recorded_audited_shown_and_counted(world: World) -> None:
    before = await world.kpis()
    assert (before["returnees"], before["counselled_before_return"]) == (2, 2)
    assert (before["trained"], before["helped_into_work_after_training"]) == (0, 0)
    xa = await world.env.login("xa")
    page = f"/people/{world.anh}"
    steps = [
        ("in_training", "2026-03-02", "weld", "Đang học nghề"),
        ("finished_training", "2026-06-01", "weld", "Đã học xong"),
        ("employed_in_trade", "2026-07-01", "weld", "Làm đúng nghề"),
        ("abroad", "2026-09-01", "", "Đi làm nước ngoài"),
        ("returned_home", "2026-02-10", "", "Đã về địa phương"),
    ]
    for status, day, trade, label in steps:
        resp = await record(xa, world.anh, status=status, day=day, trade_code=trade)
        assert resp.status_code == 303 and resp.headers["location"] == f"{page}?saved=outcome"
        html = (await xa.get(resp.headers["location"])).text
        d = date.fromisoformat(day)
        assert f"{d:%d/%m/%Y} — {label}" in html and "xa ghi lúc" in html
    assert "Đang học nghề (Hàn)" in html and "(weld)" not in html  # the trade by name
    assert "chính người này (bấm nút trong bot) ghi lúc" in html  # the bot's own "looking" entry
    assert "Ngày về địa phương</dt><dd>10/02/2026" in html
    after = await world.kpis()
    assert after["trained"] == 1 and after["helped_into_work_after_training"] == 1
    # home on 10/02, survey on 20/02: no longer counselled before return
    assert after["counselled_before_return"] == 1
    entries = await world.audit("person.outcome_recorded")
    assert [e.detail["status"] for e in entries] == [s[0] for s in steps]
    assert {e.actor for e in entries} == {"user:xa"}
    assert entries[0].detail == {
        "person_id": world.anh,
        "status": "in_training",
        "date": "2026-03-02",
        "trade_code": "weld",
    }
    async with world.env.sessionmaker() as s:
        rows = (await s.scalars(select(Outcome).where(Outcome.source == "admin"))).all()
    assert {(o.recorded_by, o.person_id) for o in rows} == {("user:xa", world.anh)}
    # the same entry twice (a double submit) is kept once; bad input is a 400, nothing stored
    await record(xa, world.anh, status="abroad", day="2026-09-01", trade_code="")
    for bad in (
        {"status": "millionaire", "day": "2026-03-01"},
        {"status": "abroad", "day": "2999-01-01"},
        {"status": "abroad", "day": "not a day"},
        {"status": "abroad", "day": "2026-03-01", "trade_code": "x\x00y"},
        {"status": "in\x00training", "day": "2026-03-01"},
    ):
        resp = await record(xa, world.anh, **bad)
        assert resp.status_code == 400 and 'class="error"' in resp.text, bad
    assert len(await world.audit("person.outcome_recorded")) == len(steps) + 1
    async with world.env.sessionmaker() as s:
        assert len((await s.scalars(select(Outcome))).all()) == 1 + len(steps)


async def test_profile_correction_uses_the_survey_rules(world: World) -> None:
    xa = await world.env.login("xa")
    page = f"/people/{world.anh}"
    html = (await xa.get(page)).text
    assert 'name="discharge_month" value="02/2026"' in html
    assert 'name="phone" value="0912 345 678"' in html
    form = {
        "full_name": "Nông Văn Ánh",
        "phone": "0912 345 678",
        "branch": "army",
        "enlistment_month": "02/2024",
        "discharge_month": "13/2025",  # no such month: nothing is kept
        "home_commune": KY_LUA,
    }
    bad = await post_form(xa, page, f"{page}/profile", form)
    assert bad.status_code == 400 and "Tháng chỉ từ 01 đến 12" in bad.text
    assert "&lt;b&gt;" not in bad.text and 'value="13/2025"' in bad.text
    assert (await world.person(world.anh)).full_name == "Nông Văn Anh"  # type: ignore[union-attr]
    nul = await post_form(xa, page, f"{page}/profile", {**form, "full_name": "A\x00nh"})
    assert nul.status_code == 400
    good = {**form, "discharge_month": "3/2025", "phone": "", "branch": "police"}
    resp = await post_form(xa, page, f"{page}/profile", good)
    assert resp.status_code == 303, resp.text
    person = await world.person(world.anh)
    assert person is not None
    assert (person.full_name, person.phone, person.branch) == ("Nông Văn Ánh", None, "police")
    assert person.discharge_month == date(2025, 3, 1)
    html = (await xa.get(page)).text
    assert "Tháng xuất ngũ</th><td>03/2025" in html and "Số điện thoại</th><td>—" in html
    entries = await world.audit("person.corrected")
    assert len(entries) == 1 and entries[0].actor == "user:xa"
    assert entries[0].detail == {
        "person_id": world.anh,
        "fields": ["full_name", "phone", "branch", "discharge_month"],
    }
    assert (await world.kpis())["returnees"] == 1  # discharged in 2025 now, not 2026
    # moved to Tam Thanh: out of the commune officer's sight, still the admin's
    moved = await post_form(xa, page, f"{page}/profile", {**good, "home_commune": TAM_THANH})
    assert moved.status_code == 303
    assert (await xa.get(page)).status_code == 404
    boss_page = (await (await world.env.login("boss")).get(page)).text
    assert "Phường Tam Thanh" in boss_page


async def test_a_value_left_as_it_is_is_not_checked_again(world: World) -> None:
    """Enlisted 01/2019: too long ago for the survey's rule today, yet stored; correcting the
    name alone works, while typing that month as a change is refused."""
    async with world.env.sessionmaker() as s:
        old = update(Person).where(Person.id == world.anh).values(enlistment_month=date(2019, 1, 1))
        await s.execute(old)
        await s.commit()
    boss = await world.env.login("boss")
    form = {
        "full_name": "Nông Văn Ánh",
        "phone": "0912 345 678",
        "branch": "army",
        "enlistment_month": "01/2019",
        "discharge_month": "02/2026",
        "home_commune": KY_LUA,
    }
    page = f"/people/{world.anh}"
    assert (await post_form(boss, page, f"{page}/profile", form)).status_code == 303
    assert (await world.person(world.anh)).full_name == "Nông Văn Ánh"  # type: ignore[union-attr]
    other = f"/people/{world.binh}"
    refused = await post_form(boss, other, f"{other}/profile", {**form, "home_commune": TAM_THANH})
    assert refused.status_code == 400 and "trở lại đây" in refused.text


async def _talking(env: AdminEnv, person_id: int) -> int:
    """The person is mid-conversation with the bot and has asked a counsellor; their Telegram
    id."""
    async with env.sessionmaker() as s:
        person = await s.get(Person, person_id)
        assert person is not None
        await questions_repo.add_question(s, person_id=person_id, text="Hỏi?", faq_declined=None)
        await s.commit()
    tg = person.telegram_user_id
    key = StorageKey(bot_id=BOT_ID, chat_id=tg, user_id=tg)
    fsm = FSMContext(storage=env.app.state.conversations.storage, key=key)
    await fsm.set_state("AskStates:writing")
    await fsm.set_data({"lang": "vi"})
    return tg


async def _fsm_users(env: AdminEnv) -> list[int]:
    async with env.sessionmaker() as s:
        keys = (await s.scalars(select(FsmRecord.key))).all()
    return sorted(int(k.split(":")[2]) for k in keys)


async def test_erasure_goes_the_delete_me_way(world: World) -> None:
    xa = await world.env.login("xa")
    page = f"/people/{world.anh}"
    anh_tg, binh_tg = await _talking(world.env, world.anh), await _talking(world.env, world.binh)
    assert await _fsm_users(world.env) == sorted([anh_tg, binh_tg])
    refused = await post_form(xa, page, f"{page}/erase", {})
    assert refused.status_code == 400 and await world.person(world.anh) is not None
    async with world.env.sessionmaker() as s:
        erasures = await people_repo.get_count(s, ERASURE_COUNT)
    resp = await post_form(xa, page, f"{page}/erase", {"confirm": "yes"})
    assert resp.status_code == 303 and resp.headers["location"] == "/people"
    assert await world.person(world.anh) is None
    async with world.env.sessionmaker() as s:
        assert await people_repo.get_count(s, ERASURE_COUNT) == erasures + 1
        assert (await s.scalars(select(Outcome))).all() == []
        asked = await s.scalars(select(Question.person_id))
        assert list(asked) == [world.binh]  # Anh's question went with Anh
    assert await _fsm_users(world.env) == [binh_tg]  # and so did Anh's conversation
    (entry,) = await world.audit("erasure")
    assert entry.actor == "user:xa" and entry.detail == {"by": "officer", "person_id": world.anh}
    assert (await xa.get(page)).status_code == 404
    assert (await world.kpis())["returnees"] == 1


async def test_officers_act_only_on_their_people(world: World) -> None:
    xa = await world.env.login("xa")
    other = f"/people/{world.binh}"
    token = csrf_of((await xa.get(f"/people/{world.anh}")).text)
    assert (await xa.get(other)).status_code == 404
    actions: list[tuple[str, dict[str, Any]]] = [
        ("outcomes", {"status": "abroad", "day": "2026-03-01"}),
        ("profile", {"full_name": "Ai Đó"}),
        ("erase", {"confirm": "yes"}),
    ]
    for action, form in actions:
        resp = await xa.post(f"{other}/{action}", data={"csrf_token": token, **form})
        assert resp.status_code == 404, action
        forged = await xa.post(f"/people/{world.anh}/{action}", data=form)  # no CSRF token
        assert forged.status_code == 403, action
    for name in ("tinh", "truong"):  # may read, may not write
        client = await world.env.login(name)
        page = f"/people/{world.anh}"
        html = (await client.get(page)).text
        assert "/outcomes" not in html and "/erase" not in html
        data = {"csrf_token": csrf_of(html), "status": "abroad", "day": "2026-03-01"}
        assert (await client.post(f"{page}/outcomes", data=data)).status_code == 403, name
    binh = await world.person(world.binh)
    assert binh is not None and binh.full_name == "Lộc Văn Bình"
    assert await world.audit("person.outcome_recorded") == []
    assert await world.audit("erasure") == []
    # a counsellor acts on the people assigned to them only
    coach = await world.env.user("coach", "counsellor")
    async with world.env.sessionmaker() as s:
        s.add(CallbackRequest(person_id=world.anh, assigned_counsellor_id=coach))
        await s.commit()
    counsellor = await world.env.login("coach")
    assert (
        await record(counsellor, world.anh, status="in_training", day="2026-03-02")
    ).status_code == 303
    assert (await counsellor.get(other)).status_code == 404


async def test_opening_a_person_is_audited(world: World) -> None:
    xa = await world.env.login("xa")
    await xa.get(f"/people/{world.anh}")
    api = world.env.client(Authorization=f"Bearer {world.admin_token}")
    assert (await api.get(f"/api/people/{world.binh}")).status_code == 200
    entries = await world.audit("person.viewed")
    assert [(e.actor, e.detail["person_id"]) for e in entries] == [
        ("user:xa", world.anh),
        ("api:crm", world.binh),
    ]


async def test_rest_api_records_corrects_and_erases(world: World) -> None:
    api = world.env.client(Authorization=f"Bearer {world.admin_token}")
    url = f"/api/people/{world.anh}"
    resp = await api.post(
        f"{url}/outcomes",
        json={"status": "in_training", "date": "2026-03-02", "trade_code": "weld"},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["outcomes"][-1]["recorded_by"] == "api:crm"
    assert body["outcomes"][-1]["source"] == "api"
    assert body["outcomes"][0]["source"] == "bot"
    assert (await world.kpis())["trained"] == 1
    home = await api.post(f"{url}/outcomes", json={"status": "returned_home", "date": "2026-02-10"})
    assert home.json()["return_date"] == "2026-02-10"
    wrong = await api.post(f"{url}/outcomes", json={"status": "rich", "date": "2026-03-02"})
    assert wrong.status_code == 422 and wrong.json()["detail"]["field"] == "status"
    bad = await api.patch(url, json={"phone": "12345", "discharge_month": "02/2026"})
    assert bad.status_code == 422 and set(bad.json()["detail"]) == {"phone"}
    assert "<b>" not in bad.json()["detail"]["phone"]
    ok = await api.patch(url, json={"home_commune_code": TAM_THANH, "phone": "0987 654 321"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["home_commune_name"] == "Phường Tam Thanh"
    assert ok.json()["phone"] == "+84987654321" and ok.json()["full_name"] == "Nông Văn Anh"
    commune_token = await world.env.token("xa-app", "commune", communes=[KY_LUA])
    commune = world.env.client(Authorization=f"Bearer {commune_token}")
    assert (await commune.delete(url)).status_code == 404  # Tam Thanh now
    viewer_token = await world.env.token("view", "viewer")
    viewer = world.env.client(Authorization=f"Bearer {viewer_token}")
    assert (await viewer.delete(url)).status_code == 403
    assert (await api.delete(url)).status_code == 204
    assert (await api.get(url)).status_code == 404
    (entry,) = await world.audit("erasure")
    assert entry.actor == "api:crm"
    actions = {e.action for e in await world.audit("person.corrected")}
    assert actions == {"person.corrected"}


async def test_dashboard_follows_at_once(world: World) -> None:
    """The dashboard keeps figures 30 s; a record from the person page shows at once."""
    boss = await world.env.login("boss")
    assert re.search(r"\(0/2\)", (await boss.get("/?year=2026")).text)
    await record(boss, world.anh, status="in_training", day="2026-03-02")
    assert re.search(r"\(1/2\)", (await boss.get("/?year=2026")).text)
