"""``xuatngu catalog``: template, load-sample, export, import (dry run, bad rows, progress)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.config import get_settings
from storage.db import create_engine, create_sessionmaker
from storage.models.admin import AdminUser
from storage.models.catalog import Course, Institution
from tests.admin_helpers import PASSWORD
from tests.catalog_helpers import INSTITUTIONS, SCHOOL, WELDING, cells_of, workbook


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _counts(url: str) -> tuple[int, int]:
    async def go() -> tuple[int, int]:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as s:
                institutions = await s.scalar(select(func.count()).select_from(Institution))
                courses = await s.scalar(select(func.count()).select_from(Course))
                return int(institutions or 0), int(courses or 0)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_template_has_a_sheet_per_list_with_codes_and_vietnamese_names(tmp_path: Path) -> None:
    out = tmp_path / "template.xlsx"
    result = CliRunner().invoke(app, ["catalog", "template", str(out)])
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames == [
        "institutions",
        "support_policies",
        "courses",
        "employers",
        "job_fairs",
        "vacancies",
    ]
    ws = book["courses"]
    header = [c.value for c in ws[1]]
    labels = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert "start_date" in header and "institution" in header
    assert labels["start_date"] == "Ngày khai giảng (dd/mm/yyyy)"
    assert labels["fee_vnd"] == "Học phí (đồng; để trống nếu chưa biết)"
    assert ws.max_row == 2


def test_import_dry_run_then_import_then_export(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    source = tmp_path / "in.xlsx"
    source.write_bytes(workbook({"institutions": INSTITUTIONS, "courses": [WELDING]}))

    dry = runner.invoke(app, ["catalog", "import", str(source), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "courses: 1 created, 0 updated, 0 unchanged" in dry.stdout
    assert "Dry run: nothing was written." in dry.stdout
    assert "institutions: 2/2" in dry.stderr and "courses: 1/1" in dry.stderr
    assert _counts(db_url) == (0, 0)

    real = runner.invoke(app, ["catalog", "import", str(source)])
    assert real.exit_code == 0, real.output
    assert "Imported: 3 new, 0 updated." in real.stdout
    assert _counts(db_url) == (2, 1)

    out = tmp_path / "out.xlsx"
    exported = runner.invoke(app, ["catalog", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    [course] = cells_of(out.read_bytes(), "courses")
    assert course["title"] == "Hàn điện cơ bản" and course["fee_vnd"] == 4_500_000
    assert course["start_date"] == "14/09/2026" and course["venue_code"] == "5977"

    again = runner.invoke(app, ["catalog", "import", str(out)])
    assert again.exit_code == 0, again.output
    assert "courses: 0 created, 0 updated, 1 unchanged" in again.stdout


def test_bad_rows_are_reported_and_nothing_is_imported(db_url: str, tmp_path: Path) -> None:
    bad = {**WELDING, "start_date": "31/02/2027"}
    source = tmp_path / "bad.xlsx"
    source.write_bytes(workbook({"institutions": INSTITUTIONS, "courses": [bad]}))
    runner = CliRunner()
    vi = runner.invoke(app, ["catalog", "import", str(source)])
    assert vi.exit_code == 1
    assert "courses: dòng 3, cột start_date: 31/02/2027 không phải là ngày" in vi.stderr
    assert "1 problem(s): nothing was imported." in vi.stderr
    en = runner.invoke(app, ["catalog", "import", str(source), "--lang", "en"])
    assert "courses: row 3, column start_date: 31/02/2027 is not a date" in en.stderr
    assert _counts(db_url) == (0, 0)

    missing = runner.invoke(app, ["catalog", "import", str(tmp_path / "nope.xlsx")])
    assert missing.exit_code == 2
    assert "Cannot read" in missing.stderr and "Check the path." in missing.stderr


def test_load_sample_once_into_an_empty_catalog(db_url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["catalog", "load-sample"])
    assert first.exit_code == 0, first.output
    assert "Sample catalog loaded" in first.stdout and "[MẪU]" in first.stdout
    institutions, courses = _counts(db_url)
    assert institutions == 6 and courses == 10
    second = runner.invoke(app, ["catalog", "load-sample"])
    assert second.exit_code == 1
    assert "The catalog is not empty" in second.stderr
    assert _counts(db_url) == (6, 10)


def test_create_user_links_an_institution_account(db_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["catalog", "load-sample"]).exit_code == 0
    args = ["admin", "create-user", "cdls", "--role", "institution", "--trade", "weld"]
    unknown = runner.invoke(
        app, [*args, "--institution", "Trường không có", "--password-stdin"], input=PASSWORD
    )
    assert unknown.exit_code == 1
    assert "no institution named 'Trường không có' in the catalog" in unknown.stderr
    made = runner.invoke(app, [*args, "--institution", SCHOOL, "--password-stdin"], input=PASSWORD)
    assert made.exit_code == 0, made.output

    async def linked() -> tuple[int | None, int | None]:
        engine = create_engine(db_url)
        try:
            async with create_sessionmaker(engine)() as s:
                user = await s.scalar(select(AdminUser).where(AdminUser.username == "cdls"))
                school = await s.scalar(select(Institution.id).where(Institution.name == SCHOOL))
                return (user.institution_id if user else None), school
        finally:
            await engine.dispose()

    user_institution, school = asyncio.run(linked())
    assert school is not None and user_institution == school
