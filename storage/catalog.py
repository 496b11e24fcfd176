"""Every SQL query on the catalog (institutions, courses, fairs, vacancies) and on what people
said about its items; repository functions never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Answer, Person, SurveyResponse, TradePreference
from storage.models.catalog import (
    Course,
    Employer,
    Enrolment,
    Institution,
    ItemResponse,
    JobFair,
    SupportPolicy,
    Vacancy,
)
from storage.models.timeline import Outcome

PROFILE_QUESTIONS = ("education", "training_level", "training_place", "work_preference")


async def open_courses(session: AsyncSession, today: date) -> Sequence[tuple[Course, str]]:
    """Open courses not past their start or deadline, with their institution's name."""
    stmt = (
        select(Course, Institution.name)
        .join(Institution, Institution.id == Course.institution_id)
        .where(
            Course.status == "open",
            or_(Course.start_date.is_(None), Course.start_date >= today),
            or_(Course.enrol_deadline.is_(None), Course.enrol_deadline >= today),
        )
        .order_by(Course.id)
    )
    return [(c, name) for c, name in (await session.execute(stmt)).all()]


async def upcoming_fairs(session: AsyncSession, since: datetime) -> Sequence[JobFair]:
    """Published fairs starting at or after ``since`` (UTC)."""
    stmt = (
        select(JobFair)
        .where(JobFair.status == "published", JobFair.starts_at >= since)
        .order_by(JobFair.starts_at, JobFair.id)
    )
    return (await session.scalars(stmt)).all()


async def open_vacancies(session: AsyncSession, today: date) -> Sequence[tuple[Vacancy, str]]:
    """Open vacancies still valid, with their employer's name."""
    stmt = (
        select(Vacancy, Employer.name)
        .join(Employer, Employer.id == Vacancy.employer_id)
        .where(Vacancy.status == "open", or_(Vacancy.valid_to.is_(None), Vacancy.valid_to >= today))
        .order_by(Vacancy.id)
    )
    return [(v, name) for v, name in (await session.execute(stmt)).all()]


async def profile_answers(session: AsyncSession, person_id: int) -> dict[str, Any]:
    """The person's latest answers to the questions ranking uses (question id → value)."""
    latest = (
        select(func.max(SurveyResponse.id))
        .where(SurveyResponse.person_id == person_id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Answer.question_id, Answer.value).where(
            Answer.response_id == latest, Answer.question_id.in_(PROFILE_QUESTIONS)
        )
    )
    return {str(qid): value for qid, value in rows.all()}


async def trade_choices(session: AsyncSession, person_id: int) -> list[str]:
    """The person's ranked trade codes."""
    rows = await session.scalars(
        select(TradePreference.trade_code)
        .where(TradePreference.person_id == person_id)
        .order_by(TradePreference.rank)
    )
    return list(rows.all())


async def quiz_choices(session: AsyncSession, person_id: int) -> list[tuple[str, str | None]]:
    """The person's trade choices that came from the interest quiz: (trade code, raw text, which
    the survey writes as ``quiz:`` and the quiz's interest code)."""
    rows = await session.execute(
        select(TradePreference.trade_code, TradePreference.raw_text)
        .where(TradePreference.person_id == person_id, TradePreference.source == "quiz")
        .order_by(TradePreference.rank)
    )
    return [(code, raw) for code, raw in rows.all()]


async def support_policies(session: AsyncSession) -> Sequence[SupportPolicy]:
    """Every support policy (whether one applies is decided per course and person)."""
    return (await session.scalars(select(SupportPolicy).order_by(SupportPolicy.id))).all()


async def person_by_telegram_id(session: AsyncSession, telegram_user_id: int) -> Person | None:
    """A live person by their Telegram user id."""
    person = await session.scalar(
        select(Person).where(
            Person.telegram_user_id == telegram_user_id, Person.erased_at.is_(None)
        )
    )
    return person


async def people_by_phone(session: AsyncSession, phone: str) -> Sequence[Person]:
    """Live people with this stored phone (``+84…``)."""
    stmt = select(Person).where(Person.phone == phone, Person.erased_at.is_(None))
    return (await session.scalars(stmt.order_by(Person.id))).all()


async def responses_of(session: AsyncSession, person_id: int) -> dict[tuple[str, int], str]:
    """What the person said about items: (kind, id) → response."""
    rows = await session.execute(
        select(ItemResponse.item_kind, ItemResponse.item_id, ItemResponse.response).where(
            ItemResponse.person_id == person_id
        )
    )
    return {(kind, item_id): response for kind, item_id, response in rows.all()}


async def set_response(
    session: AsyncSession, person_id: int, kind: str, item_id: int, response: str, at: datetime
) -> None:
    """Record (or change) what the person said about one item."""
    insert = dialect_insert(session, ItemResponse).values(
        person_id=person_id, item_kind=kind, item_id=item_id, response=response, at=at
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["person_id", "item_kind", "item_id"],
            set_={"response": response, "at": at},
        )
    )


async def finished_trades(session: AsyncSession, person_id: int) -> list[str]:
    """Trades of courses the person finished (an institution's record or their own outcome)."""
    via_enrolment = (
        select(Course.trade_code)
        .join(Enrolment, Enrolment.course_id == Course.id)
        .where(Enrolment.person_id == person_id, Enrolment.status == "finished")
    )
    via_outcome = select(Outcome.trade_code).where(
        and_(
            Outcome.person_id == person_id,
            Outcome.status == "finished_training",
            Outcome.trade_code.is_not(None),
        )
    )
    rows = await session.scalars(via_enrolment.union(via_outcome))
    return [r for r in rows.all() if r]


async def person_by_id(session: AsyncSession, person_id: int) -> Person | None:
    """A live (not erased) person by id."""
    person = await session.get(Person, person_id)
    return None if person is None or person.erased_at is not None else person
