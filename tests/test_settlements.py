"""Settlements of training support through the admin pages, on SQLite and PostgreSQL: two
institutions redeemed cards (ORM rows, as the redemption flow stores them); school A sees its
half-year and year periods with their due dates, downloads the accountant's XLSX (opened here)
and submits; school A cannot see school B's nor approve; past the deadline the Department's
dashboard flags school B as late; the Department approves and the cards become settled; the
support paid shows per commune and institution in the yearly report; the rules page adds a base
salary that changes the cap of a course starting after it, and refuses a day already settled.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cards.amounts import support_amounts
from bot.cards.rules import current_rules, shipped_rules
from bot.cards.settlement import PeriodKey
from bot.cli.timeline import report_app
from bot.config import get_settings
from bot.reporting.kpi import KpiReport, write_xlsx
from bot.reporting.support_paid import support_paid
from storage.models.admin import AuditEntry
from storage.models.cards import CardRedemption, Settlement, TrainingCard
from tests.admin_helpers import AdminEnv, admin_env, post_form
from tests.institution_helpers import institution_account, make_course, make_institution
from tests.settlement_helpers import redeemed_card, set_today

KY_LUA, TAM_THANH = "6187", "5986"


@dataclass
class World:
    env: AdminEnv
    school_a: int
    school_b: int
    redemptions: dict[str, int]


@pytest.fixture
async def world(any_db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with admin_env(tmp_path, db_url=any_db_url) as env:
        async with env.sessionmaker() as s:
            a = await make_institution(s, "Trường Trung cấp nghề A", ["han_dien"])
            b = await make_institution(s, "Trung tâm GDNN B", ["han_dien"])
            welding = await make_course(s, a, "Hàn điện sơ cấp", trade_code="han_dien")
            made = {
                # 6.000.000 + 60 × 50.000 + 200.000 = 9.200.000
                "an": await redeemed_card(
                    s,
                    a,
                    "QK1-0001",
                    "Nguyễn Văn An",
                    commune=KY_LUA,
                    start=date(2026, 1, 5),
                    course_days=60,
                    tuition=6_000_000,
                    finished_on=date(2026, 3, 31),
                    course=welding,
                ),
                # over the cap: 28.080.000 paid, 920.000 the learner's
                "binh": await redeemed_card(
                    s,
                    a,
                    "QK1-0002",
                    "Trần Văn Bình",
                    commune=TAM_THANH,
                    start=date(2026, 2, 2),
                    course_days=60,
                    tuition=29_000_000,
                    finished_on=date(2026, 5, 29),
                ),
                # dropped after 9 days of a 30-day course: 900.000 + 450.000 + 200.000
                "cuong": await redeemed_card(
                    s,
                    a,
                    "QK1-0003",
                    "Lê Văn Cường",
                    commune=KY_LUA,
                    start=date(2026, 9, 1),
                    course_days=30,
                    tuition=3_000_000,
                    dropped_on=date(2026, 9, 10),
                ),
                "dung": await redeemed_card(
                    s,
                    b,
                    "CA-0004",
                    "Phạm Văn Dũng",
                    commune=TAM_THANH,
                    start=date(2026, 3, 1),
                    course_days=30,
                    tuition=2_000_000,
                    finished_on=date(2026, 4, 10),
                ),
            }
            await s.commit()
            ids = {k: r.id for k, r in made.items()}
            a_id, b_id = a.id, b.id
            await institution_account(env, "school_a", a)
            await institution_account(env, "school_b", b)
        await env.user("dept", "provincial")
        await env.user("boss", "admin")
        yield World(env, a_id, b_id, ids)


def test_periods_and_due_dates() -> None:
    rules = shipped_rules()
    half, year = PeriodKey("half", 2026), PeriodKey("year", 2026)
    assert (half.start, half.end, half.due_on(rules)) == (
        date(2026, 1, 1),
        date(2026, 6, 30),
        date(2026, 7, 30),
    )
    assert (year.start, year.end, year.due_on(rules)) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        date(2027, 1, 31),
    )
    moved = rules.with_overrides(
        [
            (
                "settlement",
                {
                    "from": "2026-06-01",
                    "half_year_due": {"month": 8, "day": 15},
                    "year_due": {"month": 2, "day": 28},
                },
            )
        ]
    )
    assert half.due_on(moved) == date(2026, 8, 15) and year.due_on(moved) == date(2027, 2, 28)
    assert PeriodKey("half", 2025).due_on(moved) == date(2025, 7, 30)


def _sheet_rows(
    content: bytes,
) -> tuple[list[list[object]], openpyxl.worksheet.worksheet.Worksheet]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    ws = book.worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)], ws


async def test_settlement_flow(world: World) -> None:
    env = world.env
    set_today(env, date(2026, 7, 10))
    school_a = await env.login("school_a")

    # the institution's dashboard: the half-year due on 30/7, the year still open
    page = await school_a.get("/settlements", follow_redirects=True)
    assert page.status_code == 200 and "Trường Trung cấp nghề A" in page.text
    html = page.text
    half = html[html.index('id="period-half-2026"') :]
    assert 'data-state="due"' in half[:80] and "30/07/2026" in half
    assert "37.280.000" in half  # 9.200.000 + 28.080.000
    assert "920.000" in half
    year = html[html.index('id="period-year-2026"') :]
    assert 'data-state="open"' in year[:80] and "31/01/2027" in year
    assert "Phạm Văn Dũng" not in html

    # the accountant's file
    xlsx = await post_form(
        school_a,
        f"/settlements/{world.school_a}",
        f"/settlements/{world.school_a}/half/2026/xlsx",
        {},
    )
    assert xlsx.status_code == 200
    assert xlsx.headers["content-disposition"].endswith('-2026-half.xlsx"')
    rows, ws = _sheet_rows(xlsx.content)
    assert (
        rows[0][0]
        == "BẢNG QUYẾT TOÁN KINH PHÍ HỖ TRỢ ĐÀO TẠO NGHỀ CHO THANH NIÊN HOÀN THÀNH NGHĨA VỤ"
    )
    assert rows[1][0] == "Cơ sở đào tạo: Trường Trung cấp nghề A"
    assert "6 tháng đầu năm 2026" in str(rows[2][0]) and "30/07/2026" in str(rows[3][0])
    assert "338/2025" in str(rows[4][0])
    head = next(i for i, r in enumerate(rows) if r[0] == "STT")
    assert rows[head][7:12] == [
        "(a) Học phí",
        "(b) Tiền ăn",
        "(c) Đi lại",
        "Tổng cộng (a)+(b)+(c)",
        "Người học tự trả",
    ]
    an, binh, total = rows[head + 1], rows[head + 2], rows[head + 3]
    assert an[:7] == [
        1,
        "Nguyễn Văn An",
        "QK1-0001",
        "Sư đoàn 3",
        "Hàn điện sơ cấp",
        "05/01/2026 – 31/03/2026",
        60,
    ]
    assert an[7:] == [6_000_000, 3_000_000, 200_000, 9_200_000, 0]
    assert binh[0] == 2 and binh[4] is None and binh[7:] == [28_080_000, 0, 0, 28_080_000, 920_000]
    assert total[0] == "Tổng cộng" and total[7:] == [
        34_080_000,
        3_000_000,
        200_000,
        37_280_000,
        920_000,
    ]
    assert ws.cell(head + 2, 8).number_format == "#,##0"
    assert any("Kế toán trưởng" in [c for c in r if c] for r in rows[head + 4 :])
    signers = [c for r in rows[head + 4 :] for c in r if c]
    assert {"Người lập biểu", "Kế toán trưởng", "Thủ trưởng đơn vị"} <= set(signers)

    # scoping: not another institution's, and an institution cannot approve
    assert (await school_a.get(f"/settlements/{world.school_b}")).status_code == 404
    assert (await school_a.get("/support-rules")).status_code == 403

    submitted = await post_form(
        school_a,
        f"/settlements/{world.school_a}",
        f"/settlements/{world.school_a}/half/2026/submit",
        {},
    )
    assert submitted.status_code == 303
    again = await post_form(
        school_a,
        f"/settlements/{world.school_a}",
        f"/settlements/{world.school_a}/half/2026/submit",
        {},
    )
    assert again.status_code == 409
    async with env.sessionmaker() as s:
        kept = (await s.scalars(select(Settlement))).one()
        assert (kept.status, kept.total_vnd, kept.learner_share_vnd) == (
            "submitted",
            37_280_000,
            920_000,
        )
        an_row = await s.get(CardRedemption, world.redemptions["an"])
        assert an_row is not None and an_row.amounts is not None
        assert an_row.amounts["total"] == 9_200_000 and an_row.settlement_id == kept.id
        settlement_id = kept.id
    refused = await post_form(
        school_a,
        f"/settlements/{world.school_a}",
        f"/settlements/decide/{settlement_id}",
        {"decision": "approve"},
    )
    assert refused.status_code == 403

    # past 30/7: school B never submitted: late, flagged on the Department's dashboard
    set_today(env, date(2026, 8, 5))
    env.app.state.dashboard_cache.clear()
    dept = await env.login("dept")
    dash = await dept.get("/")
    assert '<div class="tile alert" id="settlements-late"><b>1</b>' in dash.text
    school_b = await env.login("school_b")
    assert 'id="settlements-late"' not in (await school_b.get("/")).text
    overview = await dept.get("/settlements")
    assert overview.status_code == 200
    assert f'data-state="late" id="period-{world.school_b}-half-2026"' in overview.text
    assert f'data-state="submitted" id="period-{world.school_a}-half-2026"' in overview.text
    assert (await school_b.get("/settlements", follow_redirects=True)).text.count(
        "Nguyễn Văn An"
    ) == 0

    # the Department approves: the half-year's cards are settled, the drop-out's is not
    ok = await post_form(
        dept,
        f"/settlements/{world.school_a}",
        f"/settlements/decide/{settlement_id}",
        {"decision": "approve"},
    )
    assert ok.status_code == 303
    async with env.sessionmaker() as s:
        statuses = dict((await s.execute(select(TrainingCard.number, TrainingCard.status))).all())
        assert statuses == {
            "QK1-0001": "settled",
            "QK1-0002": "settled",
            "QK1-0003": "redeemed",
            "CA-0004": "redeemed",
        }
        audited = set((await s.scalars(select(AuditEntry.action))).all())
        assert {"settlement.submitted", "settlement.approved", "export.xlsx"} <= audited

        # the yearly report: support paid per commune and per institution
        paid = await support_paid(s, year=2026)
        assert paid.overall.total_vnd == 37_280_000 and paid.overall.courses == 2
        by_commune = {g.name: g.total_vnd for g in paid.by_commune}
        assert by_commune == {"Phường Kỳ Lừa": 9_200_000, "Phường Tam Thanh": 28_080_000}
        assert [(g.name, g.total_vnd) for g in paid.by_institution] == [
            ("Trường Trung cấp nghề A", 37_280_000)
        ]
        only = await support_paid(s, year=2026, commune_codes=[TAM_THANH])
        assert only.overall.total_vnd == 28_080_000
        assert (
            await support_paid(s, year=2026, institution_id=world.school_b)
        ).overall.courses == 0
        assert (await support_paid(s, year=2025)).overall.courses == 0
    dash = await dept.get("/?year=2026")
    section = dash.text[dash.text.index('id="support-paid"') :]
    assert "37.280.000" in section and "Phường Tam Thanh" in section and "28.080.000" in section
    boss = await env.login("boss")
    assert 'id="support-by-institution"' in (await boss.get("/?year=2026")).text
    # scoped: an institution sees only its own support, a commune account its communes
    school_b = await env.login("school_b")
    own = (await school_b.get("/?year=2026")).text
    assert "37.280.000" not in own and 'id="support-paid"' in own
    await env.user("ky_lua", "commune", communes=[KY_LUA])
    commune = (await (await env.login("ky_lua")).get("/?year=2026")).text
    section = commune[commune.index('id="support-paid"') :]
    assert "9.200.000" in section and "Phường Tam Thanh" not in section

    # the year's settlement repeats the half-year's courses with their kept amounts
    school_a = await env.login("school_a")  # the clock moved past the session's life
    year_page = await school_a.get(f"/settlements/{world.school_a}")
    year_part = year_page.text[year_page.text.index('id="period-year-2026"') :]
    assert "38.830.000" in year_part  # + 900.000 + 450.000 + 200.000


async def test_yearly_report_xlsx_has_the_support_sheet(world: World, tmp_path: Path) -> None:
    async with world.env.sessionmaker() as s:
        paid = await support_paid(s, year=2026)
    path = tmp_path / "kpi.xlsx"
    write_xlsx(KpiReport(year=2026), path, support=paid)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["KPI 2026", "Kinh phí hỗ trợ 2026"]
    rows = [list(r) for r in book["Kinh phí hỗ trợ 2026"].iter_rows(values_only=True)]
    assert rows[0][0] == "Theo xã/phường" and rows[1][:3] == ["Toàn tỉnh", 0, 0]


async def test_rules_page_adds_a_base_salary(world: World) -> None:
    env = world.env
    set_today(env, date(2026, 9, 15))
    boss = await env.login("boss")
    page = await boss.get("/support-rules")
    assert page.status_code == 200
    assert "30.360.000" in page.text[page.text.index('id="cap-now"') :][:200]
    assert "Nghị định 338/2025/NĐ-CP" in page.text and "content/training_support.yaml" in page.text
    form = {
        "kind": "base_salary",
        "valid_from": "2026-10-01",
        "amount": "2800000",
        "legal_basis": "Nghị định 999/2026",
    }
    added = await post_form(boss, "/support-rules", "/support-rules", form)
    assert added.status_code == 303
    page = await boss.get("/support-rules")
    history = page.text[page.text.index('id="history-base_salary"') :]
    assert "01/10/2026" in history and "2.800.000" in history and "do boss thêm" in history
    async with env.sessionmaker() as s:
        rules = await current_rules(s)
    before = support_amounts(rules, tuition_vnd=40_000_000, start=date(2026, 9, 30), course_days=30)
    after = support_amounts(rules, tuition_vnd=40_000_000, start=date(2026, 10, 5), course_days=30)
    assert (before.cap, after.cap) == (12 * 2_530_000, 12 * 2_800_000)

    # a bad rule and a repeated day are refused with a reason; the Department cannot add
    bad = await post_form(
        boss,
        "/support-rules",
        "/support-rules",
        {**form, "valid_from": "2026-11-01", "amount": "0"},
    )
    assert bad.status_code == 400 and 'id="rule-error"' in bad.text
    same = await post_form(boss, "/support-rules", "/support-rules", form)
    assert same.status_code == 409
    dept = await env.login("dept")
    assert (await dept.get("/support-rules")).status_code == 200
    assert (await post_form(dept, "/support-rules", "/support-rules", form)).status_code == 403


async def test_rule_on_a_settled_day_is_refused(world: World) -> None:
    env = world.env
    set_today(env, date(2026, 7, 10))
    school_a = await env.login("school_a")
    done = await post_form(
        school_a,
        f"/settlements/{world.school_a}",
        f"/settlements/{world.school_a}/half/2026/submit",
        {},
    )
    assert done.status_code == 303
    boss = await env.login("boss")
    form = {
        "kind": "base_salary",
        "valid_from": "2026-02-01",
        "amount": "2500000",
        "legal_basis": "x",
    }
    refused = await post_form(boss, "/support-rules", "/support-rules", form)
    assert refused.status_code == 409 and 'id="rule-error"' in refused.text
    async with env.sessionmaker() as s:
        assert (await current_rules(s)).base_salary_on(date(2026, 2, 1)).amount == 2_340_000


async def test_returned_then_resubmitted_and_the_report_command(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Department returns a settlement with a note (never without one); the institution
    reads it and submits again; once approved, `xuatngu report kpi` shows the support paid."""
    env = world.env
    set_today(env, date(2026, 7, 10))
    school_a = await env.login("school_a")
    own = f"/settlements/{world.school_a}"
    assert (await post_form(school_a, own, f"{own}/half/2026/submit", {})).status_code == 303
    async with env.sessionmaker() as s:
        settlement_id = (await s.scalars(select(Settlement.id))).one()
    dept = await env.login("dept")
    decide = f"/settlements/decide/{settlement_id}"
    silent = await post_form(dept, own, decide, {"decision": "return"})
    assert silent.status_code == 409 and "Hãy ghi lý do" in silent.text
    note = "Thiếu bản sao quyết định xuất ngũ của học viên Trần Văn Bình"
    back = await post_form(dept, own, decide, {"decision": "return", "note": note})
    assert back.status_code == 303
    page = (await school_a.get(own)).text
    half = page[page.index('id="period-half-2026"') :]
    assert half.startswith('id="period-half-2026" data-state="returned"') and note in half
    async with env.sessionmaker() as s:
        assert set((await s.scalars(select(TrainingCard.status))).all()) == {"redeemed"}
    assert (await post_form(school_a, own, f"{own}/half/2026/submit", {})).status_code == 303
    assert (await post_form(dept, own, decide, {"decision": "approve"})).status_code == 303
    assert (await post_form(dept, own, decide, {"decision": "approve"})).status_code == 409

    monkeypatch.setenv("DATABASE_URL", env.db_url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    get_settings.cache_clear()  # the pages read settings before DATABASE_URL was set
    out = await asyncio.to_thread(CliRunner().invoke, report_app, ["kpi", "--year", "2026"])
    assert out.exit_code == 0, out.output
    assert "đã quyết toán năm 2026: 37.280.000 đ (2 khóa học)" in out.output
    assert "  Phường Tam Thanh: 28.080.000 đ (1)" in out.output
    assert "  Trường Trung cấp nghề A: 37.280.000 đ (2)" in out.output
    assert "Trung tâm GDNN B" not in out.output
