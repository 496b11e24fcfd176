"""The dashboard's figures and the plan's indicators, always under a principal's scope."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.auth import Principal
from admin.queries import count_people, wants_call_ids
from admin.scope import aggregate_filter, can, commune_scope, questions_filter
from bot.cards import settlement
from bot.questions import overdue_before
from bot.reporting.kpi import KpiReport, compute_kpis
from bot.reporting.support_paid import SupportPaid, support_paid
from storage import questions as questions_repo
from storage.models.admin import CallbackRequest
from storage.models.core import Person, SurveyResponse, TradePreference

T = TypeVar("T")


@dataclass
class Kpi:
    """One KPI: numerator over denominator against a target share."""

    key: str
    numerator: int
    denominator: int
    target: float | None

    @property
    def share(self) -> float:
        """numerator / denominator (0 when there is no denominator)."""
        return self.numerator / self.denominator if self.denominator else 0.0

    @property
    def met(self) -> bool:
        """Whether the target is reached."""
        return self.target is None or (self.denominator > 0 and self.share >= self.target)


@dataclass
class Dashboard:
    """Everything the dashboard shows."""

    total: int
    started: int
    consented: int
    completed: int
    sharing: int
    callbacks_open: int
    by_year: list[tuple[int | None, int, int]]
    by_commune: list[tuple[str | None, int, int]]
    top_trades: list[tuple[str, int, int]]
    kpi_year: int
    kpis: list[Kpi]
    years: list[int] = field(default_factory=list)
    questions_overdue: int = 0  # open questions waiting over two working days
    settlements_late: int | None = None  # for the province: periods past due, not submitted
    support: SupportPaid | None = None  # training support paid in kpi_year


async def _started(db: AsyncSession, scope: ColumnElement[bool]) -> int:
    return await count_people(db, scope, Person.id.in_(select(SurveyResponse.person_id)))


@dataclass
class _Grouped:
    """Counts per (year of discharge, commune) folded into totals, per year and per commune."""

    totals: dict[str, int]
    by_year: list[tuple[int | None, int, int]]
    by_commune: list[tuple[str | None, int, int]]


async def _grouped(db: AsyncSession, scope: ColumnElement[bool]) -> _Grouped:
    """One scan of people grouped by year and commune instead of one query per chart."""
    year = func.extract("year", Person.discharge_month)
    stmt = (
        select(
            year,
            Person.home_commune_code,
            func.count(),
            func.count(Person.consent_at),
            func.count(Person.survey_completed_at),
            func.sum(case((Person.consent_sharing.is_(True), 1), else_=0)),
        )
        .where(scope)
        .group_by(year, Person.home_commune_code)
    )
    totals = {"total": 0, "consented": 0, "completed": 0, "sharing": 0}
    years: dict[int | None, list[int]] = {}
    communes: dict[str | None, list[int]] = {}
    for y, code, n, cons, comp, share in (await db.execute(stmt)).all():
        key = int(y) if y is not None else None
        for name, value in (("total", n), ("consented", cons), ("completed", comp)):
            totals[name] += int(value or 0)
        totals["sharing"] += int(share or 0)
        for bucket, k in ((years, key), (communes, code)):
            acc = bucket.setdefault(k, [0, 0])  # type: ignore[arg-type]
            acc[0] += int(n)
            acc[1] += int(comp or 0)
    by_year = sorted(
        ((y, a, b) for y, (a, b) in years.items()), key=lambda r: (r[0] is None, r[0] or 0)
    )
    by_commune = sorted(((c, a, b) for c, (a, b) in communes.items()), key=lambda r: -r[1])
    return _Grouped(totals, by_year, by_commune)


async def _top_trades(
    db: AsyncSession, scope: ColumnElement[bool], limit: int = 10
) -> list[tuple[str, int, int]]:
    first = func.sum(case((TradePreference.rank == 1, 1), else_=0))
    stmt = (
        select(TradePreference.trade_code, func.count(distinct(TradePreference.person_id)), first)
        .join(Person, Person.id == TradePreference.person_id)
        .where(scope)
        .group_by(TradePreference.trade_code)
        .order_by(func.count(distinct(TradePreference.person_id)).desc())
        .limit(limit)
    )
    return [(c, int(n), int(f or 0)) for c, n, f in (await db.execute(stmt)).all()]


def _kpi_rows(report: KpiReport) -> list[Kpi]:
    """The report's indicators as dashboard and API rows, led by the number of returnees."""
    rows = [Kpi("returnees", report.total, report.total, None)]
    rows += [Kpi(ln.key, ln.count, ln.base, ln.target) for ln in report.lines()]
    return rows


async def kpis(db: AsyncSession, principal: Principal, year: int, tz: ZoneInfo) -> list[Kpi]:
    """The plan's indicators (``bot.reporting.kpi``) for ``year``, for the principal's people."""
    report = await compute_kpis(db, year=year, tz=tz, scope=aggregate_filter(principal))
    return _kpi_rows(report)


async def _support_paid(db: AsyncSession, principal: Principal, year: int) -> SupportPaid | None:
    """Training support paid in ``year``: a commune account its communes, an institution its
    own; roles that see neither settlements nor communes, nothing."""
    communes = commune_scope(principal)
    if principal.role == "institution":
        if principal.institution_id is None:
            return None
        return await support_paid(db, year=year, institution_id=principal.institution_id)
    if communes is None and not can(principal, "settlements"):
        return None
    return await support_paid(db, year=year, commune_codes=communes)


async def _open_callbacks(db: AsyncSession, scope: ColumnElement[bool]) -> int:
    stmt = (
        select(func.count())
        .select_from(Person)
        .outerjoin(CallbackRequest, CallbackRequest.person_id == Person.id)
        .where(Person.id.in_(wants_call_ids()), CallbackRequest.done_at.is_(None), scope)
    )
    return int(await db.scalar(stmt) or 0)


async def dashboard(
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    year: int | None,
    *,
    tz: ZoneInfo,
    today: date,
    now: datetime,
) -> Dashboard:
    """All dashboard figures under the principal's scope (queries run side by side).

    Without ``year``, the latest year of discharge, or ``today``'s (a local date in ``tz``).
    ``now`` dates the overdue questions.
    """
    scope = aggregate_filter(principal)

    async def run(fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with sessionmaker() as db:
            return await fn(db)

    if year is None:
        latest = await run(
            lambda db: db.scalar(select(func.max(Person.discharge_month)).where(scope))
        )
        year = latest.year if isinstance(latest, date) else today.year
    kpi_year = year
    cutoff = overdue_before(now, tz)
    # the questions of one's own inbox; roles without one see the count for their scope
    asked_scope = questions_filter(principal) if can(principal, "questions") else scope
    grouped, started, top, open_cb, rows, late = await asyncio.gather(
        run(lambda db: _grouped(db, scope)),
        run(lambda db: _started(db, scope)),
        run(lambda db: _top_trades(db, scope)),
        run(lambda db: _open_callbacks(db, scope)),
        run(lambda db: kpis(db, principal, kpi_year, tz)),
        run(lambda db: questions_repo.count_overdue(db, asked_scope, cutoff)),
    )
    settlements_late = (  # late or missing settlements are flagged to the province
        await run(lambda db: settlement.late_count(db, today))
        if can(principal, "settlements.approve")
        else None
    )
    support = await run(lambda db: _support_paid(db, principal, kpi_year))
    years = sorted({y for y, _, _ in grouped.by_year if y is not None} | {kpi_year})
    t = grouped.totals
    return Dashboard(
        total=t["total"],
        started=started,
        consented=t["consented"],
        completed=t["completed"],
        sharing=t["sharing"],
        callbacks_open=open_cb,
        by_year=grouped.by_year,
        by_commune=grouped.by_commune,
        top_trades=top,
        kpi_year=kpi_year,
        kpis=rows,
        years=years,
        questions_overdue=late,
        settlements_late=settlements_late,
        support=support,
    )
