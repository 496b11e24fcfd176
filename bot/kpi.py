"""The plan's yearly indicators (plan 220-NQ/TU) for people discharged in a year.

- counselled before return (target 100% of all): survey completed before the return date, or
  before the end of the discharge month when the return date is unknown;
- registered for training: completed survey with at least one trade and the training level;
- trained (target 60% of all): any outcome in_training or finished_training;
- helped into work after training (target 70% of the registered): among the registered, a work
  outcome dated on or after a training outcome, or on or after the return date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.timeline.dates import add_months, month_start
from storage.models import Answer, Person, SurveyResponse, TradePreference
from storage.models.timeline import Outcome

TRAINING_LEVEL_QUESTION = "training_level"
TRAINING_STATUSES: tuple[str, ...] = ("in_training", "finished_training")
WORK_STATUSES: tuple[str, ...] = ("employed_in_trade", "employed_other", "self_employed", "abroad")
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


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


@dataclass
class _Person:
    """What the indicators need about one person."""

    id: int
    commune: str | None
    survey_completed_at: datetime | None
    return_date: date | None
    discharge_month: date


def _cohort(year: int, commune_codes: Sequence[str] | None) -> Select[Any]:
    """People discharged in ``year``, not erased, optionally in some communes."""
    stmt = select(Person.id).where(
        Person.discharge_month >= date(year, 1, 1),
        Person.discharge_month <= date(year, 12, 31),
        Person.erased_at.is_(None),
    )
    if commune_codes is not None:
        stmt = stmt.where(Person.home_commune_code.in_(list(commune_codes)))
    return stmt


async def _people(session: AsyncSession, cohort: Select[Any]) -> list[_Person]:
    """The cohort's rows."""
    rows = await session.execute(
        select(
            Person.id,
            Person.home_commune_code,
            Person.survey_completed_at,
            Person.return_date,
            Person.discharge_month,
        ).where(Person.id.in_(cohort))
    )
    return [_Person(r[0], r[1], r[2], r[3], r[4] or date.min) for r in rows]


async def _registered(session: AsyncSession, cohort: Select[Any]) -> set[int]:
    """Ids with a completed survey, at least one trade and the training level answered."""
    with_level = (
        select(SurveyResponse.person_id)
        .join(Answer, Answer.response_id == SurveyResponse.id)
        .where(
            SurveyResponse.completed_at.is_not(None),
            Answer.question_id == TRAINING_LEVEL_QUESTION,
        )
    )
    rows = await session.scalars(
        select(TradePreference.person_id)
        .distinct()
        .join(Person, Person.id == TradePreference.person_id)
        .where(
            TradePreference.person_id.in_(cohort),
            TradePreference.person_id.in_(with_level),
            Person.survey_completed_at.is_not(None),
        )
    )
    return set(rows)


async def _outcomes(
    session: AsyncSession, cohort: Select[Any]
) -> dict[int, list[tuple[str, date]]]:
    """Training and work outcomes of the cohort, by person."""
    rows = await session.execute(
        select(Outcome.person_id, Outcome.status, Outcome.status_date).where(
            Outcome.person_id.in_(cohort),
            Outcome.status.in_((*TRAINING_STATUSES, *WORK_STATUSES)),
        )
    )
    out: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for person_id, status, day in rows:
        out[person_id].append((status, day))
    return out


def counselled_before_return(p: _Person, tz: ZoneInfo) -> bool:
    """Survey completed before the return date (or before the discharge month ended)."""
    if p.survey_completed_at is None:
        return False
    done = p.survey_completed_at.astimezone(tz).date()
    if p.return_date is not None:
        return done < p.return_date
    return done < add_months(month_start(p.discharge_month), 1)


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


def _count(
    group: KpiCounts, p: _Person, registered: bool, outcomes: list[tuple[str, date]], tz: ZoneInfo
) -> None:
    """Add one person to a group's counts."""
    group.total += 1
    group.counselled_before_return += counselled_before_return(p, tz)
    group.registered_for_training += registered
    group.trained += any(s in TRAINING_STATUSES for s, _ in outcomes)
    group.helped_into_work_after_training += registered and helped_into_work(
        outcomes, p.return_date
    )


def _commune_name(code: str | None) -> str:
    """The commune's name, or the code when unknown."""
    if code is None:
        return ""
    try:
        from bot.labels import commune_name

        return commune_name(code)
    except Exception:  # the name is a nicety; a missing dataset must not break the report
        return code


async def compute_kpis(
    session: AsyncSession,
    *,
    year: int,
    commune_codes: Sequence[str] | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> KpiReport:
    """The indicators for people whose discharge month is in ``year`` (not erased)."""
    cohort = _cohort(year, commune_codes)
    people = await _people(session, cohort)
    registered = await _registered(session, cohort)
    outcomes = await _outcomes(session, cohort)
    report = KpiReport(year=year, commune_codes=tuple(commune_codes) if commune_codes else None)
    communes: dict[str | None, CommuneKpis] = {}
    for p in people:
        group = communes.get(p.commune)
        if group is None:
            group = communes[p.commune] = CommuneKpis(
                commune_code=p.commune, commune_name=_commune_name(p.commune)
            )
        mine = outcomes.get(p.id, [])
        _count(report, p, p.id in registered, mine, tz)
        _count(group, p, p.id in registered, mine, tz)
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


def write_xlsx(report: KpiReport, path: Path | str) -> None:
    """The report as a spreadsheet: one row for the province, then one per commune."""
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
    finally:
        workbook.close()


def _target_text(target: float | None) -> str:
    """'mục tiêu 60%' or 'không có mục tiêu'."""
    return "không có mục tiêu" if target is None else f"mục tiêu {target * 100:.0f}%"
