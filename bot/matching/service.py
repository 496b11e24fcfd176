"""Matches for one person from the database: their profile, the open catalog, the ranking.

The bot's ``/courses`` and ``/fairs``, the alerts and ``xuatngu match`` all call
:func:`matches_for`; the ranking itself is :mod:`bot.matching.rank` (pure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.matching.catalog import load_trades
from bot.matching.rank import (
    CourseItem,
    FairItem,
    Item,
    ItemKind,
    Match,
    Profile,
    Ranker,
    VacancyItem,
)
from storage import catalog as repo
from storage.models import Person
from storage.models.catalog import Course, JobFair, Vacancy

DRIVING_LICENCES = {"drive_b": "B", "drive_c1": "C1", "drive_cd": "C"}
ENLISTMENT_AGE = 18  # the youngest age of call-up (Luật NVQS 2015 Điều 30)


@lru_cache(maxsize=1)
def ranker() -> Ranker:
    """The process's ranker over the shipped trade catalog."""
    return Ranker(load_trades())


def course_item(course: Course, institution: str) -> CourseItem:
    return CourseItem(
        id=course.id,
        trade_code=course.trade_code,
        level=course.level,
        title=course.title,
        institution=institution,
        start_date=course.start_date,
        enrol_deadline=course.enrol_deadline,
        venue_code=course.venue_code,
        is_mobile=course.is_mobile,
        fee_vnd=course.fee_vnd,
        policy_codes=tuple(course.policy_codes or ()),
        seats_left=course.seats_left,
        min_age=course.min_age,
        max_age=course.max_age,
        min_education=course.min_education,
        requires_license=course.requires_license,
    )


def fair_item(fair: JobFair, tz: ZoneInfo) -> FairItem:
    return FairItem(
        id=fair.id,
        title=fair.title,
        day=fair.starts_at.astimezone(tz).date(),
        mode=fair.mode,
        venue_code=fair.venue_code,
        trades=tuple(fair.trades or ()),
        min_age=fair.min_age,
        max_age=fair.max_age,
    )


def vacancy_item(vacancy: Vacancy, employer: str) -> VacancyItem:
    return VacancyItem(
        id=vacancy.id,
        position=vacancy.position,
        employer=employer,
        trade_code=vacancy.trade_code,
        pay_min_vnd=vacancy.pay_min_vnd,
        pay_max_vnd=vacancy.pay_max_vnd,
        age_min=vacancy.age_min,
        age_max=vacancy.age_max,
        education_min=vacancy.education_min,
        license_required=vacancy.license_required,
        work_place_code=vacancy.work_place_code,
        country=vacancy.country,
        valid_to=vacancy.valid_to,
    )


def min_age(person: Person, today: date) -> int | None:
    """A lower bound of the person's age: called up at 18 at the youngest."""
    if person.enlistment_month is None:
        return None
    return ENLISTMENT_AGE + max(0, (today - person.enlistment_month).days // 365)


async def profile_for(session: AsyncSession, person: Person, today: date) -> Profile:
    """The person's ranking profile from their answers, choices and records."""
    answers = await repo.profile_answers(session, person.id)
    trades = await repo.trade_choices(session, person.id)
    finished = await repo.finished_trades(session, person.id)
    dismissed = {
        key
        for key, said in (await repo.responses_of(session, person.id)).items()
        if said == "not_interested"
    }
    licences = frozenset(DRIVING_LICENCES[t] for t in finished if t in DRIVING_LICENCES)

    def text(question: str) -> str | None:
        value = answers.get(question)
        return value if isinstance(value, str) else None

    return Profile(
        person_id=person.id,
        language=person.language,
        trades=tuple(trades),
        home_code=person.home_commune_code,
        education=text("education"),
        wish_level=text("training_level"),
        training_place=text("training_place"),
        work_place=text("work_preference"),
        min_age=min_age(person, today),
        licences=licences,
        discharge_month=person.discharge_month,
        returned=person.return_date is not None and person.return_date <= today,
        dismissed=frozenset(dismissed),
    )


@dataclass(frozen=True)
class Catalog:
    """The open catalog at one moment, as ranking items by kind."""

    courses: tuple[CourseItem, ...]
    fairs: tuple[FairItem, ...]
    vacancies: tuple[VacancyItem, ...]

    def of(self, kind: ItemKind | None) -> Sequence[Item]:
        if kind == "course":
            return self.courses
        if kind == "fair":
            return self.fairs
        if kind == "vacancy":
            return self.vacancies
        return (*self.courses, *self.fairs, *self.vacancies)


async def open_catalog(session: AsyncSession, today: date, tz: ZoneInfo) -> Catalog:
    """Everything people can be matched to today."""
    since = datetime.combine(today, time.min, tz).astimezone(UTC)
    courses = tuple(course_item(c, name) for c, name in await repo.open_courses(session, today))
    fairs = tuple(fair_item(f, tz) for f in await repo.upcoming_fairs(session, since))
    vacancies = tuple(vacancy_item(v, n) for v, n in await repo.open_vacancies(session, today))
    return Catalog(courses, fairs, vacancies)


async def matches_for(
    session: AsyncSession,
    person: Person,
    *,
    kind: ItemKind | None,
    today: date,
    tz: ZoneInfo,
    limit: int = 3,
) -> list[Match]:
    """The person's best ``limit`` items of ``kind`` (None: all kinds), best first."""
    profile = await profile_for(session, person, today)
    catalog = await open_catalog(session, today, tz)
    return ranker().rank(profile, catalog.of(kind), today, limit)
