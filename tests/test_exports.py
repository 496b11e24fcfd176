"""The preference export: CSV/XLSX content, filters, streaming, counts and the CLI command."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from bot.cli.export import export_app
from bot.config import get_settings
from bot.reporting import labels
from bot.reporting.exports import stream_csv, stream_xlsx, write_csv, write_xlsx
from bot.reporting.preferences import (
    PREFERENCE_COLUMNS,
    CommuneCount,
    ExportFilter,
    TradeCount,
    count_preference_rows,
    iter_preference_rows,
    list_by_commune,
    list_by_trade,
)
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade, upgrade_async
from tests.factories import add_response, make_person

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
KY_LUA = "6187"  # Phường Kỳ Lừa, Lạng Sơn
TAM_THANH = "5986"  # Phường Tam Thanh

FAKE_TRADES = {
    "han_dien": {"vi": "Hàn điện", "en": "Welding"},
    "sua_o_to": {"vi": "Sửa chữa ô tô", "en": "Car repair"},
    "may": {"vi": "May công nghiệp", "en": "Garment sewing"},
}
FAKE_OPTIONS = {
    "branch": {"army": {"vi": "Quân đội", "en": "Army"}},
    "education": {"high_school": {"vi": "Tốt nghiệp THPT", "en": "High school"}},
    "training_level": {"elementary": {"vi": "Sơ cấp (dưới 3 tháng)", "en": "Elementary"}},
    "training_place": {"in_province": {"vi": "Trong tỉnh", "en": "In the province"}},
    "job_referral": {"yes": {"vi": "Có", "en": "Yes"}, "no": {"vi": "Không", "en": "No"}},
    "work_preference": {"local": {"vi": "Làm gần nhà", "en": "Near home"}},
    "loan_interest": {"yes": {"vi": "Có", "en": "Yes"}, "no": {"vi": "Không", "en": "No"}},
    "wants_call": {"yes": {"vi": "Có", "en": "Yes"}, "no": {"vi": "Không", "en": "No"}},
}
FULL_ANSWERS = {
    "education": "high_school",
    "training_level": "elementary",
    "training_place": "in_province",
    "job_referral": "no",
    "work_preference": "local",
    "loan_interest": "yes",
    "wants_call": "yes",
}


@pytest.fixture(autouse=True)
def fake_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Known labels, independent of the content files being edited elsewhere."""
    monkeypatch.setattr(labels, "_trade_names", lambda: FAKE_TRADES)
    monkeypatch.setattr(labels, "_options", lambda: FAKE_OPTIONS)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite database per module, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, template_db: Path) -> str:
    path = tmp_path / "export.sqlite3"
    shutil.copy(template_db, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def _rows(session: AsyncSession, flt: ExportFilter, **kw: Any) -> list[dict[str, str]]:
    return [
        dict(zip(PREFERENCE_COLUMNS, r, strict=True))
        async for r in iter_preference_rows(session, flt, **kw)
    ]


def _read_csv(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


async def test_csv_has_bom_header_vietnamese_labels_and_formats(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        await make_person(
            s,
            telegram_user_id=123456789012,
            trades=["han_dien", "unknown_trade"],
            trade_raw=["thợ hàn", "nghề lạ"],
            completed_at=datetime(2026, 1, 14, 18, 30, tzinfo=UTC),  # 15/01 01:30 in Hà Nội
            answers={**FULL_ANSWERS, "job_referral": "maybe_later"},
        )
        await s.commit()
        out = io.BytesIO()
        written = await write_csv(s, ExportFilter(tz=TZ), out, headers="codes")
    data = out.getvalue()
    assert written == 1
    assert data.startswith(b"\xef\xbb\xbf")
    header, rows = _read_csv(data)
    assert header == list(PREFERENCE_COLUMNS)
    row = rows[0]
    assert row["telegram_user_id"] == "123456789012"
    assert row["full_name"] == "Nguyễn Văn Ánh"
    assert row["phone"] == "0912 345 678"  # as officials write it
    assert row["branch"] == "Quân đội"
    assert (row["enlistment_month"], row["discharge_month"]) == ("02/2024", "02/2026")
    assert (row["home_commune_code"], row["home_commune_name"]) == (KY_LUA, "Phường Kỳ Lừa")
    assert row["education"] == "Tốt nghiệp THPT"
    assert row["training_level"] == "Sơ cấp (dưới 3 tháng)"
    assert row["training_place"] == "Trong tỉnh"
    assert row["job_referral"] == "maybe_later"  # unknown value: shown as stored
    assert (row["loan_interest"], row["wants_call"]) == ("Có", "Có")
    assert (row["trade_1_code"], row["trade_1_name"], row["trade_1_raw"]) == (
        "han_dien",
        "Hàn điện",
        "thợ hàn",
    )
    assert (row["trade_2_name"], row["trade_2_raw"]) == ("unknown_trade", "nghề lạ")
    assert (row["trade_3_code"], row["trade_3_name"], row["trade_3_raw"]) == ("", "", "")
    assert row["consent_sharing"] == "Không"
    assert row["survey_completed_at"] == "15/01/2026"


async def test_english_labels_and_latest_response_answers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        person = await make_person(s, answers={"wants_call": "no", "loan_interest": "no"})
        await add_response(s, person, {"wants_call": "yes"})
        await s.commit()
        [row] = await _rows(s, ExportFilter(tz=TZ), lang="en")
    assert row["wants_call"] == "Yes"
    assert row["loan_interest"] == ""  # only the latest response counts
    assert row["trade_1_name"] == "Welding"


async def test_erased_unconsented_and_incomplete_people_are_left_out(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        await make_person(s, full_name="Còn lại")
        await make_person(s, full_name="Đã xoá", erased=True)
        await make_person(s, full_name="Chưa đồng ý", consent=False)
        await make_person(s, full_name="Chưa xong", completed=False)
        await s.commit()
        names = [r["full_name"] for r in await _rows(s, ExportFilter(tz=TZ))]
        everyone = [
            r["full_name"] for r in await _rows(s, ExportFilter(tz=TZ, completed_only=False))
        ]
        assert await count_preference_rows(s, ExportFilter(tz=TZ)) == 1
    assert names == ["Còn lại"]
    assert everyone == ["Còn lại", "Chưa xong"]


async def test_commune_trade_and_sharing_filters(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        await make_person(s, full_name="A", commune_code=KY_LUA, trades=["han_dien"])
        await make_person(
            s,
            full_name="B",
            commune_code=TAM_THANH,
            trades=["may", "sua_o_to"],
            consent_sharing=True,
        )
        await make_person(s, full_name="C", commune_code=None, trades=[])
        await s.commit()

        async def names(flt: ExportFilter) -> list[str]:
            rows = await _rows(s, flt)
            assert await count_preference_rows(s, flt) == len(rows)
            return [r["full_name"] for r in rows]

        assert await names(ExportFilter(tz=TZ)) == ["A", "B", "C"]
        assert await names(ExportFilter(tz=TZ, commune_codes=[KY_LUA])) == ["A"]
        assert await names(ExportFilter(tz=TZ, commune_codes=[])) == []
        assert await names(ExportFilter(tz=TZ, trade_codes=["sua_o_to"])) == ["B"]  # second choice
        assert await names(ExportFilter(tz=TZ, trade_codes=["han_dien", "may"])) == ["A", "B"]
        assert await names(ExportFilter(tz=TZ, trade_codes=[])) == []
        assert await names(ExportFilter(tz=TZ, consent_sharing_only=True)) == ["B"]


async def test_date_range_uses_local_days_inclusive(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        # 31/01 23:59 local, 01/02 00:30 local, 28/02 16:59 UTC = 23:59 local
        await make_person(
            s, full_name="Jan", completed_at=datetime(2026, 1, 31, 16, 59, tzinfo=UTC)
        )
        await make_person(
            s, full_name="Feb1", completed_at=datetime(2026, 1, 31, 17, 30, tzinfo=UTC)
        )
        await make_person(
            s, full_name="Feb28", completed_at=datetime(2026, 2, 28, 16, 59, tzinfo=UTC)
        )
        await s.commit()
        feb = ExportFilter(tz=TZ, date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
        rows = await _rows(s, feb)
        until_jan = await _rows(s, ExportFilter(tz=TZ, date_to=date(2026, 1, 31)))
    assert [(r["full_name"], r["survey_completed_at"]) for r in rows] == [
        ("Feb1", "01/02/2026"),
        ("Feb28", "28/02/2026"),
    ]
    assert [r["full_name"] for r in until_jan] == ["Jan"]


async def test_batches_use_keyset_pages_and_few_queries(
    sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    async with sessions() as s:
        for i in range(5):
            await make_person(
                s, full_name=f"P{i}", trades=["han_dien", "may"], answers=FULL_ANSWERS
            )
        await make_person(s, full_name="gone", erased=True)
        await s.commit()
    statements: list[str] = []
    engine = sessions.kw["bind"]

    def count(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with sessions() as s:
            rows = await _rows(s, ExportFilter(tz=TZ), batch_size=2)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert [r["full_name"] for r in rows] == [f"P{i}" for i in range(5)]
    assert all(r["trade_2_name"] == "May công nghiệp" and r["wants_call"] == "Có" for r in rows)
    assert len(statements) == 3 * 3  # 3 batches (2+2+1) x (people, choices, answers)
    assert sum("people.id >" in st for st in statements) == 3


async def test_csv_guards_typed_text_against_formulas(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        await make_person(s, full_name='=HYPERLINK("http://x")', trade_raw=["+thợ hàn"])
        await s.commit()
        out = io.BytesIO()
        await write_csv(s, ExportFilter(tz=TZ), out, headers="codes")
    _, [row] = _read_csv(out.getvalue())
    assert row["full_name"] == '\'=HYPERLINK("http://x")'
    assert row["trade_1_raw"] == "'+thợ hàn"
    assert row["phone"] == "0912 345 678"


async def test_xlsx_header_frozen_filter_and_text_cells(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with sessions() as s:
        await make_person(s, telegram_user_id=987654321098, answers=FULL_ANSWERS)
        await make_person(s, full_name="=1+1", phone="0912345678", commune_code=TAM_THANH)
        await s.commit()
        path = tmp_path / "out.xlsx"
        seen: list[int] = []
        written = await write_xlsx(
            s, ExportFilter(tz=TZ), path, progress=seen.append, headers="codes"
        )
    assert written == 2
    assert seen == [2]
    ws = openpyxl.load_workbook(path).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    assert header == list(PREFERENCE_COLUMNS)
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:Z3"
    first = dict(zip(header, ws[2], strict=True))
    assert first["phone"].value == "0912 345 678" and first["phone"].data_type == "s"
    assert first["telegram_user_id"].value == "987654321098"
    assert first["home_commune_name"].value == "Phường Kỳ Lừa"
    assert first["education"].value == "Tốt nghiệp THPT"
    second = dict(zip(header, ws[3], strict=True))
    assert second["phone"].value == "0912345678"  # leading zero kept: text, not a number
    assert second["full_name"].value == "=1+1" and second["full_name"].data_type == "s"
    assert ws.column_dimensions["B"].width > 20


async def test_streams_match_files_and_clean_up(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with sessions() as s:
        for _ in range(3):
            await make_person(s, answers=FULL_ANSWERS)
        await s.commit()
        out = io.BytesIO()
        seen: list[int] = []
        await write_csv(s, ExportFilter(tz=TZ), out, batch_size=2, progress=seen.append)
    assert seen[0] == 2 and seen[-1] == 3
    chunks = [c async for c in stream_csv(sessions, ExportFilter(tz=TZ), batch_size=2)]
    assert len(chunks) == 3  # header, 2 rows, 1 row
    assert b"".join(chunks) == out.getvalue()

    before = set(os.listdir(tempfile.gettempdir()))
    data = b"".join([c async for c in stream_xlsx(sessions, ExportFilter(tz=TZ), chunk_size=1024)])
    after = set(os.listdir(tempfile.gettempdir()))
    assert not {n for n in after - before if n.startswith("xuatngu-export-")}
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None and ws.max_row == 4


async def test_counts_by_commune_and_trade(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s:
        await make_person(s, commune_code=KY_LUA, trades=["han_dien", "may"])
        await make_person(s, commune_code=KY_LUA, trades=["may", "han_dien", "sua_o_to"])
        await make_person(s, commune_code=TAM_THANH, trades=["may"])
        await make_person(s, commune_code=TAM_THANH, trades=["may"], erased=True)
        await s.commit()
        communes = await list_by_commune(s, ExportFilter(tz=TZ))
        trades = await list_by_trade(s, ExportFilter(tz=TZ))
        ky_lua_trades = await list_by_trade(s, ExportFilter(tz=TZ, commune_codes=[KY_LUA]))
    assert communes == [
        CommuneCount(KY_LUA, "Phường Kỳ Lừa", 2),
        CommuneCount(TAM_THANH, "Phường Tam Thanh", 1),
    ]
    assert trades == [
        TradeCount("may", "May công nghiệp", 3, 2),
        TradeCount("han_dien", "Hàn điện", 2, 1),
        TradeCount("sua_o_to", "Sửa chữa ô tô", 1, 0),
    ]
    assert ky_lua_trades[0] == TradeCount("han_dien", "Hàn điện", 2, 1)


# --- CLI ----------------------------------------------------------------------------------


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def _populate(db_url: str) -> None:
    async def go() -> None:
        engine = create_engine(db_url)
        async with create_sessionmaker(engine)() as s:
            await make_person(s, commune_code=KY_LUA, answers=FULL_ANSWERS)
            await make_person(s, commune_code=TAM_THANH, trades=["may"])
            await s.commit()
        await engine.dispose()

    asyncio.run(go())


def test_cli_writes_csv_and_xlsx_with_filters(cli_env: str, tmp_path: Path) -> None:
    _populate(cli_env)
    runner = CliRunner()
    csv_path = tmp_path / "all.csv"
    result = runner.invoke(
        export_app, ["preferences", "--format", "csv", "--output", str(csv_path)]
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote 2 rows to {csv_path}" in result.output
    assert len(_read_csv(csv_path.read_bytes())[1]) == 2

    xlsx_path = tmp_path / "ky_lua.xlsx"
    args = ["preferences", "-o", str(xlsx_path), "--commune", "Kỳ Lừa", "--from", "01/01/2026"]
    result = runner.invoke(export_app, [*args, "--to", "2026-01-31", "--trade", "han_dien"])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 rows" in result.output
    ws = openpyxl.load_workbook(xlsx_path).active
    assert ws is not None and ws.max_row == 2
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--from", "31/02/2026"], "YYYY-MM-DD or DD/MM/YYYY"),
        (["--from", "2026-02-01", "--to", "2026-01-01"], "swap"),
        (["--format", "pdf"], "--format csv or --format xlsx"),
        (["--commune", "Atlantis"], "give its code or name"),
    ],
)
def test_cli_bad_input_exits_2_with_a_hint(
    cli_env: str, tmp_path: Path, args: list[str], hint: str
) -> None:
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(export_app, ["preferences", "-o", str(out), *args])
    assert result.exit_code == 2, result.output
    assert hint in result.output
    assert not out.exists()


def test_cli_unwritable_output_exits_2(cli_env: str, tmp_path: Path) -> None:
    out = tmp_path / "missing-folder" / "x.xlsx"
    result = CliRunner().invoke(export_app, ["preferences", "-o", str(out)])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_cli_unmigrated_database_tells_to_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    for url in (f"sqlite+aiosqlite:///{empty}", f"sqlite+aiosqlite:///{tmp_path}/none.sqlite3"):
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        result = CliRunner().invoke(export_app, ["preferences", "-o", str(tmp_path / "x.csv")])
        assert result.exit_code == 2, result.output
        assert "xuatngu db upgrade" in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "none.sqlite3").exists()
    assert not (tmp_path / "x.csv").exists()
    get_settings.cache_clear()


# --- PostgreSQL ---------------------------------------------------------------------------

PG_URL = os.environ.get("XUATNGU_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _pg_reachable() -> str | None:
    import asyncpg

    try:
        conn = await asyncpg.connect(PG_URL.replace("+asyncpg", ""), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL at {PG_URL} unreachable: {exc}"
    await conn.close()
    return None


@pytest.mark.postgres
async def test_export_on_postgresql(tmp_path: Path) -> None:
    if reason := await _pg_reachable():
        pytest.skip(reason)
    schema = f"test_exports_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = create_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade_async(engine)
        sessions = create_sessionmaker(engine)
        async with sessions() as s:
            await make_person(s, answers=FULL_ANSWERS, trades=["han_dien", "may"])
            await make_person(s, full_name="Đã xoá", erased=True)
            await make_person(s, commune_code=TAM_THANH, trades=["may"], consent_sharing=True)
            await s.commit()
            flt = ExportFilter(
                tz=TZ,
                date_from=date(2026, 1, 15),
                date_to=date(2026, 1, 15),
                trade_codes=["han_dien"],
            )
            rows = await _rows(s, flt)
            assert await count_preference_rows(s, ExportFilter(tz=TZ)) == 2
            assert await list_by_trade(s, ExportFilter(tz=TZ)) == [
                TradeCount("may", "May công nghiệp", 2, 1),
                TradeCount("han_dien", "Hàn điện", 1, 1),
            ]
            path = tmp_path / "pg.xlsx"
            assert await write_xlsx(s, ExportFilter(tz=TZ, consent_sharing_only=True), path) == 1
        assert [(r["full_name"], r["wants_call"], r["trade_2_name"]) for r in rows] == [
            ("Nguyễn Văn Ánh", "Có", "May công nghiệp")
        ]
        ws = openpyxl.load_workbook(path).active
        assert ws is not None and ws["H2"].value == "Phường Tam Thanh"
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.dispose()


async def test_list_by_trade_with_a_trade_filter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The institution view: counts by trade among people who chose one of its trades."""
    from bot.reporting.preferences import ExportFilter, list_by_trade
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade_async
    from tests.factories import make_person

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/t.sqlite3")
    await upgrade_async(engine)
    try:
        async with create_sessionmaker(engine)() as session:
            await make_person(session, trades=("weld", "drive_b"))
            await make_person(session, trades=("drive_b",))
            await make_person(session, trades=("cooking",))
            await session.commit()
            counts = await list_by_trade(
                session, ExportFilter(tz=TZ, trade_codes=["weld", "drive_b"])
            )
        by_code = {c.code: c.people for c in counts}
        assert by_code == {"drive_b": 2, "weld": 1}
    finally:
        await engine.dispose()
