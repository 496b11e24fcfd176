"""Institutions' settlements of training support with the Department of Education and Training.

- Periods (TT 43/2016 Điều 3): ``half`` = 1 January – 30 June, due on the settlement rule's
  ``half_year_due`` of the same year; ``year`` = the calendar year, due on ``year_due`` of the
  next year. The settlement rule is the one in force on the period's last day.
- A period holds every redemption of the institution whose course **ended** in it (finished, or
  dropped out): a course is settled once, when its cost is known; the year's settlement repeats
  the first half's courses, as the yearly report covers the whole year.
- Days of study: the redemption's ``days_attended`` when recorded; otherwise the whole course
  (``course_days``) for a finished course, and for a drop-out the calendar days from the first
  day of training up to the day before the drop-out (at most ``course_days``) [L].
- Amounts are computed with :func:`bot.cards.amounts.support_amounts` under the rules in force
  now (shipped + officers'), and frozen in ``CardRedemption.amounts`` when the settlement is
  submitted (again at a new submission after a return, never for an already settled card).
- States: ``open`` (the period has not ended), ``due`` (ended, not yet sent, before the due day),
  ``late`` (past due, not sent), ``submitted``, ``returned`` (with the Department's note; to be
  sent again: late too once past due), ``approved`` (its cards become ``settled``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.amounts import Amounts, support_amounts
from bot.cards.rules import SupportRules, current_rules
from storage import settlements as repo
from storage.models.cards import CardRedemption, Settlement, TrainingCard
from storage.models.catalog import Course, Institution

Period = Literal["half", "year"]
PERIODS: tuple[Period, ...] = ("half", "year")


class SettlementError(Exception):
    """A settlement step that cannot be taken; ``key`` names why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class PeriodKey:
    """One settlement period."""

    period: Period
    year: int

    @property
    def start(self) -> date:
        """Its first day."""
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        """Its last day."""
        return date(self.year, 6, 30) if self.period == "half" else date(self.year, 12, 31)

    def due_on(self, rules: SupportRules) -> date:
        """The legal deadline under the settlement rule in force on the last day."""
        rule = rules.settlement_on(self.end)
        if self.period == "half":
            return date(self.year, rule.half_year_due.month, rule.half_year_due.day)
        return date(self.year + 1, rule.year_due.month, rule.year_due.day)


def parse_period(period: str, year: int) -> PeriodKey:
    """A period from a URL (``half``/``year`` and a year), else :class:`SettlementError`."""
    for known in PERIODS:
        if known == period and 2000 <= year <= 2100:
            return PeriodKey(known, year)
    raise SettlementError("unknown_period")


def days_of_study(redemption: CardRedemption) -> int | None:
    """The days settled (None: the whole course); see the module's rule."""
    if redemption.days_attended is not None:
        return redemption.days_attended
    if redemption.finished_on is None and redemption.dropped_on is not None:
        return (redemption.dropped_on - redemption.start_date).days
    return None


def amounts_of(rules: SupportRules, redemption: CardRedemption) -> Amounts:
    """What the support pays for one redemption under ``rules``."""
    return support_amounts(
        rules,
        tuition_vnd=redemption.tuition_vnd,
        start=redemption.start_date,
        course_days=redemption.course_days,
        attended_days=days_of_study(redemption),
    )


@dataclass(frozen=True)
class Line:
    """One row of a settlement: a redeemed card and what it is worth."""

    redemption: CardRedemption
    card: TrainingCard
    course: Course | None
    amounts: Amounts

    @property
    def end(self) -> date | None:
        """The day the course ended for this learner."""
        return self.redemption.finished_on or self.redemption.dropped_on


@dataclass
class Draft:
    """A period of one institution: its lines, totals, due day and state."""

    institution: Institution
    key: PeriodKey
    due_on: date
    state: str
    stored: Settlement | None
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> int:
        """(a) + (b) + (c) of every line."""
        return sum(x.amounts.total for x in self.lines)

    @property
    def learner_share(self) -> int:
        """What the learners pay the institution above the support."""
        return sum(x.amounts.learner_share for x in self.lines)

    def column(self, name: str) -> int:
        """The sum of one figure over the lines (tuition_paid, meals_paid, travel_paid)."""
        return sum(int(getattr(x.amounts, name)) for x in self.lines)


def state_of(key: PeriodKey, due_on: date, stored: Settlement | None, today: date) -> str:
    """open, due, late, submitted, returned or approved (see the module)."""
    if stored is not None and stored.status in repo.SENT:
        return stored.status
    if today <= key.end:
        return "open"
    if today > due_on:
        return "late"
    return "returned" if stored is not None and stored.status == "returned" else "due"


async def draft(
    session: AsyncSession, institution: Institution, key: PeriodKey, today: date
) -> Draft:
    """The period's lines: the amounts kept for settled cards and while this settlement is
    with the Department; the others computed now."""
    rules = await current_rules(session)
    stored = await repo.get_settlement(session, institution.id, key.period, key.start)
    due_on = key.due_on(rules)
    result = Draft(institution, key, due_on, state_of(key, due_on, stored, today), stored)
    sent = result.state in repo.SENT
    for redemption, card, course in await repo.period_rows(
        session, institution.id, key.start, key.end
    ):
        amounts = (
            _thawed(redemption.amounts)
            if redemption.amounts and (sent or card.status == "settled")
            else amounts_of(rules, redemption)
        )
        result.lines.append(Line(redemption, card, course, amounts))
    return result


def _thawed(kept: dict[str, int | str]) -> Amounts:
    names = Amounts.__dataclass_fields__
    return Amounts(**{k: v for k, v in kept.items() if k in names})  # type: ignore[arg-type]


@dataclass(frozen=True)
class PeriodRow:
    """One period on a dashboard: how many courses ended in it, and its state."""

    institution: Institution
    key: PeriodKey
    due_on: date
    state: str
    courses: int
    stored: Settlement | None


async def periods(
    session: AsyncSession, today: date, institution: Institution | None = None
) -> list[PeriodRow]:
    """Every period (of one institution, or all) that has courses ended in it or a stored
    settlement, newest first; empty periods that nobody settled are left out."""
    rules = await current_rules(session)
    insts = [institution] if institution else await repo.institutions(session)
    by_id = {i.id: i for i in insts}
    stored = {
        (s.institution_id, s.period, s.period_start): s
        for s in await repo.settlements(session, institution.id if institution else None)
    }
    years = set(await repo.ended_years(session, institution.id if institution else None))
    years |= {start.year for _i, _p, start in stored}
    rows: list[PeriodRow] = []
    for year in sorted(years, reverse=True):
        for key in (PeriodKey("year", year), PeriodKey("half", year)):
            counts = await repo.ended_counts(session, key.start, key.end)
            for inst_id, inst in by_id.items():
                kept = stored.get((inst_id, key.period, key.start))
                n = counts.get(inst_id, 0)
                if n == 0 and kept is None:
                    continue
                due = key.due_on(rules)
                rows.append(PeriodRow(inst, key, due, state_of(key, due, kept, today), n, kept))
    return rows


async def late_count(session: AsyncSession, today: date) -> int:
    """Periods past due whose settlement was not sent (flagged to the province)."""
    return sum(1 for row in await periods(session, today) if row.state == "late")


async def submit(
    session: AsyncSession,
    institution: Institution,
    key: PeriodKey,
    actor: str,
    *,
    now: datetime,
    today: date,
) -> Settlement:
    """Send the period to the Department: amounts frozen in each redemption, totals kept
    (``today``: the province's local day)."""
    found = await draft(session, institution, key, today)
    if today <= key.end:
        raise SettlementError("not_ended")
    if not found.lines:
        raise SettlementError("empty")
    if found.state in repo.SENT:
        raise SettlementError("already_sent")
    row = found.stored or Settlement(
        institution_id=institution.id,
        period=key.period,
        period_start=key.start,
        period_end=key.end,
    )
    row.due_on = found.due_on
    row.status = "submitted"
    row.total_vnd = found.total
    row.learner_share_vnd = found.learner_share
    row.submitted_at, row.submitted_by = now, actor
    session.add(row)
    await session.flush()
    for line in found.lines:
        if line.card.status != "settled":
            line.redemption.amounts = line.amounts.frozen()
            line.redemption.settlement_id = row.id
    await session.flush()
    return row


async def decide(
    session: AsyncSession,
    settlement: Settlement,
    *,
    approve: bool,
    actor: str,
    now: datetime,
    note: str = "",
) -> None:
    """The Department approves (its cards become settled) or returns a submitted settlement."""
    if settlement.status != "submitted":
        raise SettlementError("not_submitted")
    if approve:
        rows = await repo.period_rows(
            session, settlement.institution_id, settlement.period_start, settlement.period_end
        )
        await repo.settle_cards(session, [r.id for r, _c, _k in rows])
        settlement.status = "approved"
        settlement.approved_at, settlement.approved_by = now, actor
    else:
        if not note.strip():
            raise SettlementError("note_needed")
        settlement.status = "returned"
    settlement.note = note.strip() or settlement.note
    await session.flush()
