"""The preference export as files: CSV (UTF-8 with BOM) and XLSX, written or streamed in batches.

Every cell is text (rows from :mod:`bot.reporting.preferences`). In CSV, typed text that a
spreadsheet would run as a formula gets an apostrophe in front.
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
    session: AsyncSession, flt: ExportFilter, lang: str, batch_size: int
) -> AsyncIterator[tuple[bytes, int]]:
    """(bytes, rows so far): BOM and header first, then one chunk per ``batch_size`` rows."""
    chunks = _CsvChunks()
    chunks.add(PREFERENCE_COLUMNS)
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
    batch_size: int = 1000,
) -> int:
    """Write the export as UTF-8 CSV with BOM; ``progress(rows_so_far)`` after each batch."""
    n = 0
    async for data, n in _csv_chunks(session, flt, lang, batch_size):
        out.write(data)
        if progress is not None and n:
            progress(n)
    return n


def _setup_sheet(workbook: Any) -> Any:
    """Worksheet with bold frozen header row, column widths and text format for id/phone."""
    sheet = workbook.add_worksheet(XLSX_SHEET_NAME)
    text = workbook.add_format({"num_format": "@"})
    for i, name in enumerate(PREFERENCE_COLUMNS):
        width = _COLUMN_WIDTHS.get(name, 30 if name.endswith(("_name", "_raw")) else 16)
        if name.endswith("_code"):
            width = 14
        sheet.set_column(i, i, width, text if name in _TEXT_FORMAT_COLUMNS else None)
    bold = workbook.add_format({"bold": True})
    for i, name in enumerate(PREFERENCE_COLUMNS):
        sheet.write_string(0, i, name, bold)
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
    sheet = _setup_sheet(workbook)
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
    batch_size: int = 1000,
) -> AsyncIterator[bytes]:
    """CSV bytes chunk by chunk, with a session of its own (for a streaming HTTP response)."""
    async with session_factory() as session:
        async for data, _ in _csv_chunks(session, flt, lang, batch_size):
            if data:
                yield data


async def stream_xlsx(
    session_factory: Callable[[], AsyncSession],
    flt: ExportFilter,
    *,
    lang: str = "vi",
    chunk_size: int = 256 * 1024,
) -> AsyncIterator[bytes]:
    """XLSX bytes: the workbook is written to a temporary file first (a zip needs its end), then
    streamed from it in ``chunk_size`` pieces; the file is deleted when streaming ends."""
    fd, name = tempfile.mkstemp(prefix="xuatngu-export-", suffix=".xlsx")
    os.close(fd)
    try:
        async with session_factory() as session:
            await write_xlsx(session, flt, name, lang=lang)
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
