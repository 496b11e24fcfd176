"""Exports officials can use, on SQLite and PostgreSQL: column titles in words by default (codes
on request, web and CLI), the consent-to-sharing column and filter, phones as text with their
leading 0 in XLSX, and nobody who chose "advice only" in a training institution's export."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli.export import export_app
from bot.config import get_settings
from bot.reporting.preferences import PREFERENCE_COLUMNS
from storage.models.admin import AuditEntry
from tests.admin_helpers import AdminEnv, admin_env, post_form
from tests.factories import make_person

KY_LUA, TAM_THANH = "6187", "5986"
CODE_LIKE = re.compile(r"[a-z0-9_]+")


@dataclass
class World:
    """Lan shares with schools; Minh chose "advice only"; both chose welding."""

    env: AdminEnv
    db_url: str


@pytest.fixture
async def world(any_db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with admin_env(tmp_path, db_url=any_db_url) as env:
        async with env.sessionmaker() as s:
            await make_person(
                s,
                full_name="Lan",
                phone="+84912345678",
                commune_code=KY_LUA,
                trades=("weld",),
                consent_sharing=True,
            )
            await make_person(
                s,
                full_name="Minh",
                phone="+84987654321",
                commune_code=KY_LUA,
                trades=("weld", "drive_b"),
                consent_sharing=False,
            )
            await s.commit()
        await env.user("boss", "admin")
        await env.user("school", "institution", trades=["weld"])
        yield World(env, any_db_url)


async def _download(client: httpx.AsyncClient, fmt: str = "csv", **form: Any) -> httpx.Response:
    resp = await post_form(client, "/exports", "/exports/download", {"fmt": fmt, **form})
    assert resp.status_code == 200, resp.text
    return resp


def _table(resp: httpx.Response) -> list[list[str]]:
    """The file's rows (header first), from CSV or XLSX alike."""
    if resp.headers["content-type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    assert sheet is not None
    return [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]


def _records(resp: httpx.Response) -> list[dict[str, str]]:
    header, *rows = _table(resp)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _row_count(html: str) -> int:
    match = re.search(r'<b id="row-count">(\d+)</b>', html)
    assert match, "no row count on the page"
    return int(match.group(1))


async def test_headers_in_vietnamese_words_by_default_and_codes_on_request(world: World) -> None:
    client = await world.env.login("boss")
    for fmt in ("csv", "xlsx"):
        header = _table(await _download(client, fmt))[0]
        assert header[:3] == ["Mã Telegram", "Họ và tên", "Số điện thoại"], fmt
        assert {"Nghề 1", "Mã nghề 1", "Nghề 1 (nguyên văn)", "Tháng xuất ngũ"} <= set(header)
        assert "Đồng ý chia sẻ cho trường nghề" in header
        assert not [h for h in header if CODE_LIKE.fullmatch(h)], header  # no machine codes
        codes = _table(await _download(client, fmt, headers="codes"))[0]
        assert codes == list(PREFERENCE_COLUMNS), fmt
    # the page keeps the choice (?headers=codes) and refuses an unknown one
    page = (await client.get("/exports?headers=codes")).text
    assert '<option value="codes" selected>' in page
    assert (await client.get("/exports?headers=json")).status_code == 422
    bad = await post_form(client, "/exports", "/exports/download", {"headers": "json"})
    assert bad.status_code == 422
    # an officer reading the pages in English gets English titles
    await client.get("/lang/en")
    header = _table(await _download(client))[0]
    assert header[:3] == ["Telegram ID", "Full name", "Phone number"]
    assert "Agreed to share with schools" in header


async def test_sharing_column_and_sharing_only_filter(world: World) -> None:
    client = await world.env.login("boss")
    rows = _records(await _download(client, headers="codes"))
    assert {r["full_name"]: r["consent_sharing"] for r in rows} == {"Lan": "Có", "Minh": "Không"}
    assert _row_count((await client.get("/exports")).text) == 2
    page = (await client.get("/exports?sharing_only=true")).text
    assert _row_count(page) == 1
    assert re.search(r'name="sharing_only" value="true" id="sharing-only" checked', page)
    assert '<input type="hidden" name="sharing_only" value="true">' in page  # carried to download
    for fmt in ("csv", "xlsx"):
        shared = _records(await _download(client, fmt, sharing_only="true"))
        assert [r["Họ và tên"] for r in shared] == ["Lan"], fmt
    async with world.env.sessionmaker() as s:
        entry = await s.scalar(
            select(AuditEntry).where(AuditEntry.action == "export.xlsx").order_by(AuditEntry.id)
        )
    assert entry is not None and entry.detail["consent_sharing_only"] is True


async def test_advice_only_never_reaches_an_institution_export(world: World) -> None:
    client = await world.env.login("school")
    asks: list[dict[str, str]] = [
        {},
        {"sharing_only": "false"},
        {"sharing_only": "off"},
        {"trade": "weld"},
        {"trade": "drive_b"},  # Minh's second trade, not one the school teaches
        {"commune": KY_LUA, "completed_only": "true"},
        {"headers": "codes"},
    ]
    for form in asks:
        for fmt in ("csv", "xlsx"):
            rows = _table(await _download(client, fmt, **form))
            names = [r[1] for r in rows[1:]]
            assert "Minh" not in names, (form, fmt)
            assert names == ([] if form.get("trade") == "drive_b" else ["Lan"]), (form, fmt)
    for query in ("", "?sharing_only=false", "?trade=weld&trade=drive_b"):
        page = (await client.get(f"/exports{query}")).text
        assert _row_count(page) == 1, query
        assert "Minh" not in page
    assert re.search(r'id="sharing-only" checked disabled', page)  # shown as always on


async def test_xlsx_phone_cells_are_text_with_the_leading_zero(world: World) -> None:
    client = await world.env.login("boss")
    for headers, title in (("labels", "Số điện thoại"), ("codes", "phone")):
        resp = await _download(client, "xlsx", headers=headers)
        sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
        assert sheet is not None
        header = [c.value for c in sheet[1]]
        col = header.index(title) + 1
        phones = [sheet.cell(row=r, column=col) for r in (2, 3)]
        assert [c.value for c in phones] == ["0912 345 678", "0987 654 321"]
        assert all(c.data_type == "s" and c.number_format == "@" for c in phones)
        cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None]
        assert cells and all(c.data_type == "s" for c in cells)  # no cell turned into a number


def _cli(db_url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    return CliRunner().invoke(export_app, ["preferences", *args])


async def test_cli_headers_and_sharing_only(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*args: str) -> Any:
        return _cli(world.db_url, monkeypatch, *args)

    words, codes = tmp_path / "words.xlsx", tmp_path / "codes.csv"
    result = await asyncio.to_thread(run, "-o", str(words))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(words).active
    assert sheet is not None
    assert [c.value for c in sheet[1]][:2] == ["Mã Telegram", "Họ và tên"]
    assert sheet["C2"].value == "0912 345 678" and sheet["C2"].data_type == "s"

    result = await asyncio.to_thread(run, "-o", str(codes), "--headers", "codes", "--sharing-only")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(codes.read_bytes().decode("utf-8-sig"))))
    assert [(r["full_name"], r["consent_sharing"]) for r in rows] == [("Lan", "Có")]

    result = await asyncio.to_thread(run, "-o", str(tmp_path / "x.csv"), "--headers", "json")
    assert result.exit_code == 2
    assert "--headers labels" in result.output and "--headers codes" in result.output
    get_settings.cache_clear()
