"""The admin catalog pages: who sees and edits what, edit forms (errors, audit, publication),
and the XLSX import through the web form (check first, then apply)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.catalog.sample import load_sample
from storage.models.admin import AdminUser, AuditEntry
from storage.models.catalog import Course, Institution, JobFair
from tests.admin_helpers import AdminEnv, admin_env, csrf_of, post_form
from tests.catalog_helpers import (
    CENTRE,
    INSTITUTIONS,
    NOW,
    SCHOOL,
    TODAY,
    TZ,
    WELDING,
    cells_of,
    form_values,
    link,
    workbook,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path) as e:
        async with e.sessionmaker() as session:
            await load_sample(session, today=TODAY, now=NOW, tz=TZ, actor="test")
        await e.user("boss", "admin")
        await e.user("school", "institution", trades=["weld"])
        await e.user("centre", "institution", trades=["cooking"])
        await e.user("nolink", "institution", trades=["weld"])
        await e.user("jobs", "employment")
        await e.user("province", "provincial")
        await link(e.sessionmaker, "school", SCHOOL)
        await link(e.sessionmaker, "centre", CENTRE)
        yield e


async def _course(env: AdminEnv, institution: str) -> Course:
    async with env.sessionmaker() as s:
        found = await s.scalar(
            select(Course)
            .join(Institution, Institution.id == Course.institution_id)
            .where(Institution.name == institution)
            .order_by(Course.id)
        )
    assert found is not None
    return found


async def _save(client: httpx.AsyncClient, page: str, **changes: str) -> httpx.Response:
    """Submit the edit form at ``page`` as shown, with ``changes``."""
    shown = (await client.get(page)).text
    data = {**form_values(shown), **changes, "csrf_token": csrf_of(shown)}
    return await client.post(page, data=data)


async def test_an_institution_sees_and_edits_only_its_own_courses(env: AdminEnv) -> None:
    own, other = await _course(env, SCHOOL), await _course(env, CENTRE)
    school = await env.login("school")

    page = await school.get("/catalog/courses")
    assert page.status_code == 200
    assert own.title in page.text and other.title not in page.text
    assert 'class="badge sample"' in page.text
    assert "Sơ cấp (3 tháng đến dưới 1 năm)" in page.text and "Đang mở" in page.text
    for path in ("/catalog/job_fairs", "/catalog/institutions", f"/catalog/courses/{other.id}"):
        assert (await school.get(path)).status_code == 404, path
    export = await school.get("/catalog/export.xlsx")
    assert {c["title"] for c in cells_of(export.content, "courses")} == {
        c.title for c in await _courses_of(env, SCHOOL)
    }
    assert cells_of(export.content, "job_fairs") == []

    saved = await _save(school, f"/catalog/courses/{own.id}", seats_left="7")
    assert saved.status_code == 303
    refused = await post_form(
        school, f"/catalog/courses/{own.id}", f"/catalog/courses/{other.id}", {"title": "x"}
    )
    assert refused.status_code == 404
    moved = await _save(school, f"/catalog/courses/{own.id}", institution=CENTRE)
    assert moved.status_code == 400
    assert f"bạn chỉ được sửa các khóa học của {SCHOOL}" in moved.text

    async with env.sessionmaker() as s:
        after = await s.get(Course, own.id)
        untouched = await s.get(Course, other.id)
        audits = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action.like("catalog%")))
        ).all()
    assert (
        after is not None and after.seats_left == 7 and after.institution_id == own.institution_id
    )
    assert untouched is not None and untouched.title == other.title
    assert [(a.actor, a.action, a.detail) for a in audits if a.actor != "test"] == [
        (
            "user:school",
            "catalog.updated",
            {"list": "courses", "id": own.id, "name": own.title, "columns": ["seats_left"]},
        )
    ]


async def _courses_of(env: AdminEnv, institution: str) -> list[Course]:
    async with env.sessionmaker() as s:
        rows = await s.scalars(
            select(Course)
            .join(Institution, Institution.id == Course.institution_id)
            .where(Institution.name == institution)
        )
        return list(rows.all())


async def test_an_unlinked_institution_account_is_told_to_ask(env: AdminEnv) -> None:
    client = await env.login("nolink")
    page = await client.get("/catalog/courses")
    assert page.status_code == 403
    assert "chưa được gắn với cơ sở đào tạo" in page.text


async def test_employment_edits_fairs_not_courses_and_provincial_reads(env: AdminEnv) -> None:
    course = await _course(env, SCHOOL)
    async with env.sessionmaker() as s:
        fair = await s.scalar(select(JobFair).order_by(JobFair.id))
        assert fair is not None
        fair.status, fair.published_at = "draft", None
        await s.commit()
    jobs = await env.login("jobs")
    assert (
        await _save(jobs, f"/catalog/job_fairs/{fair.id}", status="published")
    ).status_code == 303
    assert (await _save(jobs, f"/catalog/courses/{course.id}", seats_left="1")).status_code == 403
    assert (await jobs.get("/catalog/courses/new")).status_code == 403
    for sheet in ("institutions", "support_policies"):
        assert (await jobs.get(f"/catalog/{sheet}/new")).status_code == 403
        assert (await _save(jobs, f"/catalog/{sheet}/1", name="x", code="x")).status_code == 403
    async with env.sessionmaker() as s:
        published = await s.get(JobFair, fair.id)
        same = await s.get(Course, course.id)
    assert published is not None and published.status == "published"
    assert published.published_at is not None, "draft → published sets published_at"
    assert same is not None and same.seats_left == course.seats_left

    province = await env.login("province")
    view = await province.get(f"/catalog/courses/{course.id}")
    assert view.status_code == 200 and " disabled" in view.text
    assert (
        await _save(province, f"/catalog/courses/{course.id}", seats_left="1")
    ).status_code == 403


async def test_bad_input_is_a_clear_400_and_missing_csrf_a_403(env: AdminEnv) -> None:
    course = await _course(env, SCHOOL)
    boss = await env.login("boss")
    page = f"/catalog/courses/{course.id}"
    bad = await _save(boss, page, start_date="31/02/2027", fee_vnd="nhiều")
    assert bad.status_code == 400
    assert "31/02/2027 không phải là ngày" in bad.text
    assert "nhiều không phải là số tiền (đồng)" in bad.text
    too_long = await _save(boss, page, title="H" * 300)
    assert too_long.status_code == 400 and "quá dài: tối đa 255 ký tự" in too_long.text
    too_big = await _save(boss, page, quota="99999999999")
    assert too_big.status_code == 400 and "99999999999 quá lớn" in too_big.text
    no_csrf = await boss.post(page, data={"title": "x"})
    assert no_csrf.status_code == 403
    assert (await boss.get("/catalog/nothing")).status_code == 404
    assert (await boss.get("/catalog/courses/99999")).status_code == 404
    async with env.sessionmaker() as s:
        same = await s.get(Course, course.id)
    assert same is not None and same.start_date == course.start_date


async def _upload(client: httpx.AsyncClient, content: bytes) -> httpx.Response:
    shown = await client.get("/catalog/import")
    data = {"csrf_token": csrf_of(shown.text), "step": "check"}
    files = {"file": ("catalog.xlsx", content, XLSX)}
    return await client.post("/catalog/import", data=data, files=files)


async def test_web_import_checks_first_then_applies(tmp_path: Path, any_db_url: str) -> None:
    async with admin_env(tmp_path, db_url=any_db_url) as e:
        await e.user("boss", "admin")
        boss = await e.login("boss")
        bad = {**WELDING, "title": "Hàn 2", "start_date": "31/02/2027"}
        wrong = await _upload(boss, workbook({"institutions": INSTITUTIONS, "courses": [bad]}))
        assert wrong.status_code == 400
        assert "courses: dòng 3, cột start_date: 31/02/2027 không phải là ngày" in wrong.text
        assert "Nhập tệp này" not in wrong.text

        content = workbook({"institutions": INSTITUTIONS, "courses": [WELDING]})
        checked = await _upload(boss, content)
        assert checked.status_code == 200
        assert "Đã kiểm tra: không có lỗi" in checked.text
        async with e.sessionmaker() as s:
            assert (await s.scalars(select(Institution))).all() == []
        applied = await boss.post(
            "/catalog/import",
            data={
                "csrf_token": csrf_of(checked.text),
                "step": "apply",
                "name": "catalog.xlsx",
                "content": _hidden(checked.text, "content"),
            },
        )
        assert applied.status_code == 200 and "Đã nhập xong." in applied.text
        async with e.sessionmaker() as s:
            names = {i.name for i in (await s.scalars(select(Institution))).all()}
            audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "catalog.import"))
        assert names == {SCHOOL, CENTRE}
        assert audit is not None and audit.actor == "user:boss"


def _hidden(page: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


async def test_an_institution_imports_only_its_own_courses(env: AdminEnv) -> None:
    school = await env.login("school")
    theirs = {**WELDING, "institution": CENTRE, "title": "Nấu ăn"}
    refused = await _upload(school, workbook({"courses": [WELDING, theirs]}))
    assert refused.status_code == 400
    assert f"courses: dòng 4, cột institution: bạn chỉ được sửa các khóa học của {SCHOOL}" in (
        refused.text
    )
    others = await _upload(school, workbook({"job_fairs": [{"title": "x"}]}))
    assert "tài khoản của bạn không được sửa danh sách này" in others.text
    ok = await _upload(school, workbook({"courses": [WELDING]}))
    assert ok.status_code == 200 and "Nhập tệp này" in ok.text


async def test_admin_links_an_institution_account(env: AdminEnv) -> None:
    boss = await env.login("boss")
    async with env.sessionmaker() as s:
        school_id = await s.scalar(select(Institution.id).where(Institution.name == SCHOOL))
    made = await post_form(
        boss,
        "/accounts",
        "/accounts",
        {
            "username": "cdls",
            "role": "institution",
            "password": "a long enough password",
            "trade": "weld",
            "institution": str(school_id),
        },
    )
    assert made.status_code == 303
    async with env.sessionmaker() as s:
        user = await s.scalar(select(AdminUser).where(AdminUser.username == "cdls"))
    assert user is not None and user.institution_id == school_id
    page = await (await env.login("cdls", "a long enough password")).get("/catalog/courses")
    assert page.status_code == 200 and "[MẪU] Hàn điện cơ bản" in page.text
