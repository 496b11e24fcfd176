"""Read-side queries of the admin pages and API, always under a principal's scope."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, case, cast, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from admin.auth import Principal
from admin.scope import aggregate_filter, people_filter
from bot.reporting import labels
from bot.reporting.kpi import KpiReport, compute_kpis
from storage.models.admin import AdminUser, CallbackRequest
from storage.models.core import Answer, Person, SurveyResponse, TradePreference
from storage.models.timeline import Outcome

T = TypeVar("T")

PAGE_SIZE = 25
YES_JSON = ('"yes"', "true")


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


@dataclass
class PeopleQuery:
    """Filters of the people list."""

    q: str = ""
    commune: str = ""
    branch: str = ""
    discharge_month: str = ""  # YYYY-MM
    trade: str = ""
    completed: str = ""  # "" | "yes" | "no"
    updated_since: datetime | None = None
    page: int = 1
    page_size: int = PAGE_SIZE


def _month_start(text: str) -> date | None:
    try:
        year, month = text.split("-")[:2]
        return date(int(year), int(month), 1)
    except (ValueError, TypeError):
        return None


def people_conditions(principal: Principal, pq: PeopleQuery) -> list[ColumnElement[bool]]:
    """Scope plus the list filters as SQL conditions on Person."""
    conds: list[ColumnElement[bool]] = [people_filter(principal)]
    text = pq.q.strip()
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        like = f"%{text.lower()}%"
        alts: list[ColumnElement[bool]] = [func.lower(Person.full_name).like(like)]
        if len(digits) >= 3:
            alts.append(Person.phone.like(f"%{digits.lstrip('0')}%"))
        conds.append(or_(*alts))
    if pq.commune:
        conds.append(Person.home_commune_code == pq.commune)
    if pq.branch:
        conds.append(Person.branch == pq.branch)
    month = _month_start(pq.discharge_month) if pq.discharge_month else None
    if month is not None:
        conds.append(Person.discharge_month == month)
    if pq.trade:
        conds.append(
            exists().where(
                TradePreference.person_id == Person.id, TradePreference.trade_code == pq.trade
            )
        )
    if pq.completed == "yes":
        conds.append(Person.survey_completed_at.is_not(None))
    elif pq.completed == "no":
        conds.append(Person.survey_completed_at.is_(None))
    if pq.updated_since is not None:
        conds.append(Person.updated_at >= pq.updated_since)
    return conds


async def list_people(
    db: AsyncSession, principal: Principal, pq: PeopleQuery
) -> tuple[list[Person], int]:
    """One page of people (newest first) and the total count."""
    conds = people_conditions(principal, pq)
    total = int(await db.scalar(select(func.count()).select_from(Person).where(*conds)) or 0)
    size = max(1, min(pq.page_size, 200))
    stmt = (
        select(Person)
        .where(*conds)
        .order_by(Person.id.desc())
        .offset((max(pq.page, 1) - 1) * size)
        .limit(size)
    )
    return list((await db.scalars(stmt)).all()), total


async def get_person(db: AsyncSession, principal: Principal, person_id: int) -> Person | None:
    """The person if the principal may see them, else None (the caller answers 404)."""
    stmt = select(Person).where(Person.id == person_id, people_filter(principal))
    return await db.scalar(stmt)


async def preferences_of(db: AsyncSession, person_id: int) -> list[TradePreference]:
    """Trade choices by rank."""
    stmt = (
        select(TradePreference)
        .where(TradePreference.person_id == person_id)
        .order_by(TradePreference.rank)
    )
    return list((await db.scalars(stmt)).all())


async def responses_of(
    db: AsyncSession, person_id: int
) -> list[tuple[SurveyResponse, list[Answer]]]:
    """Survey responses (newest first) with their answers."""
    responses = (
        await db.scalars(
            select(SurveyResponse)
            .where(SurveyResponse.person_id == person_id)
            .order_by(SurveyResponse.id.desc())
        )
    ).all()
    out = []
    for resp in responses:
        answers = (
            await db.scalars(
                select(Answer).where(Answer.response_id == resp.id).order_by(Answer.id)
            )
        ).all()
        out.append((resp, list(answers)))
    return out


async def outcomes_of(db: AsyncSession, person_id: int) -> list[Outcome]:
    """Outcome history, oldest first."""
    stmt = (
        select(Outcome)
        .where(Outcome.person_id == person_id)
        .order_by(Outcome.status_date, Outcome.id)
    )
    return list((await db.scalars(stmt)).all())


# --------------------------------------------------------------------------- call-backs


def _wants_call_ids() -> Any:
    """Person ids whose latest survey response answers ``wants_call`` with yes."""
    newer = aliased(SurveyResponse)
    latest = (
        select(func.max(newer.id))
        .where(newer.person_id == SurveyResponse.person_id)
        .scalar_subquery()
    )
    return (
        select(SurveyResponse.person_id)
        .join(Answer, Answer.response_id == SurveyResponse.id)
        .where(
            Answer.question_id == "wants_call",
            cast(Answer.value, String).in_(YES_JSON),
            SurveyResponse.id == latest,
        )
    )


def callback_conditions(principal: Principal) -> list[ColumnElement[bool]]:
    """Which call-back requests the principal sees (counsellors: theirs and unassigned)."""
    conds: list[ColumnElement[bool]] = [Person.id.in_(_wants_call_ids())]
    if principal.role == "counsellor":
        conds += [
            Person.erased_at.is_(None),
            or_(
                CallbackRequest.assigned_counsellor_id.is_(None),
                CallbackRequest.assigned_counsellor_id == principal.id,
            ),
        ]
    else:
        conds.append(people_filter(principal))
    return conds


async def list_callbacks(
    db: AsyncSession, principal: Principal, *, show_done: bool = False, limit: int = 200
) -> list[tuple[Person, CallbackRequest | None]]:
    """Call-back requests, open ones first, oldest first."""
    conds = callback_conditions(principal)
    if not show_done:
        conds.append(CallbackRequest.done_at.is_(None))
    stmt = (
        select(Person, CallbackRequest)
        .outerjoin(CallbackRequest, CallbackRequest.person_id == Person.id)
        .where(*conds)
        .order_by(Person.survey_completed_at.is_(None), Person.survey_completed_at, Person.id)
        .limit(limit)
    )
    return [(p, c) for p, c in (await db.execute(stmt)).all()]


async def callback_for(
    db: AsyncSession, principal: Principal, person_id: int
) -> tuple[Person, CallbackRequest | None] | None:
    """One call-back request the principal sees, or None."""
    stmt = (
        select(Person, CallbackRequest)
        .outerjoin(CallbackRequest, CallbackRequest.person_id == Person.id)
        .where(Person.id == person_id, *callback_conditions(principal))
    )
    row = (await db.execute(stmt)).first()
    return (row[0], row[1]) if row else None


async def counsellors(db: AsyncSession) -> list[AdminUser]:
    """Active counsellor accounts."""
    stmt = select(AdminUser).where(AdminUser.role == "counsellor", AdminUser.active.is_(True))
    return list((await db.scalars(stmt.order_by(AdminUser.username))).all())


# --------------------------------------------------------------------------- dashboard


async def _count(db: AsyncSession, *conds: ColumnElement[bool]) -> int:
    return int(await db.scalar(select(func.count()).select_from(Person).where(*conds)) or 0)


async def _started(db: AsyncSession, scope: ColumnElement[bool]) -> int:
    started = Person.id.in_(select(SurveyResponse.person_id))
    return int(await db.scalar(select(func.count()).select_from(Person).where(scope, started)) or 0)


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


async def _open_callbacks(db: AsyncSession, scope: ColumnElement[bool]) -> int:
    stmt = (
        select(func.count())
        .select_from(Person)
        .outerjoin(CallbackRequest, CallbackRequest.person_id == Person.id)
        .where(Person.id.in_(_wants_call_ids()), CallbackRequest.done_at.is_(None), scope)
    )
    return int(await db.scalar(stmt) or 0)


async def dashboard(
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    year: int | None,
    *,
    tz: ZoneInfo,
    today: date,
) -> Dashboard:
    """All dashboard figures under the principal's scope (queries run side by side).

    Without ``year``, the latest year of discharge, or ``today``'s (a local date in ``tz``).
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
    grouped, started, top, open_cb, rows = await asyncio.gather(
        run(lambda db: _grouped(db, scope)),
        run(lambda db: _started(db, scope)),
        run(lambda db: _top_trades(db, scope)),
        run(lambda db: _open_callbacks(db, scope)),
        run(lambda db: kpis(db, principal, kpi_year, tz)),
    )
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
    )


async def export_trade_counts(db: AsyncSession, flt: Any, lang: str = "vi") -> list[Any]:
    """Per-trade counts of an export filter.

    Same figures as ``bot.reporting.exports.list_by_trade``, but safe with a trade filter (there the
    filter's EXISTS on trade_preferences is auto-correlated away by the outer join).
    """
    from bot.reporting import exports

    if flt.trade_codes is None:
        return await exports.list_by_trade(db, flt, lang=lang)
    chosen = select(Person.id).where(*exports.person_conditions(flt))
    first = case((TradePreference.rank == 1, TradePreference.person_id))
    stmt = (
        select(
            TradePreference.trade_code,
            func.count(distinct(TradePreference.person_id)),
            func.count(distinct(first)),
        )
        .where(TradePreference.person_id.in_(chosen), TradePreference.rank.between(1, 3))
        .group_by(TradePreference.trade_code)
    )
    rows = [
        exports.TradeCount(code, labels.trade_name(code, lang), int(count), int(first_count))
        for code, count, first_count in (await db.execute(stmt)).all()
    ]
    return sorted(rows, key=lambda r: (-r[2], -r[3], r[1], r[0]))
