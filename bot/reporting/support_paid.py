"""Training support paid in a year, per commune and per institution (the yearly report).

Counted from the amounts frozen in redemptions by a submitted or approved settlement
(``bot/cards/settlement.py``), for courses that ended (finished or dropped) in the year; the
commune is the card holder's home commune as the issuing unit gave it. Scoped like the other
figures: a commune account its communes, an institution its own redemptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_, translator
from bot.reporting import labels
from storage import settlements as repo


@dataclass
class Paid:
    """Courses and đồng paid for one group."""

    name: str
    courses: int = 0
    total_vnd: int = 0
    learner_share_vnd: int = 0


@dataclass
class SupportPaid:
    """The year's support paid: overall, by commune, by institution (each by name)."""

    year: int
    overall: Paid = field(default_factory=lambda: Paid(""))
    by_commune: list[Paid] = field(default_factory=list)
    by_institution: list[Paid] = field(default_factory=list)


def _add(group: Paid, amounts: dict[str, Any]) -> None:
    group.courses += 1
    group.total_vnd += int(amounts.get("total", 0))
    group.learner_share_vnd += int(amounts.get("learner_share", 0))


async def support_paid(
    session: AsyncSession,
    *,
    year: int,
    commune_codes: Sequence[str] | None = None,
    institution_id: int | None = None,
) -> SupportPaid:
    """The support paid for courses that ended in ``year``, optionally within some communes or
    for one institution."""
    rows = await repo.paid_rows(
        session,
        date(year, 1, 1),
        date(year, 12, 31),
        commune_codes=commune_codes,
        institution_id=institution_id,
    )
    report = SupportPaid(year)
    communes: dict[str | None, Paid] = {}
    insts: dict[int, Paid] = {}
    for code, inst_id, inst_name, amounts in rows:
        name = labels.commune_name(code) if code else ""
        for group in (
            report.overall,
            communes.setdefault(code, Paid(name)),
            insts.setdefault(inst_id, Paid(inst_name)),
        ):
            _add(group, amounts)
    report.by_commune = sorted(communes.values(), key=lambda p: (not p.name, p.name))
    report.by_institution = sorted(insts.values(), key=lambda p: p.name)
    return report


def money(value: int) -> str:
    """Đồng with Vietnamese thousands separators: ``28.080.000``."""
    return f"{value:,}".replace(",", ".")


TITLE = N_("Kinh phí hỗ trợ đào tạo nghề đã quyết toán năm %(year)s: %(total)s đ (%(n)s khóa học)")
BY_COMMUNE = N_("Theo xã/phường")
BY_INSTITUTION = N_("Theo cơ sở đào tạo")
PROVINCE = N_("Toàn tỉnh")
UNKNOWN = N_("Chưa rõ xã/phường")
SHEET = N_("Kinh phí hỗ trợ %(year)s")
COLUMNS = (N_("Số khóa học"), N_("Kinh phí hỗ trợ (đ)"), N_("Người học tự trả (đ)"))


def render_text(paid: SupportPaid, lang: str = "vi") -> str:
    """The figures as text (after the indicators in ``xuatngu report kpi``)."""
    _ = translator(lang)
    o = paid.overall
    out = [_(TITLE, year=paid.year, total=money(o.total_vnd), n=o.courses)]
    for title, groups in ((BY_COMMUNE, paid.by_commune), (BY_INSTITUTION, paid.by_institution)):
        out.append(f"{_(title)}:")
        out.extend(
            f"  {g.name or _(UNKNOWN)}: {money(g.total_vnd)} đ ({g.courses})" for g in groups
        )
    return "\n".join(out)


def write_sheet(workbook: Any, paid: SupportPaid, lang: str = "vi") -> None:
    """A sheet of the yearly report's XlsxWriter workbook: the province and each commune, then
    each institution."""
    _ = translator(lang)
    sheet = workbook.add_worksheet(_(SHEET, year=paid.year))
    bold = workbook.add_format({"bold": True})
    vnd = workbook.add_format({"num_format": "#,##0"})
    header = [_(c) for c in COLUMNS]
    province = Paid(_(PROVINCE), paid.overall.courses, paid.overall.total_vnd)
    province.learner_share_vnd = paid.overall.learner_share_vnd
    row = 0
    for title, groups in (
        (BY_COMMUNE, [province, *paid.by_commune]),
        (BY_INSTITUTION, paid.by_institution),
    ):
        sheet.write_row(row, 0, [_(title), *header], bold)
        for group in groups:
            row += 1
            sheet.write_string(row, 0, group.name or _(UNKNOWN))
            sheet.write_number(row, 1, group.courses)
            sheet.write_number(row, 2, group.total_vnd, vnd)
            sheet.write_number(row, 3, group.learner_share_vnd, vnd)
        row += 2
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 3, 20)
