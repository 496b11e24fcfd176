"""Month-18 lists for institutions, end to end on SQLite and PostgreSQL: a soldier answers the
survey in the bot (emulator), shows up on the list of the institution teaching his trade (page
and XLSX), registers interest in its intake, is enrolled and finishes, and the KPI dashboard's
"trained" figure moves; advice-only, before-month-18 and other institutions' people never show.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import openpyxl
import pytest
from sqlalchemy import select

from bot.config import get_settings
from bot.reporting.kpi import compute_kpis
from emulator import EmulatedUser
from storage.catalog import set_response
from storage.models import Person
from storage.models.admin import AuditEntry
from storage.models.base import utcnow
from storage.models.catalog import Enrolment, ItemResponse
from storage.models.timeline import Outcome
from tests.admin_helpers import AdminEnv, admin_env, csrf_of
from tests.conftest import RunningBot
from tests.factories import make_person
from tests.institution_helpers import (
    institution_account,
    make_course,
    make_institution,
    months_ago,
    sheets,
    typed_month,
)
from tests.survey_helpers import start_survey, stored_person, tap_first, tap_until_summary

ENLISTED, DISCHARGE = months_ago(20), months_ago(-4)  # month 20 of 24: past month 18
TRAINED_ROW = re.compile(r"<td>Đã học nghề</td>\s*<td class=\"num\">\d+% <small>\((\d+)/(\d+)\)")


async def answer_survey(user: EmulatedUser, name: str, phone: str, consent: str) -> None:
    """The whole survey in the bot: welding as the only trade, first option elsewhere."""
    await start_survey(user, consent)
    await user.ask(name)
    reply = await user.ask(phone)
    assert "Câu 3/14" in reply.text, reply
    await user.click("Quân đội")
    await user.ask(typed_month(ENLISTED))
    reply = await user.ask(typed_month(DISCHARGE))
    assert "Câu 6/14" in reply.text, reply
    reply = await user.ask("tam thanh")
    reply = await tap_first(user, reply)
    assert "Câu 8/14" in reply.text, reply
    reply = await user.ask("han dien")
    reply = await user.click(reply.last.button_texts[0])
    reply = await user.click("Xong")
    reply = await tap_until_summary(user, reply)
    reply = await user.click("✅ Xác nhận")


@dataclass
class World:
    rb: RunningBot
    env: AdminEnv
    soldier: Person
    early_id: int
    advice_id: int
    classmate_id: int
    school_a: int
    school_b: int
    course_a: int
    course_b: int


@pytest.fixture
async def world(running_bot_any_db: RunningBot, tmp_path: Path) -> AsyncIterator[World]:
    rb = running_bot_any_db
    await answer_survey(
        rb.emu.user(3201, first_name="An"), "Hoàng Văn An", "0912 345 678", "Đồng ý tất cả"
    )
    await answer_survey(
        rb.emu.user(3202, first_name="Bảo"), "Lý Văn Bảo", "0987 654 321", "Chỉ nhận tư vấn"
    )
    soldier = await stored_person(rb, 3201)
    advice = await stored_person(rb, 3202)
    assert soldier is not None and soldier.consent_sharing and soldier.survey_completed_at
    assert advice is not None and not advice.consent_sharing
    async with admin_env(tmp_path, db_url=rb.settings.database_url) as env:
        async with env.sessionmaker() as s:
            early = await make_person(
                s,
                full_name="Đinh Văn Sớm",
                trades=("weld",),
                consent_sharing=True,
                enlistment_month=months_ago(10),
                discharge_month=months_ago(-14),
            )
            classmate = await make_person(
                s,
                full_name="Vi Văn Cường",
                phone="+84911222333",
                trades=("drive_b", "weld"),
                consent_sharing=True,
                enlistment_month=ENLISTED,
                discharge_month=DISCHARGE,
            )
            a = await make_institution(s, "Trường Cao đẳng nghề Lạng Sơn", ["weld", "elec_home"])
            b = await make_institution(
                s, "Trung tâm đào tạo lái xe Lạng Sơn", ["drive_b"], kind="lai_xe"
            )
            # starting after the soldier's discharge (month 20 of 24): the bot offers it to him
            course_a = await make_course(
                s, a, "Hàn điện sơ cấp khóa 3", trade_code="weld", starts_in_days=150
            )
            course_b = await make_course(s, b, "Lái xe hạng B khóa 12", trade_code="drive_b")
            await s.commit()
        await env.user("boss", "admin")
        await env.user("prov", "provincial")
        await institution_account(env, "school_a", a)
        await institution_account(env, "school_b", b)
        yield World(
            rb,
            env,
            soldier,
            early.id,
            advice.id,
            classmate.id,
            a.id,
            b.id,
            course_a.id,
            course_b.id,
        )


async def interest_of(env: AdminEnv, person_id: int, course_id: int) -> str | None:
    """What the person said about the course in the bot (stored)."""
    async with env.sessionmaker() as s:
        return await s.scalar(
            select(ItemResponse.response).where(
                ItemResponse.person_id == person_id,
                ItemResponse.item_kind == "course",
                ItemResponse.item_id == course_id,
            )
        )


async def step(
    client: httpx.AsyncClient, inst: int, person: int, status: str, **form: str | int
) -> httpx.Response:
    page = await client.get(f"/institution-lists/{inst}")
    data = {"csrf_token": csrf_of(page.text), "status": status, **form}
    return await client.post(f"/institution-lists/{inst}/people/{person}", data=data)


async def trained(env: AdminEnv, client: httpx.AsyncClient) -> tuple[int, int]:
    """The dashboard's "trained" figure for the soldiers' discharge year: (count, people)."""
    page = (await client.get(f"/?year={DISCHARGE.year}")).text
    match = TRAINED_ROW.search(page)
    assert match, "no trained row on the dashboard"
    async with env.sessionmaker() as s:
        report = await compute_kpis(s, year=DISCHARGE.year, tz=get_settings().tz)
    assert (report.trained, report.total) == (int(match[1]), int(match[2]))
    return report.trained, report.total


async def test_list_export_interest_enrolment_and_the_kpi(world: World) -> None:
    env, w = world.env, world
    school = await env.login("school_a")
    resp = await school.get("/institution-lists")
    assert (
        resp.status_code == 303 and resp.headers["location"] == f"/institution-lists/{w.school_a}"
    )
    page = (await school.get(f"/institution-lists/{w.school_a}")).text
    assert "Hoàng Văn An" in page and "Vi Văn Cường" in page
    assert "Lý Văn Bảo" not in page  # advice only
    assert "Đinh Văn Sớm" not in page  # month 10 of service
    assert '<b id="list-count">2</b>' in page
    assert "Hàn (1)" in page and "Hàn (2)" in page
    assert 'href="/institution-lists"' in page  # the nav link

    # the XLSX: Vietnamese titles, phones as text with their 0, the wishes in words
    csrf = csrf_of(page)
    resp = await school.post(f"/institution-lists/{w.school_a}/export", data={"csrf_token": csrf})
    assert resp.status_code == 200
    assert "danh-sach-truong-cao-dang-nghe-lang-son-" in resp.headers["content-disposition"]
    book = sheets(resp.content)
    header, *rows = book["Danh sách"]
    assert header[:4] == [
        "Họ và tên",
        "Số điện thoại",
        "Nghề đã chọn (thứ tự nguyện vọng)",
        "Trình độ muốn học",
    ]
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert set(by_name) == {"Hoàng Văn An", "Vi Văn Cường"}
    an = by_name["Hoàng Văn An"]
    assert an["Số điện thoại"] == "0912 345 678"
    assert an["Tháng xuất ngũ"] == typed_month(DISCHARGE)
    assert "Tam Thanh" in str(an["Xã/phường"])
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content))["Danh sách"]
    phones = [sheet.cell(row=r, column=2) for r in (2, 3)]
    assert all(c.data_type == "s" and c.number_format == "@" for c in phones)
    assert sorted(c.value for c in phones) == ["0911 222 333", "0912 345 678"]
    assert an["Trình độ muốn học"] == "Sơ cấp, dưới 1 năm"
    assert an["Nơi muốn học"] == "Gần nhà, đi về trong ngày"
    assert an["Trạng thái"] == "Chưa liên hệ"
    assert by_name["Vi Văn Cường"]["Nghề đã chọn (thứ tự nguyện vọng)"] == "Hàn (2)"
    assert book["Đăng ký quan tâm"][1:] == []  # nobody interested yet

    # the soldier is matched in the bot (/courses) and taps "Đăng ký quan tâm" on the intake
    user = w.rb.emu.user(3201)
    reply = await user.ask("/courses")
    assert reply[0].text.startswith("Các khóa học hợp với bạn nhất"), reply.text
    card = next(m for m in reply.visible[1:] if "Hàn điện sơ cấp khóa 3" in (m.text or ""))
    assert "đúng nghề hàn · khai giảng" in (card.text or "").lower()
    assert "Lái xe hạng B" not in reply.text  # B's intake: not a trade he chose
    reply = await user.click("✅ Đăng ký quan tâm", message_id=card.message_id)
    assert await interest_of(env, w.soldier.id, w.course_a) == "interested"
    page = (await school.get(f"/institution-lists/{w.school_a}")).text
    intake = page.split(f'id="intake-{w.course_a}"', 1)[1].split("</section>", 1)[0]
    assert "Hàn điện sơ cấp khóa 3" in intake and "Hoàng Văn An" in intake
    assert "Vi Văn Cường" not in intake
    resp = await school.post(f"/institution-lists/{w.school_a}/export", data={"csrf_token": csrf})
    interest = sheets(resp.content)["Đăng ký quan tâm"]
    assert interest[0][:3] == ["Khóa học", "Họ và tên", "Số điện thoại"]
    assert [r[:3] for r in interest[1:]] == [
        ["Hàn điện sơ cấp khóa 3", "Hoàng Văn An", "0912 345 678"]
    ]

    # contacted, then enrolled in the intake: counted as trained by the one KPI
    boss = await env.login("boss")
    assert await trained(env, boss) == (0, 3)
    resp = await step(school, w.school_a, w.soldier.id, "contacted", note="Đã gọi, hẹn tuần sau")
    assert resp.status_code == 303
    assert await trained(env, boss) == (0, 3)
    today = date.today().isoformat()
    resp = await step(school, w.school_a, w.soldier.id, "enrolled", course_id=w.course_a, day=today)
    assert resp.status_code == 303
    assert await trained(env, boss) == (1, 3)
    async with env.sessionmaker() as s:
        row = await s.scalar(select(Enrolment).where(Enrolment.person_id == w.soldier.id))
        assert row is not None
        assert (row.status, row.course_id, row.institution_id) == (
            "enrolled",
            w.course_a,
            w.school_a,
        )
        assert row.note == "Đã gọi, hẹn tuần sau" and row.updated_by == "user:school_a"
        outcome = await s.scalar(select(Outcome).where(Outcome.person_id == w.soldier.id))
        assert outcome is not None
        assert (outcome.status, outcome.trade_code, outcome.source, outcome.recorded_by) == (
            "in_training",
            "weld",
            "institution",
            "user:school_a",
        )
        actions = (
            await s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "user:school_a"))
        ).all()
    assert actions.count("enrolment.status") == 2 and "person.outcome_recorded" in actions
    assert actions.count("export.xlsx") == 2

    # the classmate goes straight to enrolled (no course: his best trade here), then finishes
    assert (await step(school, w.school_a, w.classmate_id, "enrolled")).status_code == 303
    assert (await step(school, w.school_a, w.classmate_id, "finished")).status_code == 303
    assert await trained(env, boss) == (2, 3)
    async with env.sessionmaker() as s:
        rows = (
            await s.execute(
                select(Outcome.status, Outcome.trade_code)
                .where(Outcome.person_id == w.classmate_id)
                .order_by(Outcome.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [("in_training", "weld"), ("finished_training", "weld")]
    page = (await school.get(f"/institution-lists/{w.school_a}")).text
    assert "Đã nhập học" in page and "Đã học xong" in page

    # the province sees how far each institution got
    prov = await env.login("prov")
    overview = (await prov.get("/institution-lists")).text
    row_a = overview.split(f'id="institution-{w.school_a}"', 1)[1].split("</tr>", 1)[0]
    steps = dict(re.findall(r'data-step="(\w+)">(\d+)<', row_a))
    assert steps == {
        "listed": "0",
        "contacted": "0",
        "enrolled": "1",
        "finished": "1",
        "dropped": "0",
    }
    assert "Hàn điện sơ cấp khóa 3: <b>1</b>" in row_a
    row_b = overview.split(f'id="institution-{w.school_b}"', 1)[1].split("</tr>", 1)[0]
    assert dict(re.findall(r'data-step="(\w+)">(\d+)<', row_b))["listed"] == "1"  # the classmate
    assert "Hoàng Văn An" in (await prov.get(f"/institution-lists/{w.school_a}")).text
    refused = await step(prov, w.school_a, w.soldier.id, "finished")
    assert refused.status_code == 403  # the province looks, the institution records

    # an officer reading in English gets the page and the file in English
    await school.get("/lang/en")
    page = (await school.get(f"/institution-lists/{w.school_a}")).text
    assert "Month-18 list" in page and "Enrolled" in page and "Institution lists" in page
    resp = await school.post(f"/institution-lists/{w.school_a}/export", data={"csrf_token": csrf})
    book = sheets(resp.content)
    assert list(book) == ["List", "Registered interest"]
    assert book["List"][0][:3] == ["Full name", "Phone number", "Trades chosen (choice rank)"]
    assert {r[0]: r[7] for r in book["List"][1:]} == {
        "Hoàng Văn An": "Enrolled",
        "Vi Văn Cường": "Finished",
    }


async def test_wrong_steps_and_other_peoples_lists_are_refused(world: World) -> None:
    env, w = world.env, world
    school = await env.login("school_a")
    resp = await step(school, w.school_a, w.soldier.id, "finished")
    assert resp.status_code == 409
    assert "Không thể chuyển sang bước này từ trạng thái hiện tại" in resp.text
    for person in (w.advice_id, w.early_id):
        resp = await step(school, w.school_a, person, "contacted")
        assert resp.status_code == 404, person
        assert "Người này không có trong danh sách của cơ sở" in resp.text
    resp = await step(school, w.school_a, w.soldier.id, "enrolled", course_id=w.course_b)
    assert resp.status_code == 400
    assert "Khóa học này không phải khóa tuyển sinh của cơ sở" in resp.text
    resp = await step(school, w.school_a, w.soldier.id, "contacted", day="2099-01-01")
    assert resp.status_code == 400 and "Ngày không được ở tương lai" in resp.text
    resp = await step(school, w.school_a, w.soldier.id, "graduated")
    assert resp.status_code == 409
    async with env.sessionmaker() as s:
        assert (await s.scalar(select(Enrolment.id))) is None
        assert (await s.scalar(select(Outcome.id))) is None
    assert (await step(school, w.school_a, w.soldier.id, "dropped")).status_code == 303
    assert (await step(school, w.school_a, w.soldier.id, "contacted")).status_code == 409

    # institution B sees nothing of A: not its list, its export, its people or its intakes
    other = await env.login("school_b")
    assert (await other.get(f"/institution-lists/{w.school_a}")).status_code == 404
    page = (await other.get(f"/institution-lists/{w.school_b}")).text
    csrf = csrf_of(page)
    resp = await other.post(f"/institution-lists/{w.school_a}/export", data={"csrf_token": csrf})
    assert resp.status_code == 404
    resp = await other.post(
        f"/institution-lists/{w.school_a}/people/{w.classmate_id}",
        data={"csrf_token": csrf, "status": "contacted"},
    )
    assert resp.status_code == 404
    assert "Hoàng Văn An" not in page and "Hàn điện sơ cấp khóa 3" not in page
    assert "Vi Văn Cường" in page and "Lái xe hạng B khóa 12" in page
    # the soldier's interest in A's intake does not put him on B's list or let B act on him
    async with env.sessionmaker() as s:
        await set_response(s, w.soldier.id, "course", w.course_a, "interested", utcnow())
        await s.commit()
    assert (await step(other, w.school_b, w.soldier.id, "contacted")).status_code == 404
    assert (await other.get("/institution-lists")).headers[
        "location"
    ] == f"/institution-lists/{w.school_b}"
