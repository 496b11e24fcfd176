"""The plan's yearly indicators (plan 220-NQ/TU) for people discharged in a year.

- counselled before return (target 100% of all): survey completed before the return date, or
  before the end of the discharge month when the return date is unknown;
- registered for training: completed survey with at least one trade and the training level;
- trained (target 60% of all): any outcome in_training or finished_training ("được đào tạo
  nghề": being in a course counts, the plan does not wait for the certificate);
- helped into work after training (target 70% of the registered): among the registered, a work
  outcome dated on or after their own first training outcome, or on or after the return date.
  Work is employed_in_trade, employed_other, self_employed or abroad: the plan's job support
  includes contract work abroad (xuất khẩu lao động, loans to work abroad).

So a registered returnee with in_training then abroad counts as trained and as helped into work.
Dates and instants are the province's local ones (``tz``, the TIMEZONE setting).

This is the only implementation: the yearly report, ``xuatngu report kpi``, the admin dashboard
and the REST API of every role (with the role's scope as ``scope``) all call
:func:`compute_kpis`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.reporting import labels, support_paid
from bot.reporting.support_paid import SupportPaid
from bot.timeline.dates import add_months
from storage.models import Person
from storage.models.base import UtcDateTime
from storage.models.timeline import Outcome
from storage.segments import registered_for_training

TRAINING_STATUSES: tuple[str, ...] = ("in_training", "finished_training")
WORK_STATUSES: tuple[str, ...] = ("employed_in_trade", "employed_other", "self_employed", "abroad")


@dataclass(frozen=True)
class KpiLine:
    """One indicator: count out of base, its rate, the plan target and whether it is met."""

    key: str
    label_vi: str
    label_en: str
    count: int
    base: int
    target: float | None

    @property
    def rate(self) -> float | None:
        """count / base, None when the base is empty."""
        return self.count / self.base if self.base else None

    @property
    def met(self) -> bool | None:
        """True/False against the target; None without a target or a base."""
        if self.target is None or self.rate is None:
            return None
        return self.rate >= self.target


@dataclass
class KpiCounts:
    """The four indicators for one group of people."""

    total: int = 0
    counselled_before_return: int = 0
    registered_for_training: int = 0
    trained: int = 0
    helped_into_work_after_training: int = 0

    TARGETS: ClassVar[dict[str, float]] = {
        "counselled_before_return": 1.0,
        "trained": 0.6,
        "helped_into_work_after_training": 0.7,
    }

    @property
    def counselled_rate(self) -> float | None:
        """Share of all people counselled before return."""
        return self.counselled_before_return / self.total if self.total else None

    @property
    def registered_rate(self) -> float | None:
        """Share of all people registered for training."""
        return self.registered_for_training / self.total if self.total else None

    @property
    def trained_rate(self) -> float | None:
        """Share of all people trained."""
        return self.trained / self.total if self.total else None

    @property
    def helped_rate(self) -> float | None:
        """Share of the registered helped into work after training."""
        reg = self.registered_for_training
        return self.helped_into_work_after_training / reg if reg else None

    def lines(self) -> list[KpiLine]:
        """The indicators in report order."""
        t = self.TARGETS
        return [
            KpiLine(
                "counselled_before_return",
                "Được tư vấn trước khi về địa phương",
                "Counselled before return",
                self.counselled_before_return,
                self.total,
                t["counselled_before_return"],
            ),
            KpiLine(
                "registered_for_training",
                "Đăng ký học nghề",
                "Registered for training",
                self.registered_for_training,
                self.total,
                None,
            ),
            KpiLine(
                "trained",
                "Được đào tạo nghề",
                "Trained",
                self.trained,
                self.total,
                t["trained"],
            ),
            KpiLine(
                "helped_into_work_after_training",
                "Có việc làm sau đào tạo (trong số đăng ký)",
                "Into work after training (of registered)",
                self.helped_into_work_after_training,
                self.registered_for_training,
                t["helped_into_work_after_training"],
            ),
        ]


@dataclass
class CommuneKpis(KpiCounts):
    """The indicators of one commune (code None: commune unknown)."""

    commune_code: str | None = None
    commune_name: str = ""


@dataclass
class KpiReport(KpiCounts):
    """The indicators for people discharged in ``year``, overall and by commune."""

    year: int = 0
    commune_codes: tuple[str, ...] | None = None
    by_commune: list[CommuneKpis] = field(default_factory=list)


def _cohort_conditions(
    year: int, commune_codes: Sequence[str] | None, scope: ColumnElement[bool] | None
) -> list[Any]:
    """People discharged in ``year``, not erased, optionally in some communes and a scope."""
    conds: list[Any] = [
        Person.discharge_month >= date(year, 1, 1),
        Person.discharge_month <= date(year, 12, 31),
        Person.erased_at.is_(None),
    ]
    if commune_codes is not None:
        conds.append(Person.home_commune_code.in_(list(commune_codes)))
    if scope is not None:
        conds.append(scope)
    return conds


def _registered() -> ColumnElement[bool]:
    """Completed survey, at least one trade chosen, and the training level answered (the rule
    lives with the broadcast segments, which filter on it too)."""
    return registered_for_training()


def _trained() -> ColumnElement[bool]:
    """Any training outcome."""
    return exists().where(Outcome.person_id == Person.id, Outcome.status.in_(TRAINING_STATUSES))


def _helped() -> ColumnElement[bool]:
    """A work outcome on or after the first training outcome or the return date.

    The rule of :func:`helped_into_work`, in SQL, so that no rows leave the database.
    """
    # correlated explicitly: nested in the EXISTS below, automatic correlation would not reach
    # the outer ``people`` and the minimum would be everybody's first training, not theirs
    first_training = (
        select(func.min(Outcome.status_date))
        .where(Outcome.person_id == Person.id, Outcome.status.in_(TRAINING_STATUSES))
        .correlate(Person)
        .scalar_subquery()
    )
    work = aliased(Outcome)
    return exists().where(
        work.person_id == Person.id,
        work.status.in_(WORK_STATUSES),
        or_(
            work.status_date >= first_training,
            and_(Person.return_date.is_not(None), work.status_date >= Person.return_date),
        ),
    )


def _counselled_without_return_date(year: int, tz: ZoneInfo) -> ColumnElement[bool]:
    """Survey done before the discharge month ended (return date unknown): 12 known cut-offs."""
    cutoff = case(
        {
            date(year, m, 1): literal(
                _local_midnight(add_months(date(year, m, 1), 1), tz), UtcDateTime()
            )
            for m in range(1, 13)
        },
        value=Person.discharge_month,
    )
    return and_(
        Person.return_date.is_(None),
        Person.survey_completed_at.is_not(None),
        Person.survey_completed_at < cutoff,
    )


def _ones(condition: ColumnElement[bool]) -> Any:
    """SUM of 1 where the condition holds."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@lru_cache(maxsize=4096)
def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant a local day begins: "done before that day" compares instants, not dates."""
    return datetime.combine(day, time.min, tzinfo=tz)


def helped_into_work(outcomes: Iterable[tuple[str, date]], return_date: date | None) -> bool:
    """A work outcome on or after a training outcome, or on or after the return date."""
    items = list(outcomes)
    trained = [d for s, d in items if s in TRAINING_STATUSES]
    first_training = min(trained) if trained else None
    for status, day in items:
        if status not in WORK_STATUSES:
            continue
        if first_training is not None and day >= first_training:
            return True
        if return_date is not None and day >= return_date:
            return True
    return False


async def compute_kpis(
    session: AsyncSession,
    *,
    year: int,
    tz: ZoneInfo,
    commune_codes: Sequence[str] | None = None,
    scope: ColumnElement[bool] | None = None,
) -> KpiReport:
    """The indicators for people whose discharge month is in ``year`` (not erased).

    ``tz`` is the province's time zone: a survey done before the local midnight starting the
    return day (or the month after discharge) counts as before return. ``commune_codes`` and
    ``scope`` (a condition on ``Person``, such as an admin role's scope) narrow the people.

    Counted in the database, one row per commune; only people with a reported return date
    come back as rows, to compare their survey time with the local start of that day.
    """
    cohort = _cohort_conditions(year, commune_codes, scope)
    flags = (
        select(
            Person.home_commune_code.label("commune"),
            _counselled_without_return_date(year, tz).label("counselled"),
            _registered().label("registered"),
            _trained().label("trained"),
            _helped().label("helped"),
        )
        .where(*cohort)
        .cte("flags")
        # computed once per person: inlined, ``registered`` would run its subqueries twice
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    if sqlite3.sqlite_version_info >= (3, 35):  # the keyword's first SQLite release
        flags = flags.prefix_with("MATERIALIZED", dialect="sqlite")
    totals = await session.execute(
        select(
            flags.c.commune,
            func.count(),
            _ones(flags.c.counselled),
            _ones(flags.c.registered),
            _ones(flags.c.trained),
            _ones(and_(flags.c.registered, flags.c.helped)),
        ).group_by(flags.c.commune)
    )
    report = KpiReport(year=year, commune_codes=tuple(commune_codes) if commune_codes else None)
    communes: dict[str | None, CommuneKpis] = {}
    for code, total, counselled, reg, trained, helped in totals:
        group = communes[code] = CommuneKpis(
            commune_code=code, commune_name=labels.commune_name(code)
        )
        for counts in (report, group):
            counts.total += total
            counts.counselled_before_return += counselled
            counts.registered_for_training += reg
            counts.trained += trained
            counts.helped_into_work_after_training += helped
    returned = await session.execute(
        select(Person.home_commune_code, Person.survey_completed_at, Person.return_date).where(
            *cohort, Person.return_date.is_not(None), Person.survey_completed_at.is_not(None)
        )
    )
    for code, done_at, return_date in returned:
        if done_at is not None and done_at < _local_midnight(return_date, tz):
            report.counselled_before_return += 1
            communes[code].counselled_before_return += 1
    report.by_commune = sorted(
        communes.values(),
        key=lambda c: (c.commune_code is None, c.commune_name, c.commune_code or ""),
    )
    return report


def _pct(rate: float | None) -> str:
    """A rate as a percentage, '—' when undefined."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _line_text(line: KpiLine) -> str:
    """One indicator as text."""
    target = "" if line.target is None else f"  (mục tiêu {line.target * 100:.0f}%: "
    verdict = (
        "" if not target else ("đạt)" if line.met else "chưa đạt)" if line.met is False else "—)")
    )
    return f"  {line.label_vi}: {line.count}/{line.base} = {_pct(line.rate)}{target}{verdict}"


def render_text(report: KpiReport) -> str:
    """The report as plain text for the terminal."""
    out = [f"Chỉ tiêu kế hoạch 220-NQ/TU — thanh niên xuất ngũ năm {report.year}"]
    out.append(f"Tổng số: {report.total}")
    out.extend(_line_text(line) for line in report.lines())
    for commune in report.by_commune:
        out.append("")
        out.append(f"{commune.commune_name or 'Chưa rõ xã/phường'}: {commune.total}")
        out.extend(_line_text(line) for line in commune.lines())
    return "\n".join(out)


def write_xlsx(report: KpiReport, path: Path | str, support: SupportPaid | None = None) -> None:
    """The report as a spreadsheet: one row for the province, then one per commune; with
    ``support``, a second sheet of the training support paid."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    try:
        sheet = workbook.add_worksheet(f"KPI {report.year}")
        bold = workbook.add_format({"bold": True})
        pct = workbook.add_format({"num_format": "0.0%"})
        header = ["Xã/phường", "Mã", "Tổng số"]
        for line in report.lines():
            header += [line.label_vi, f"Tỷ lệ ({_target_text(line.target)})"]
        sheet.write_row(0, 0, header, bold)
        groups: list[tuple[str, str, KpiCounts]] = [("Toàn tỉnh", "", report)]
        groups += [
            (c.commune_name or "Chưa rõ", c.commune_code or "", c) for c in report.by_commune
        ]
        for row, (name, code, group) in enumerate(groups, start=1):
            sheet.write_row(row, 0, [name, code, group.total])
            for i, line in enumerate(group.lines()):
                sheet.write_number(row, 3 + 2 * i, line.count)
                if line.rate is None:
                    sheet.write_blank(row, 4 + 2 * i, None)
                else:
                    sheet.write_number(row, 4 + 2 * i, line.rate, pct)
        sheet.set_column(0, 0, 24)
        sheet.set_column(3, 3 + 2 * len(report.lines()), 16)
        if support is not None:
            support_paid.write_sheet(workbook, support)
    finally:
        workbook.close()


def _target_text(target: float | None) -> str:
    """'mục tiêu 60%' or 'không có mục tiêu'."""
    return "không có mục tiêu" if target is None else f"mục tiêu {target * 100:.0f}%"
