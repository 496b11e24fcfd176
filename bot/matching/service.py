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

from bot.matching.catalog import TradeCatalog, load_trades
from bot.matching.rank import (
    CourseItem,
    FairItem,
    Item,
    ItemKind,
    Match,
    PolicyItem,
    Profile,
    Ranker,
    VacancyItem,
    applicable_policies,
)
from bot.quiz import RIASEC
from storage import catalog as repo
from storage.models import Person
from storage.models.catalog import Course, JobFair, SupportPolicy, Vacancy

DRIVING_LICENCES = {"drive_b": "B", "drive_c1": "C1", "drive_cd": "C"}
# A licence also lets one drive the smaller classes (Luật TTATGT 2024 Điều 57).
LICENCE_COVERS = {"B": ("B",), "C1": ("B", "C1"), "C": ("B", "C1", "C")}
ENLISTMENT_AGE = 18  # the youngest age of call-up (Luật NVQS 2015 Điều 30)
LATEST_ENLISTMENT_AGE = 27  # the oldest: 25, or 27 after a college deferral (same article)
# Support target groups (SupportPolicy.target_groups) by the survey's force answer.
BRANCH_GROUPS = {"army": "discharged", "border_guard": "discharged", "police": "police_discharged"}
QUIZ_PREFIX = "quiz:"


@lru_cache(maxsize=1)
def trade_catalog() -> TradeCatalog:
    """The shipped trade catalog, loaded once."""
    return load_trades()


@lru_cache(maxsize=1)
def ranker() -> Ranker:
    """The process's ranker over the shipped trade catalog."""
    return Ranker(trade_catalog())


def policy_item(policy: SupportPolicy) -> PolicyItem:
    return PolicyItem(
        code=policy.code,
        levels=tuple(policy.levels or ()),
        target_groups=tuple(policy.target_groups or ()),
        items=tuple(policy.items or ()),
        valid_from=policy.valid_from,
        valid_to=policy.valid_to,
        window_months=policy.window_months_after_discharge,
    )


def course_item(
    course: Course, institution: str, policies: Sequence[PolicyItem] = ()
) -> CourseItem:
    codes = tuple(course.policy_codes or ())
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
        policy_codes=codes,
        seats_left=course.seats_left,
        min_age=course.min_age,
        max_age=course.max_age,
        min_education=course.min_education,
        requires_license=course.requires_license,
        policies=applicable_policies(course.level, codes, policies),
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


def age_bounds(person: Person, today: date) -> tuple[int | None, int | None]:
    """Bounds of the person's age (no birth date is asked): called up at 18 at the youngest and
    27 at the oldest, plus the years since their enlistment month."""
    if person.enlistment_month is None:
        return None, None
    years = max(0, (today - person.enlistment_month).days // 365)
    return ENLISTMENT_AGE + years, LATEST_ENLISTMENT_AGE + years + 1


def interest_code(quiz: Sequence[tuple[str, str | None]], trades: TradeCatalog) -> str | None:
    """The person's interest letters without storing the quiz: the code the survey keeps with a
    quiz-chosen trade (``quiz:RC``), else the letters of the quiz-chosen trades in order."""
    for _, raw in quiz:
        code = (raw or "").removeprefix(QUIZ_PREFIX).strip().upper()
        if raw and raw.startswith(QUIZ_PREFIX) and code and set(code) <= set(RIASEC):
            return code[:3]
    letters = ""
    for trade_code, _ in quiz:
        trade = trades.get(trade_code)
        for letter in trade.riasec if trade else "":
            if letter not in letters:
                letters += letter
    return letters[:3] or None


def licences_from(finished: Sequence[str]) -> frozenset[str]:
    """Licence classes held, from finished driving courses (a class covers the smaller ones)."""
    held = (DRIVING_LICENCES[t] for t in finished if t in DRIVING_LICENCES)
    return frozenset(c for licence in held for c in LICENCE_COVERS[licence])


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
    quiz = await repo.quiz_choices(session, person.id)
    lo, hi = age_bounds(person, today)

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
        min_age=lo,
        max_age=hi,
        interest_code=interest_code(quiz, trade_catalog()),
        groups=frozenset({BRANCH_GROUPS[person.branch]} if person.branch in BRANCH_GROUPS else ()),
        licences=licences_from(finished),
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
    policies = [policy_item(p) for p in await repo.support_policies(session)]
    courses = tuple(
        course_item(c, name, policies) for c, name in await repo.open_courses(session, today)
    )
    fairs = tuple(fair_item(f, tz) for f in await repo.upcoming_fairs(session, since))
    vacancies = tuple(vacancy_item(v, n) for v, n in await repo.open_vacancies(session, today))
    return Catalog(courses, fairs, vacancies)


@dataclass(frozen=True)
class Ranking:
    """A person's ranking with what it was made from (``xuatngu match`` shows all three)."""

    profile: Profile
    catalog: Catalog
    matches: list[Match]


async def ranking_for(
    session: AsyncSession,
    person: Person,
    *,
    kind: ItemKind | None,
    today: date,
    tz: ZoneInfo,
    limit: int = 3,
) -> Ranking:
    """The person's profile, the open catalog and their best ``limit`` items of ``kind``."""
    profile = await profile_for(session, person, today)
    catalog = await open_catalog(session, today, tz)
    return Ranking(profile, catalog, ranker().rank(profile, catalog.of(kind), today, limit))


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
    ranking = await ranking_for(session, person, kind=kind, today=today, tz=tz, limit=limit)
    return ranking.matches
