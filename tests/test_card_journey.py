"""Issue 13 end to end, on SQLite and PostgreSQL: a soldier discharged last month answers the
survey in the bot (emulator); an officer records his training card in the admin; he sees it with
/card; the institution redeems it for its sơ cấp intake (he is counted as trained), records the
course finished, and he appears in its settlement file (opened with openpyxl); once submitted,
the support paid shows in the yearly figures, per commune and per institution."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from bot.config import get_settings
from bot.reporting.kpi import compute_kpis
from bot.reporting.support_paid import support_paid
from emulator import EmulatedUser
from storage.models import Person
from storage.models.cards import CardRedemption, TrainingCard
from tests.admin_helpers import AdminEnv, admin_env, csrf_of, post_form
from tests.alerts_helpers import surveyed_soldier
from tests.conftest import RunningBot
from tests.institution_helpers import institution_account, make_institution, months_ago
from tests.redemption_helpers import make_intake, post_redeem, province_today
from tests.settlement_helpers import set_today
from tests.survey_helpers import stored_person

DISCHARGE = months_ago(1)  # discharged last month: home now
NUMBER = "QK1-2026-004711"
TAM_THANH, KY_LUA = "5986", "6187"


@dataclass
class Journey:
    rb: RunningBot
    env: AdminEnv
    soldier: EmulatedUser
    person: Person
    school: int
    course: int


@pytest.fixture
async def journey(running_bot_any_db: RunningBot, tmp_path: Path) -> AsyncIterator[Journey]:
    rb = running_bot_any_db
    soldier = await surveyed_soldier(rb, 4701, discharge=DISCHARGE)  # Nguyễn Văn Ánh, weld
    person = await stored_person(rb, 4701)
    assert person is not None and person.consent_sharing and person.survey_completed_at
    async with admin_env(tmp_path, db_url=rb.settings.database_url) as env:
        async with env.sessionmaker() as s:
            school = await make_institution(s, "Trường Cao đẳng Lạng Sơn", ["weld"])
            course = await make_intake(s, school, "Hàn điện sơ cấp")  # starts today, 60 days
            course.venue_code = KY_LUA
            await s.commit()
        await env.user("boss", "admin")
        await env.user("province", "provincial")
        await institution_account(env, "school", school)
        yield Journey(rb, env, soldier, person, school.id, course.id)


async def trained(env: AdminEnv) -> int:
    async with env.sessionmaker() as s:
        report = await compute_kpis(s, year=DISCHARGE.year, tz=get_settings().tz)
    return report.trained


async def test_card_from_discharge_to_settlement(journey: Journey) -> None:
    env, j = journey.env, journey

    # the provincial officer records the card the unit issued at discharge
    province = await env.login("province")
    form = {
        "number": NUMBER,
        "holder_name": "Nguyễn Văn Ánh",
        "holder_phone": "0912 345 678",
        "holder_birth_date": "15/04/2004",
        "home_commune_code": "Phường Tam Thanh",
        "issuer_kind": "military",
        "issuer_unit": "Sư đoàn 3, Quân khu 1",
        "issue_date": DISCHARGE.strftime("%d/%m/%Y"),
        "discharge_date": DISCHARGE.strftime("%d/%m/%Y"),
        "service_completed": "có",
    }
    saved = await post_form(province, "/cards/new", "/cards/new", form)
    assert saved.status_code == 303, saved.text
    async with env.sessionmaker() as s:
        card = await s.scalar(select(TrainingCard).where(TrainingCard.number == NUMBER))
    assert card is not None and card.status == "issued"
    assert card.person_id == j.person.id  # same phone, same name: his card
    assert card.valid_until is not None and card.valid_until > province_today()

    # the soldier sees it in the bot, with what it pays and a course that accepts it
    reply = await j.soldier.ask("/card")
    text = reply.text
    assert NUMBER in text and card.valid_until.strftime("%d/%m/%Y") in text
    assert "tiền ăn 50.000 đ mỗi ngày học" in text
    assert "Hàn điện sơ cấp" in text

    # the institution redeems it for the intake: he is in training, counted as trained
    assert await trained(env) == 0
    school = await env.login("school")
    redeemed = await post_redeem(school, j.school, card, j.person.id, j.course)
    assert redeemed.status_code == 303, redeemed.text
    assert await trained(env) == 1
    again = await post_redeem(school, j.school, card, j.person.id, j.course)
    assert again.status_code == 409 and "Thẻ đã được dùng" in again.text

    # the course ends: finished today
    async with env.sessionmaker() as s:
        row = await s.scalar(select(CardRedemption).where(CardRedemption.card_id == card.id))
    assert row is not None
    today = province_today()  # the province's day (UTC may still be yesterday)
    page = await school.get(f"/redemptions/{j.school}")
    end = await school.post(
        f"/redemptions/{j.school}/{row.id}/end",
        data={"csrf_token": csrf_of(page.text), "outcome": "finished", "day": today.isoformat()},
    )
    assert end.status_code == 303, end.text
    assert await trained(env) == 1

    # the settlement file of the period the course ended in
    period = "half" if today.month <= 6 else "year"
    dashboard = f"/settlements/{j.school}"
    xlsx = await post_form(school, dashboard, f"{dashboard}/{period}/{today.year}/xlsx", {})
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    mine = next(r for r in rows if r[1] == "Nguyễn Văn Ánh")
    assert mine[2] == NUMBER and mine[4] == "Hàn điện sơ cấp" and mine[6] == 60
    # (a) 3.000.000 tuition, (b) 60 days × 50.000, (c) 200.000: under the cap, nothing to pay
    assert mine[7:12] == [3_000_000, 3_000_000, 200_000, 6_200_000, 0]
    total = next(r for r in rows if r[0] == "Tổng cộng")
    assert total[10] == 6_200_000

    # once the period is over the institution submits it (not before: "Kỳ này chưa kết thúc")
    early = await post_form(school, dashboard, f"{dashboard}/{period}/{today.year}/submit", {})
    assert early.status_code == 409 and "Kỳ này chưa kết thúc" in early.text
    set_today(env, date(today.year, 7, 2) if period == "half" else date(today.year + 1, 1, 2))
    school = await env.login("school")  # weeks later: a new login
    # submitted: the support paid shows per commune and per institution in the year's figures
    submitted = await post_form(school, dashboard, f"{dashboard}/{period}/{today.year}/submit", {})
    assert submitted.status_code == 303, submitted.text
    async with env.sessionmaker() as s:
        paid = await support_paid(s, year=today.year)
    assert (paid.overall.courses, paid.overall.total_vnd) == (1, 6_200_000)
    assert [(p.name, p.total_vnd) for p in paid.by_institution] == [
        ("Trường Cao đẳng Lạng Sơn", 6_200_000)
    ]
    assert [(p.name, p.total_vnd) for p in paid.by_commune] == [("Phường Tam Thanh", 6_200_000)]
    boss = await env.login("boss")
    home = (await boss.get(f"/?year={today.year}")).text
    assert 'id="support-paid"' in home and "6.200.000" in home
