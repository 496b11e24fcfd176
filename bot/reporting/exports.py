"""The preference export as files: CSV (UTF-8 with BOM) and XLSX, written or streamed in batches.

One implementation for the admin Exports page and ``xuatngu export``. Every cell is text (rows
from :mod:`bot.reporting.preferences`); in XLSX every cell is written as a string, so a phone
keeps its leading 0. The header row holds column titles in the export's language (``labels``,
the default) or the stable column codes of :data:`PREFERENCE_COLUMNS` (``codes``, for programs).
In CSV, typed text that a spreadsheet would run as a formula gets an apostrophe in front.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date
from typing import IO, Any, BinaryIO

import xlsxwriter
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_, translator
from bot.reporting.preferences import (
    PREFERENCE_COLUMNS,
    ExportFilter,
    iter_preference_batches,
    iter_preference_rows,
)

CSV_BOM = "\ufeff".encode()
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_SHEET_NAME = "Nguyện vọng"
HEADER_STYLES = ("labels", "codes")

_TITLES: dict[str, str] = {
    "telegram_user_id": N_("Mã Telegram"),
    "full_name": N_("Họ và tên"),
    "phone": N_("Số điện thoại"),
    "branch": N_("Lực lượng"),
    "enlistment_month": N_("Tháng nhập ngũ"),
    "discharge_month": N_("Tháng xuất ngũ"),
    "home_commune_code": N_("Mã xã/phường"),
    "home_commune_name": N_("Xã/phường"),
    "education": N_("Học vấn"),
    "training_level": N_("Trình độ muốn học"),
    "training_place": N_("Nơi muốn học"),
    "job_referral": N_("Muốn được giới thiệu việc làm"),
    "work_preference": N_("Muốn làm việc ở"),
    "loan_interest": N_("Nhu cầu vay vốn"),
    "wants_call": N_("Muốn cán bộ gọi điện"),
    "consent_sharing": N_("Đồng ý chia sẻ cho trường nghề"),
    "survey_completed_at": N_("Ngày hoàn thành khảo sát"),
}
_TRADE_TITLES: dict[str, str] = {
    "code": N_("Mã nghề %(rank)s"),
    "name": N_("Nghề %(rank)s"),
    "raw": N_("Nghề %(rank)s (nguyên văn)"),
}

# Columns holding text a person typed: guarded against spreadsheet formula injection in CSV.
_FREE_TEXT_COLUMNS = tuple(
    PREFERENCE_COLUMNS.index(c) for c in ("full_name", "trade_1_raw", "trade_2_raw", "trade_3_raw")
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_COLUMN_WIDTHS: dict[str, int] = {
    "telegram_user_id": 14,
    "full_name": 26,
    "phone": 15,
    "branch": 14,
    "enlistment_month": 10,
    "discharge_month": 10,
    "home_commune_code": 8,
    "home_commune_name": 24,
    "survey_completed_at": 12,
}
_TEXT_FORMAT_COLUMNS = ("telegram_user_id", "phone", "home_commune_code")


def column_headers(style: str = "labels", lang: str = "vi") -> list[str]:
    """The header row: column titles in ``lang`` (``labels``) or the column codes (``codes``)."""
    if style == "codes":
        return list(PREFERENCE_COLUMNS)
    _ = translator(lang)
    titles = []
    for name in PREFERENCE_COLUMNS:
        if name.startswith("trade_"):
            _trade, rank, part = name.split("_", 2)
            titles.append(_(_TRADE_TITLES[part], rank=rank))
        else:
            titles.append(_(_TITLES[name]))
    return titles


def _csv_safe(row: list[str]) -> list[str]:
    """Prefix typed text that a spreadsheet would run as a formula with an apostrophe."""
    for i in _FREE_TEXT_COLUMNS:
        if row[i].startswith(_FORMULA_START):
            row[i] = "'" + row[i]
    return row


class _CsvChunks:
    """Collects CSV rows in memory and hands them out as UTF-8 bytes."""

    def __init__(self) -> None:
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf)

    def add(self, row: Sequence[str]) -> None:
        self._writer.writerow(row)

    def take(self) -> bytes:
        data = self._buf.getvalue().encode("utf-8")
        self._buf.seek(0)
        self._buf.truncate()
        return data


async def _csv_chunks(
    session: AsyncSession, flt: ExportFilter, lang: str, headers: str, batch_size: int
) -> AsyncIterator[tuple[bytes, int]]:
    """(bytes, rows so far): BOM and header first, then one chunk per ``batch_size`` rows."""
    chunks = _CsvChunks()
    chunks.add(column_headers(headers, lang))
    yield CSV_BOM + chunks.take(), 0
    n = 0
    async for row in iter_preference_rows(session, flt, lang=lang, batch_size=batch_size):
        chunks.add(_csv_safe(row))
        n += 1
        if n % batch_size == 0:
            yield chunks.take(), n
    yield chunks.take(), n


async def write_csv(
    session: AsyncSession,
    flt: ExportFilter,
    out: BinaryIO | IO[bytes],
    *,
    progress: Callable[[int], None] | None = None,
    lang: str = "vi",
    headers: str = "labels",
    batch_size: int = 1000,
) -> int:
    """Write the export as UTF-8 CSV with BOM; ``progress(rows_so_far)`` after each batch."""
    n = 0
    async for data, n in _csv_chunks(session, flt, lang, headers, batch_size):
        out.write(data)
        if progress is not None and n:
            progress(n)
    return n


def _setup_sheet(workbook: Any, header: list[str]) -> Any:
    """Worksheet with bold frozen header row, column widths and text format for id/phone."""
    sheet = workbook.add_worksheet(XLSX_SHEET_NAME)
    text = workbook.add_format({"num_format": "@"})
    for i, (name, title) in enumerate(zip(PREFERENCE_COLUMNS, header, strict=True)):
        width = _COLUMN_WIDTHS.get(name, 30 if name.endswith(("_name", "_raw")) else 16)
        if name.endswith("_code"):
            width = 14
        width = max(width, min(len(title) + 2, 34))  # the title readable, within reason
        sheet.set_column(i, i, width, text if name in _TEXT_FORMAT_COLUMNS else None)
    bold = workbook.add_format({"bold": True})
    for i, title in enumerate(header):
        sheet.write_string(0, i, title, bold)
    sheet.freeze_panes(1, 0)
    return sheet


def _sheet_writer(sheet: Any) -> Callable[[list[list[str]], int], None]:
    """A function writing rows to ``sheet`` starting at a row number (skips empty cells)."""
    write = sheet.write_string

    def write_rows(rows: list[list[str]], first: int) -> None:
        for r, row in enumerate(rows, start=first):
            for col, value in enumerate(row):
                if value:
                    write(r, col, value)

    return write_rows


async def write_xlsx(
    session: AsyncSession,
    flt: ExportFilter,
    out_path_or_file: str | os.PathLike[str] | IO[bytes],
    *,
    progress: Callable[[int], None] | None = None,
    lang: str = "vi",
    headers: str = "labels",
    batch_size: int = 1000,
) -> int:
    """Write the export as XLSX (XlsxWriter constant_memory: rows go to disk as written).

    Each batch is written in a worker thread while the next batch is read, so the event loop
    stays free and the database and the spreadsheet work overlap.
    """
    target = out_path_or_file
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True})
    sheet = _setup_sheet(workbook, column_headers(headers, lang))
    write_rows = _sheet_writer(sheet)
    n = 0
    pending: asyncio.Future[None] | None = None
    try:
        async for rows in iter_preference_batches(session, flt, lang=lang, batch_size=batch_size):
            if pending is not None:
                await pending
                if progress is not None:
                    progress(n)
            pending = asyncio.ensure_future(asyncio.to_thread(write_rows, rows, n + 1))
            n += len(rows)
    finally:
        if pending is not None:
            await pending
    sheet.autofilter(0, 0, n, len(PREFERENCE_COLUMNS) - 1)
    await asyncio.to_thread(workbook.close)
    if progress is not None and n:
        progress(n)
    return n


async def stream_csv(
    session_factory: Callable[[], AsyncSession],
    flt: ExportFilter,
    *,
    lang: str = "vi",
    headers: str = "labels",
    batch_size: int = 1000,
) -> AsyncIterator[bytes]:
    """CSV bytes chunk by chunk, with a session of its own (for a streaming HTTP response)."""
    async with session_factory() as session:
        async for data, _ in _csv_chunks(session, flt, lang, headers, batch_size):
            if data:
                yield data


async def stream_xlsx(
    session_factory: Callable[[], AsyncSession],
    flt: ExportFilter,
    *,
    lang: str = "vi",
    headers: str = "labels",
    chunk_size: int = 256 * 1024,
) -> AsyncIterator[bytes]:
    """XLSX bytes: the workbook is written to a temporary file first (a zip needs its end), then
    streamed from it in ``chunk_size`` pieces; the file is deleted when streaming ends."""
    fd, name = tempfile.mkstemp(prefix="xuatngu-export-", suffix=".xlsx")
    os.close(fd)
    try:
        async with session_factory() as session:
            await write_xlsx(session, flt, name, lang=lang, headers=headers)
        fh = await asyncio.to_thread(open, name, "rb")
        try:
            while data := await asyncio.to_thread(fh.read, chunk_size):
                yield data
        finally:
            fh.close()
    finally:
        await asyncio.to_thread(os.unlink, name)


def export_filename(fmt: str, today: date) -> str:
    """A download name such as ``nguyen-vong-2026-01-31.xlsx`` (``today``: the local date)."""
    return f"nguyen-vong-{today.isoformat()}.{fmt}"
