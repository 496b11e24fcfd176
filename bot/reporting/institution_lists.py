"""What each training institution is handed (plan deliverable: the month-18 lists) and the
steps it records with each person.

**The list** of an institution: people at or past month 18 of service (enlistment month + 18
months on or before today), or back home (a return date, or a discharge month already over),
who chose one of the institution's trades, under the export rules of
:func:`bot.reporting.preferences.person_conditions`: consented, not erased, survey completed,
and agreed to share with schools ("advice only" never reaches an institution).

**The intakes**: per course of the institution, the people who registered interest in the bot
(``ItemResponse`` course/interested), again only those who agreed to share with schools.

**The steps** (``content/catalog.yaml`` enrolment_statuses): listed → contacted → enrolled →
finished | dropped, one ``Enrolment`` row per person and institution. Enrolled and finished
record the person's outcome (in_training, finished_training, with the trade) through
:func:`bot.records.add_outcome`, source ``institution``, so the one KPI implementation
(:mod:`bot.reporting.kpi`) counts them as trained; every step is audited with the officer's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from bot import records
from bot.catalog.vocab import vocabularies
from bot.reporting import labels
from bot.reporting.preferences import ExportFilter, person_conditions
from bot.survey.parsing import display_phone
from bot.timeline.dates import add_months, format_month, month_start
from storage import enrolments as repo
from storage.audit import audit
from storage.catalog import person_by_id
from storage.models import Person
from storage.models.catalog import Course, Institution

LIST_MONTH = 18
SOURCE = "institution"
STATUSES: tuple[str, ...] = ("listed", "contacted", "enrolled", "finished", "dropped")
# the steps an institution may take from each step (finished and dropped are final)
NEXT_STEPS: dict[str, tuple[str, ...]] = {
    "listed": ("contacted", "enrolled", "dropped"),
    "contacted": ("enrolled", "dropped"),
    "enrolled": ("finished", "dropped"),
    "finished": (),
    "dropped": (),
}


class ListError(ValueError):
    """A step the institution may not take; ``key`` says why (``out_of_scope``,
    ``bad_step``, ``unknown_course``, ``future_date``…)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class ListRow:
    """One person on a list, ready to show or export (text in the page's language)."""

    person_id: int
    full_name: str
    phone: str
    trades: list[tuple[int, str]]  # (rank, trade code) among the institution's, best first
    level: str
    place: str
    discharge_month: str
    commune: str
    status: str
    status_date: date | None
    course_id: int | None
    note: str
    updated_by: str
    next_steps: tuple[str, ...]

    def trade_text(self, lang: str) -> str:
        """``Hàn (1); Điện dân dụng (3)``: the trades and their rank among the person's choices."""
        return "; ".join(f"{labels.trade_name(code, lang)} ({rank})" for rank, code in self.trades)


@dataclass(frozen=True)
class Intake:
    """One course of the institution and the people interested in it."""

    course: Course
    people: list[ListRow] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    """How far an institution got: people at each step, interest per intake."""

    institution: Institution
    steps: dict[str, int]
    interest: list[tuple[Course, int]]

    @property
    def total(self) -> int:
        """People on its list (every step)."""
        return sum(self.steps.values())


def _sharing(tz: ZoneInfo, *, trades: Sequence[str] | None, completed: bool) -> list[Any]:
    """The export rules for an institution: consented, not erased, agreed to share."""
    flt = ExportFilter(
        tz=tz, trade_codes=trades, completed_only=completed, consent_sharing_only=True
    )
    return person_conditions(flt)


def month_18_condition(today: date) -> ColumnElement[bool]:
    """At or past month 18 of service on ``today``, or back home."""
    return or_(
        Person.enlistment_month <= add_months(today, -LIST_MONTH),
        Person.return_date.is_not(None),
        Person.discharge_month < month_start(today),
    )


def list_conditions(institution: Institution, today: date, tz: ZoneInfo) -> list[Any]:
    """SQL conditions on ``Person`` for the institution's month-18 list."""
    rules = _sharing(tz, trades=list(institution.trades or ()), completed=True)
    return [*rules, month_18_condition(today)]


def interest_conditions(tz: ZoneInfo) -> list[Any]:
    """SQL conditions on ``Person`` for who of the interested an institution sees."""
    return _sharing(tz, trades=None, completed=False)


def _row(raw: Any, ranks: dict[int, list[tuple[int, str]]], lang: str) -> ListRow:
    status = raw.status or "listed"
    return ListRow(
        person_id=raw.id,
        full_name=raw.full_name or "",
        phone=display_phone(raw.phone) if raw.phone else "",
        trades=ranks.get(raw.id, []),
        level=labels.option_label("training_level", raw.training_level, lang),
        place=labels.option_label("training_place", raw.training_place, lang),
        discharge_month=format_month(raw.discharge_month),
        commune=labels.commune_name(raw.home_commune_code),
        status=status,
        status_date=raw.status_date,
        course_id=raw.course_id,
        note=raw.note or "",
        updated_by=raw.updated_by or "",
        next_steps=NEXT_STEPS.get(status, ()),
    )


async def _rows(
    session: AsyncSession, institution: Institution, raws: Sequence[Any], lang: str
) -> list[ListRow]:
    ranks = await repo.trade_ranks(session, [r.id for r in raws], list(institution.trades or ()))
    return [_row(r, ranks, lang) for r in raws]


async def institution_list(
    session: AsyncSession, institution: Institution, *, today: date, tz: ZoneInfo, lang: str
) -> list[ListRow]:
    """The institution's month-18 list on ``today``, by name."""
    raws = await repo.list_rows(session, institution.id, list_conditions(institution, today, tz))
    return await _rows(session, institution, raws, lang)


async def intakes(
    session: AsyncSession, institution: Institution, *, tz: ZoneInfo, lang: str
) -> list[Intake]:
    """Each course of the institution (not drafts) with the people interested in it."""
    conds = interest_conditions(tz)
    out = []
    for course in await repo.courses_of(session, institution.id):
        raws = await repo.interested_rows(session, institution.id, course.id, conds)
        out.append(Intake(course, await _rows(session, institution, raws, lang)))
    return out


async def progress(session: AsyncSession, *, today: date, tz: ZoneInfo) -> list[Progress]:
    """Every institution's steps so far and the interest in each of its intakes."""
    interest = interest_conditions(tz)
    out = []
    for inst in await repo.institutions(session):
        steps = dict.fromkeys(STATUSES, 0)
        conds = list_conditions(inst, today, tz)
        steps.update(await repo.count_by_status(session, inst.id, conds))
        courses = await repo.courses_of(session, inst.id)
        counts = await repo.interest_counts(session, [c.id for c in courses], interest)
        out.append(Progress(inst, steps, [(c, counts.get(c.id, 0)) for c in courses]))
    return out


def status_label(code: str, lang: str) -> str:
    """A step in words (``Đã nhập học``)."""
    return vocabularies().label("enrolment_statuses", code, lang)


def _outcome_of(status: str) -> str | None:
    """The person's outcome a step records (``enrolled`` → ``in_training``)."""
    term = next(t for t in vocabularies().enrolment_statuses if t.code == status)
    return term.outcome


async def _in_scope(
    session: AsyncSession, institution: Institution, person_id: int, today: date, tz: ZoneInfo
) -> bool:
    conds = list_conditions(institution, today, tz)
    if await repo.is_listed(session, person_id, conds):
        return True
    course_ids = [c.id for c in await repo.courses_of(session, institution.id)]
    return await repo.is_interested(session, person_id, course_ids, interest_conditions(tz))


@dataclass(frozen=True)
class Step:
    """What the institution says about one person."""

    status: str
    day: date
    course_id: int | None = None
    note: str | None = None


async def set_status(
    session: AsyncSession,
    institution: Institution,
    person_id: int,
    step: Step,
    officer: records.Officer,
    *,
    today: date,
    tz: ZoneInfo,
) -> None:
    """Move the person to ``step.status`` with the institution (the caller commits).

    Only people on its list or interested in one of its intakes; only the steps of
    :data:`NEXT_STEPS`; a course must be one of its own. Enrolled and finished record the
    outcome (trade: the course's, else the person's best-ranked trade of the institution).
    """
    person = await person_by_id(session, person_id)
    if person is None or not await _in_scope(session, institution, person_id, today, tz):
        raise ListError("out_of_scope")
    if step.status not in STATUSES:
        raise ListError("bad_step")
    if step.day > today:
        raise ListError("future_date")
    if step.day < records.EARLIEST_DATE:
        raise ListError("too_old")
    row = await repo.enrolment(session, person_id, institution.id)
    current = row.status if row is not None else "listed"
    if step.status not in NEXT_STEPS[current]:
        raise ListError("bad_step")
    course = await _course(session, institution, step.course_id, row)
    if row is None:
        row = repo.new_enrolment(session, person_id, institution.id)
    await repo.set_enrolment(
        session,
        row,
        status=step.status,
        status_date=step.day,
        course_id=course.id if course else None,
        note=(step.note or "").strip() or None,
        updated_by=officer.actor,
    )
    outcome = _outcome_of(step.status)
    if outcome is not None:
        trade = course.trade_code if course else await _best_trade(session, institution, person)
        try:
            await records.add_outcome(
                session,
                person,
                officer,
                status=outcome,
                day=step.day,
                trade_code=trade,
                today=today,
                tz=tz,
            )
        except records.RecordError as exc:
            raise ListError(exc.key) from exc
    detail = {
        "person_id": person_id,
        "institution_id": institution.id,
        "from": current,
        "status": step.status,
        "date": step.day.isoformat(),
    }
    if course is not None:
        detail["course_id"] = course.id
    await audit(
        session, actor=officer.actor, action="enrolment.status", detail=detail, ip=officer.ip
    )


async def _course(
    session: AsyncSession, institution: Institution, course_id: int | None, row: Any
) -> Course | None:
    """The intake named (it must be the institution's), else the one already on the row."""
    wanted = course_id if course_id is not None else (row.course_id if row is not None else None)
    if wanted is None:
        return None
    course = await session.get(Course, wanted)
    if course is None or course.institution_id != institution.id:
        raise ListError("unknown_course")
    return course


async def _best_trade(
    session: AsyncSession, institution: Institution, person: Person
) -> str | None:
    ranks = await repo.trade_ranks(session, [person.id], list(institution.trades or ()))
    chosen = ranks.get(person.id)
    return chosen[0][1] if chosen else None
