"""Catalog import and export on SQLite and PostgreSQL: row-level errors in the officer's
language with nothing written, dry runs, upserts by natural key, round trips, publication
dates, and the sample catalog."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.catalog import xlsx
from bot.catalog.edit import export_cells
from bot.catalog.importer import Report, import_file
from bot.catalog.problems import say
from bot.catalog.sample import SAMPLE_PATH, check_sample, load_sample
from bot.catalog.sheets import workbook_spec
from bot.content_loading import ContentError
from storage.db import create_sessionmaker
from storage.models.admin import AuditEntry
from storage.models.catalog import Course, Institution, JobFair, SupportPolicy, Vacancy
from tests.catalog_helpers import (
    CENTRE,
    INSTITUTIONS,
    NOW,
    SCHOOL,
    TODAY,
    TZ,
    WELDING,
    snapshot,
    workbook,
)

FAIR = {
    "title": "Phiên giao dịch việc làm tháng 9",
    "kind": "dinh_ky",
    "starts_at": "10/09/2026 08:00",
    "organiser": "Trung tâm Dịch vụ việc làm tỉnh Lạng Sơn",
    "status": "draft",
}


async def _import(session: AsyncSession, content: bytes, **options: Any) -> Report:
    return await import_file(session, content, tz=TZ, now=NOW, actor="test", **options)


async def _count(engine: AsyncEngine, model: Any) -> int:
    async with create_sessionmaker(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(
    repo_engine: AsyncEngine,
) -> None:
    bad_date = {**WELDING, "title": "Hàn 2", "start_date": "31/02/2027"}
    bad_seats = {**WELDING, "title": "Hàn 3", "quota": 10, "seats_left": 12}
    late = {**WELDING, "title": "Hàn 4", "enrol_deadline": "20/09/2026"}
    unknown = {**WELDING, "title": "Hàn 5", "institution": "Trường không có", "fee_vnd": "abc"}
    content = workbook(
        {"institutions": INSTITUTIONS, "courses": [WELDING, bad_date, bad_seats, late, unknown]}
    )
    async with create_sessionmaker(repo_engine)() as session:
        report = await _import(session, content)
    assert not report.ok
    vi = [say(p, "vi") for p in report.problems]
    en = [say(p, "en") for p in report.problems]
    # data starts on row 3: the courses are rows 3 to 7
    assert "courses: row 4, column start_date: 31/02/2027 is not a date" in en
    assert "courses: dòng 4, cột start_date: 31/02/2027 không phải là ngày" in vi
    assert "courses: row 5, column seats_left: 12 seats left is more than the quota of 10" in en
    assert (
        "courses: row 6, column enrol_deadline: the enrolment deadline 20/09/2026 is after "
        "the start date 14/09/2026" in en
    )
    assert "courses: row 7, column fee_vnd: abc is not an amount in đồng" in en
    assert (
        "courses: row 7, column institution: Trường không có is not in the list "
        "institutions: add it there first" not in en
    ), "a row that fails validation is not checked further"
    assert len(report.problems) == 4
    assert await _count(repo_engine, Institution) == 0
    assert await _count(repo_engine, Course) == 0
    assert await _count(repo_engine, AuditEntry) == 0


async def test_references_policies_and_duplicates_are_checked(repo_engine: AsyncEngine) -> None:
    stranger = {**WELDING, "institution": "Trường không có"}
    policy = {**WELDING, "title": "Hàn 2", "policy_codes": "nd338_d25"}
    again = dict(WELDING)
    content = workbook(
        {"institutions": INSTITUTIONS, "courses": [WELDING, stranger, policy, again]}
    )
    async with create_sessionmaker(repo_engine)() as session:
        report = await _import(session, content)
    en = [say(p, "en") for p in report.problems]
    assert en == [
        "courses: row 6, column institution: the same item is already in row 3",
        "courses: row 4, column institution: Trường không có is not in the list institutions: "
        "add it there first",
        "courses: row 5, column policy_codes: nd338_d25 is not the code of a support policy",
    ]
    assert await _count(repo_engine, Course) == 0


async def test_dry_run_reports_changes_and_writes_nothing(repo_engine: AsyncEngine) -> None:
    content = workbook({"institutions": INSTITUTIONS, "courses": [WELDING]})
    async with create_sessionmaker(repo_engine)() as session:
        report = await _import(session, content, dry_run=True)
    assert report.ok and report.dry_run
    assert report.counts["institutions"]["created"] == 2
    assert report.counts["courses"]["created"] == 1
    assert await _count(repo_engine, Institution) == 0
    assert await _count(repo_engine, Course) == 0
    assert await _count(repo_engine, AuditEntry) == 0


async def test_import_stores_values_and_upserts_by_natural_key(repo_engine: AsyncEngine) -> None:
    sm = create_sessionmaker(repo_engine)
    unknown_fee = {**WELDING, "title": "Điện dân dụng", "institution": CENTRE, "fee_vnd": ""}
    content = workbook({"institutions": INSTITUTIONS, "courses": [WELDING, unknown_fee]})
    async with sm() as session:
        report = await _import(session, content)
    assert report.ok and report.count("created") == 4
    async with sm() as session:
        welding = await session.scalar(select(Course).where(Course.title == "Hàn điện cơ bản"))
        electric = await session.scalar(select(Course).where(Course.title == "Điện dân dụng"))
        centre = await session.scalar(select(Institution).where(Institution.name == CENTRE))
        audits = (await session.scalars(select(AuditEntry))).all()
    assert welding is not None and electric is not None and centre is not None
    assert welding.fee_vnd == 4_500_000
    assert electric.fee_vnd is None, "an empty fee is unknown, never 0"
    assert welding.venue_code == "5977"  # Phường Đông Kinh, by name
    assert centre.place_code == "6187"  # "06187": the code without leading zeros
    assert welding.start_date is not None and welding.start_date.isoformat() == "2026-09-14"
    assert welding.published_at is not None, "an open course is published"
    assert [a.action for a in audits] == ["catalog.import"]

    # the same course (institution + title + start date) updated, not added
    changed = {**WELDING, "seats_left": 3}
    async with sm() as session:
        report = await _import(session, workbook({"courses": [changed]}))
    assert report.ok
    assert report.counts["courses"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert await _count(repo_engine, Course) == 2
    async with sm() as session:
        again = await session.get(Course, welding.id)
    assert again is not None and again.seats_left == 3
    assert again.published_at == welding.published_at, "published once"


async def test_publication_dates_set_the_first_time_only(repo_engine: AsyncEngine) -> None:
    sm = create_sessionmaker(repo_engine)
    draft = {**WELDING, "status": "draft"}
    async with sm() as session:
        await _import(session, workbook({"institutions": INSTITUTIONS, "courses": [draft]}))
        await _import(session, workbook({"job_fairs": [FAIR]}))
    async with sm() as session:
        course = await session.scalar(select(Course))
        fair = await session.scalar(select(JobFair))
    assert course is not None and course.published_at is None
    assert fair is not None and fair.published_at is None
    # 10/09/2026 08:00 in Lạng Sơn is 01:00 UTC
    assert fair.starts_at.astimezone(TZ).strftime("%d/%m/%Y %H:%M") == "10/09/2026 08:00"

    later = NOW + timedelta(days=2)
    async with sm() as session:
        for rows in ({"courses": [WELDING]}, {"job_fairs": [{**FAIR, "status": "published"}]}):
            await import_file(session, workbook(rows), tz=TZ, now=later, actor="t")
    async with sm() as session:
        course = await session.scalar(select(Course))
        fair = await session.scalar(select(JobFair))
    assert course is not None and course.published_at == later
    assert fair is not None and fair.published_at == later

    async with sm() as session:
        closed = {**WELDING, "status": "closed"}
        await import_file(session, workbook({"courses": [closed]}), tz=TZ, now=NOW, actor="t")
        await import_file(session, workbook({"courses": [WELDING]}), tz=TZ, now=NOW, actor="t")
    async with sm() as session:
        course = await session.scalar(select(Course))
    assert course is not None and course.published_at == later, "reopening keeps the first date"


async def test_export_then_import_changes_nothing(repo_engine: AsyncEngine) -> None:
    sm = create_sessionmaker(repo_engine)
    async with sm() as session:
        loaded = await load_sample(session, today=TODAY, now=NOW, tz=TZ, actor="test")
    assert loaded is not None and loaded.ok
    async with sm() as session:
        before = await snapshot(session)
        content = xlsx.write(await export_cells(session, TZ, tuple(workbook_spec().sheets)))
    async with sm() as session:
        report = await _import(session, content)
    assert report.ok, [say(p, "en") for p in report.problems]
    assert report.count("created") == 0 and report.count("updated") == 0
    assert report.count("unchanged") == sum(len(rows) for rows in before.values())
    async with sm() as session:
        assert await snapshot(session) == before


async def test_sample_catalog_is_marked_upcoming_and_loads_once(repo_engine: AsyncEngine) -> None:
    sm = create_sessionmaker(repo_engine)
    async with sm() as session:
        report = await load_sample(session, today=TODAY, now=NOW, tz=TZ, actor="test")
    assert report is not None and report.count("created") >= 30
    async with sm() as session:
        courses = (await session.scalars(select(Course))).all()
        fairs = (await session.scalars(select(JobFair))).all()
        vacancies = (await session.scalars(select(Vacancy))).all()
        policy = await session.scalar(select(SupportPolicy))
        institutions = (await session.scalars(select(Institution))).all()
        assert await load_sample(session, today=TODAY, now=NOW, tz=TZ, actor="t") is None
    assert len(courses) == 10 and len(fairs) == 5
    for item in [*courses, *fairs, *vacancies, *institutions]:
        assert item.sample is True
    assert all(c.title.startswith("[MẪU] ") for c in courses)
    assert all(f.title.startswith("[MẪU] ") for f in fairs)
    assert all(v.position.startswith("[MẪU] ") for v in vacancies)
    assert all(c.status == "open" and c.published_at == NOW for c in courses)
    assert all(c.start_date is not None and c.start_date > TODAY for c in courses)
    assert all(c.enrol_deadline is not None and c.enrol_deadline >= TODAY for c in courses)
    assert all(f.status == "published" and f.starts_at > NOW for f in fairs)
    assert policy is not None and policy.code == "nd338_d25"
    assert "338/2025" in policy.legal_basis and "Điều 25" in policy.legal_basis
    assert policy.levels == ["so_cap", "duoi_3_thang"]
    welding = next(c for c in courses if c.trade_code == "weld")
    assert welding.policy_codes == ["nd338_d25"] and welding.fee_vnd == 4_500_000
    assert SCHOOL in {i.name for i in institutions}


async def test_a_file_that_is_not_a_workbook_is_refused(repo_engine: AsyncEngine) -> None:
    async with create_sessionmaker(repo_engine)() as session:
        report = await _import(session, b"name,kind\nX,cao_dang\n")
    assert [say(p, "vi") for p in report.problems] == [
        "tệp không phải là bảng tính XLSX: hãy lưu thành .xlsx rồi thử lại"
    ]


def test_content_check_names_a_broken_sample_row(tmp_path: Path) -> None:
    check_sample()  # the shipped sample is right
    broken = tmp_path / "sample.yaml"
    text = SAMPLE_PATH.read_text(encoding="utf-8")
    broken.write_text(text.replace("deadline_in_days: 15", "enrol_deadline: 31/02/2027"))
    with pytest.raises(ContentError) as caught:
        check_sample(broken)
    assert str(caught.value).count("31/02/2027 is not a date") == 1
    assert "courses: row 1, column enrol_deadline" in str(caught.value)


async def test_a_workbook_without_the_names_row_starts_on_row_2(repo_engine: AsyncEngine) -> None:
    book = load_workbook(io.BytesIO(workbook({"institutions": INSTITUTIONS})))
    book["institutions"].delete_rows(2)
    out = io.BytesIO()
    book.save(out)
    bad = io.BytesIO()
    book["institutions"]["B3"] = "truong"
    book.save(bad)
    async with create_sessionmaker(repo_engine)() as session:
        wrong = await _import(session, bad.getvalue())
        assert [p.row for p in wrong.problems] == [3]
        report = await _import(session, out.getvalue())
    assert report.ok and report.counts["institutions"]["created"] == 2


async def test_values_too_long_or_too_large_are_row_errors(repo_engine: AsyncEngine) -> None:
    long_title = {**WELDING, "title": "H" * 300}
    huge = {**WELDING, "title": "Hàn 2", "quota": 10**12, "seats_left": "", "fee_vnd": 10**16}
    content = workbook({"institutions": INSTITUTIONS, "courses": [long_title, huge]})
    async with create_sessionmaker(repo_engine)() as session:
        report = await _import(session, content)
    assert sorted(say(p, "en") for p in report.problems) == [
        "courses: row 3, column title: too long: at most 255 characters",
        f"courses: row 4, column fee_vnd: {10**16} is too large",
        f"courses: row 4, column quota: {10**12} is too large",
    ]
    assert await _count(repo_engine, Course) == 0
