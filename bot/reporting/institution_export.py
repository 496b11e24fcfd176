"""An institution's list and intakes as an XLSX workbook (column titles in words, every cell
text so a phone keeps its leading 0, as in :mod:`bot.reporting.exports`).

Sheet one is the month-18 list; then one sheet for the people interested in the intakes, with
the course in the first column.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date

import xlsxwriter

from bot.i18n import N_, translator
from bot.reporting.institution_lists import Intake, ListRow, status_label
from bot.textnorm import fold

LIST_SHEET = N_("Danh sách")
INTAKE_SHEET = N_("Đăng ký quan tâm")
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("full_name", N_("Họ và tên"), 26),
    ("phone", N_("Số điện thoại"), 15),
    ("trades", N_("Nghề đã chọn (thứ tự nguyện vọng)"), 30),
    ("level", N_("Trình độ muốn học"), 20),
    ("place", N_("Nơi muốn học"), 24),
    ("discharge_month", N_("Tháng xuất ngũ"), 12),
    ("commune", N_("Xã/phường"), 22),
    ("status", N_("Trạng thái"), 16),
    ("status_date", N_("Ngày cập nhật"), 12),
    ("note", N_("Ghi chú"), 30),
)
COURSE_TITLE = N_("Khóa học")
_UNSAFE_NAME = re.compile(r"[^a-z0-9]+")


def _cells(row: ListRow, lang: str) -> list[str]:
    day = row.status_date
    return [
        row.full_name,
        row.phone,
        row.trade_text(lang),
        row.level,
        row.place,
        row.discharge_month,
        row.commune,
        status_label(row.status, lang),
        f"{day.day:02d}/{day.month:02d}/{day.year}" if day else "",
        row.note,
    ]


def _sheet(
    workbook: xlsxwriter.Workbook,
    name: str,
    header: list[str],
    widths: list[int],
    rows: Sequence[list[str]],
) -> None:
    sheet = workbook.add_worksheet(name)
    text = workbook.add_format({"num_format": "@"})
    bold = workbook.add_format({"bold": True})
    for col, (title, width) in enumerate(zip(header, widths, strict=True)):
        sheet.set_column(col, col, max(width, min(len(title) + 2, 34)), text)
        sheet.write_string(0, col, title, bold)
    for r, cells in enumerate(rows, start=1):
        for col, value in enumerate(cells):
            if value:
                sheet.write_string(r, col, value)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(rows), len(header) - 1)


def list_workbook(people: Sequence[ListRow], intakes: Sequence[Intake], lang: str = "vi") -> bytes:
    """The workbook's bytes: the list, then the people interested in each intake."""
    _ = translator(lang)
    header = [_(title) for _key, title, _w in COLUMNS]
    widths = [w for _key, _title, w in COLUMNS]
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    _sheet(workbook, _(LIST_SHEET), header, widths, [_cells(p, lang) for p in people])
    interest = [[i.course.title, *_cells(p, lang)] for i in intakes for p in i.people]
    _sheet(workbook, _(INTAKE_SHEET), [_(COURSE_TITLE), *header], [30, *widths], interest)
    workbook.close()
    return out.getvalue()


def list_filename(institution_name: str, today: date) -> str:
    """A download name such as ``danh-sach-cao-dang-nghe-lang-son-2026-12-07.xlsx``."""
    slug = _UNSAFE_NAME.sub("-", fold(institution_name)).strip("-")[:48] or "truong"
    return f"danh-sach-{slug}-{today.isoformat()}.xlsx"
