"""A settlement as the workbook an accountant expects (openpyxl): the title block, a numbered
table (STT, name, card, issuer, course, from–to, days, (a), (b), (c), total, learner's share),
the totals row and the signature block. Money cells are numbers shown with Vietnamese thousands
separators (``#.##0`` in a Vietnamese Excel: the format code ``#,##0`` is locale-neutral)."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from bot.cards.settlement import Draft, Line
from bot.i18n import N_, translator
from bot.textnorm import fold

TITLE = N_("BẢNG QUYẾT TOÁN KINH PHÍ HỖ TRỢ ĐÀO TẠO NGHỀ CHO THANH NIÊN HOÀN THÀNH NGHĨA VỤ")
SHEET = N_("Quyết toán")
INSTITUTION = N_("Cơ sở đào tạo: %(name)s")
HALF = N_("Kỳ quyết toán: 6 tháng đầu năm %(year)s (từ %(start)s đến %(end)s)")
YEAR = N_("Kỳ quyết toán: năm %(year)s (từ %(start)s đến %(end)s)")
DUE = N_("Hạn nộp: %(day)s")
BASIS = N_("Căn cứ: %(basis)s")
COLUMNS: tuple[tuple[str, int], ...] = (
    (N_("STT"), 6),
    (N_("Họ và tên"), 24),
    (N_("Số thẻ"), 14),
    (N_("Đơn vị cấp thẻ"), 22),
    (N_("Khóa học"), 28),
    (N_("Từ ngày – đến ngày"), 24),
    (N_("Số ngày học"), 10),
    (N_("(a) Học phí"), 14),
    (N_("(b) Tiền ăn"), 14),
    (N_("(c) Đi lại"), 12),
    (N_("Tổng cộng (a)+(b)+(c)"), 16),
    (N_("Người học tự trả"), 14),
)
TOTAL = N_("Tổng cộng")
DROPPED = N_("(thôi học)")
SIGNERS = (N_("Người lập biểu"), N_("Kế toán trưởng"), N_("Thủ trưởng đơn vị"))
SIGN_HINT = N_("(Ký, ghi rõ họ tên)")
MONEY = "#,##0"
FIRST_MONEY_COL = 8  # (a), 1-based
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_UNSAFE_NAME = re.compile(r"[^a-z0-9]+")


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _row(number: int, line: Line, lang: str) -> list[object]:
    _ = translator(lang)
    r, a = line.redemption, line.amounts
    course = line.course.title if line.course else ""
    if r.dropped_on is not None and r.finished_on is None:
        course = f"{course} {_(DROPPED)}".strip()
    return [
        number,
        line.card.holder_name,
        line.card.number,
        line.card.issuer_unit,
        course,
        f"{_day(r.start_date)} – {_day(line.end)}",
        a.days,
        a.tuition_paid,
        a.meals_paid,
        a.travel_paid,
        a.total,
        a.learner_share,
    ]


def settlement_workbook(found: Draft, lang: str = "vi") -> bytes:
    """The workbook's bytes."""
    _ = translator(lang)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _(SHEET)
    width = len(COLUMNS)
    key = found.key
    period = HALF if key.period == "half" else YEAR
    bases = sorted({x.amounts.legal_basis for x in found.lines if x.amounts.legal_basis})
    head = [
        (_(TITLE), Font(bold=True, size=13)),
        (_(INSTITUTION, name=found.institution.name), Font(bold=True)),
        (_(period, year=key.year, start=_day(key.start), end=_day(key.end)), Font()),
        (_(DUE, day=_day(found.due_on)), Font()),
        (_(BASIS, basis="; ".join(bases) or "—"), Font(italic=True)),
    ]
    for row, (text, font) in enumerate(head, start=1):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        cell = sheet.cell(row, 1, text)
        cell.font = font
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    top = len(head) + 2
    for col, (title, col_width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(top, col, _(title))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BOX
        sheet.column_dimensions[get_column_letter(col)].width = col_width
    for number, line in enumerate(found.lines, start=1):
        for col, value in enumerate(_row(number, line, lang), start=1):
            cell = sheet.cell(top + number, col, value)
            cell.border = _BOX
            if col >= FIRST_MONEY_COL:
                cell.number_format = MONEY
    total_row = top + len(found.lines) + 1
    sheet.merge_cells(start_row=total_row, start_column=1, end_row=total_row, end_column=6)
    sheet.cell(total_row, 1, _(TOTAL)).font = Font(bold=True)
    sheet.cell(total_row, 7, sum(x.amounts.days for x in found.lines))
    sums = (
        found.column("tuition_paid"),
        found.column("meals_paid"),
        found.column("travel_paid"),
        found.total,
        found.learner_share,
    )
    for offset, value in enumerate(sums):
        cell = sheet.cell(total_row, FIRST_MONEY_COL + offset, value)
        cell.number_format = MONEY
        cell.font = Font(bold=True)
    for col in range(1, width + 1):
        sheet.cell(total_row, col).border = _BOX
    sign_row = total_row + 3
    for i, signer in enumerate(SIGNERS):
        col = 2 + i * 4
        sheet.cell(sign_row, col, _(signer)).font = Font(bold=True)
        sheet.cell(sign_row + 1, col, _(SIGN_HINT)).font = Font(italic=True)
    sheet.freeze_panes = sheet.cell(top + 1, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def settlement_filename(found: Draft) -> str:
    """A download name such as ``quyet-toan-truong-a-2026-half.xlsx``."""
    slug = _UNSAFE_NAME.sub("-", fold(found.institution.name)).strip("-")[:48] or "truong"
    return f"quyet-toan-{slug}-{found.key.year}-{found.key.period}.xlsx"
