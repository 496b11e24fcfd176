"""Queries behind an institution's month-18 list, its intakes' interest and the enrolments it
records; repository functions never commit.

Who may appear is decided above (``bot/reporting/institution_lists.py``): callers pass the
conditions on ``Person`` (consent, month 18, trades…) as ``conds``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Person, SurveyResponse, TradePreference
from storage.models.catalog import Course, Enrolment, Institution, ItemResponse

WISH_QUESTIONS = ("training_level", "training_place")


def _latest_answer(question_id: str) -> Any:
    """The person's answer to ``question_id`` in their latest survey response (a column)."""
    latest = (
        select(func.max(SurveyResponse.id))
        .where(SurveyResponse.person_id == Person.id)
        .correlate(Person)
        .scalar_subquery()
    )
    return (
        select(Answer.value)
        .where(Answer.response_id == latest, Answer.question_id == question_id)
        .correlate(Person)
        .scalar_subquery()
        .label(question_id)
    )


def _list_select(institution_id: int) -> Any:
    """People with their contact, wishes and their enrolment with the institution (if any)."""
    return select(
        Person.id,
        Person.full_name,
        Person.phone,
        Person.discharge_month,
        Person.home_commune_code,
        *(_latest_answer(q) for q in WISH_QUESTIONS),
        Enrolment.status,
        Enrolment.status_date,
        Enrolment.course_id,
        Enrolment.note,
        Enrolment.updated_by,
    ).outerjoin(
        Enrolment,
        (Enrolment.person_id == Person.id) & (Enrolment.institution_id == institution_id),
    )


async def list_rows(
    session: AsyncSession, institution_id: int, conds: Sequence[ColumnElement[bool]]
) -> Sequence[Any]:
    """The people matching ``conds`` with their enrolment at the institution, by name."""
    stmt = _list_select(institution_id).where(*conds).order_by(Person.full_name, Person.id)
    return (await session.execute(stmt)).all()


async def interested_rows(
    session: AsyncSession, institution_id: int, course_id: int, conds: Sequence[Any]
) -> Sequence[Any]:
    """People (matching ``conds``) who registered interest in the course, by name."""
    interested = select(ItemResponse.person_id).where(
        ItemResponse.item_kind == "course",
        ItemResponse.item_id == course_id,
        ItemResponse.response == "interested",
    )
    stmt = (
        _list_select(institution_id)
        .where(*conds, Person.id.in_(interested))
        .order_by(Person.full_name, Person.id)
    )
    return (await session.execute(stmt)).all()


async def trade_ranks(
    session: AsyncSession, person_ids: Sequence[int], trades: Sequence[str]
) -> dict[int, list[tuple[int, str]]]:
    """Each person's choices among ``trades``: (rank, trade code), best first."""
    stmt = (
        select(TradePreference.person_id, TradePreference.rank, TradePreference.trade_code)
        .where(TradePreference.person_id.in_(list(person_ids)))
        .where(TradePreference.trade_code.in_(list(trades)))
        .order_by(TradePreference.person_id, TradePreference.rank)
    )
    out: dict[int, list[tuple[int, str]]] = {}
    for pid, rank, code in await session.execute(stmt):
        out.setdefault(pid, []).append((rank, code))
    return out


async def count_by_status(
    session: AsyncSession, institution_id: int, conds: Sequence[ColumnElement[bool]]
) -> dict[str, int]:
    """How many people matching ``conds`` stand at each step (no row yet: ``listed``)."""
    step = func.coalesce(Enrolment.status, "listed")
    stmt = (
        select(step, func.count())
        .select_from(Person)
        .outerjoin(
            Enrolment,
            (Enrolment.person_id == Person.id) & (Enrolment.institution_id == institution_id),
        )
        .where(*conds)
        .group_by(step)
    )
    return {str(status): int(n) for status, n in await session.execute(stmt)}


async def interest_counts(
    session: AsyncSession, course_ids: Sequence[int], conds: Sequence[ColumnElement[bool]]
) -> dict[int, int]:
    """People (matching ``conds``) interested in each course."""
    stmt = (
        select(ItemResponse.item_id, func.count())
        .join(Person, Person.id == ItemResponse.person_id)
        .where(
            ItemResponse.item_kind == "course",
            ItemResponse.item_id.in_(list(course_ids)),
            ItemResponse.response == "interested",
            *conds,
        )
        .group_by(ItemResponse.item_id)
    )
    return {int(cid): int(n) for cid, n in await session.execute(stmt)}


async def is_listed(
    session: AsyncSession, person_id: int, conds: Sequence[ColumnElement[bool]]
) -> bool:
    """Whether the person matches ``conds``."""
    stmt = select(Person.id).where(Person.id == person_id, *conds)
    return (await session.scalar(stmt)) is not None


async def is_interested(
    session: AsyncSession,
    person_id: int,
    course_ids: Sequence[int],
    conds: Sequence[ColumnElement[bool]],
) -> bool:
    """Whether the person (matching ``conds``) registered interest in one of the courses."""
    stmt = (
        select(ItemResponse.id)
        .join(Person, Person.id == ItemResponse.person_id)
        .where(
            ItemResponse.person_id == person_id,
            ItemResponse.item_kind == "course",
            ItemResponse.item_id.in_(list(course_ids)),
            ItemResponse.response == "interested",
            *conds,
        )
        .limit(1)
    )
    return (await session.scalar(stmt)) is not None


async def institutions(session: AsyncSession) -> Sequence[Institution]:
    """Every institution, by name."""
    return (await session.scalars(select(Institution).order_by(Institution.name))).all()


async def courses_of(session: AsyncSession, institution_id: int) -> Sequence[Course]:
    """The institution's intakes that were ever shown (not drafts), newest start first."""
    stmt = (
        select(Course)
        .where(Course.institution_id == institution_id, Course.status != "draft")
        .order_by(Course.start_date.desc(), Course.id.desc())
    )
    return (await session.scalars(stmt)).all()


async def enrolment(session: AsyncSession, person_id: int, institution_id: int) -> Enrolment | None:
    """The person's row with the institution, if any."""
    stmt = select(Enrolment).where(
        Enrolment.person_id == person_id, Enrolment.institution_id == institution_id
    )
    return await session.scalar(stmt)


def new_enrolment(session: AsyncSession, person_id: int, institution_id: int) -> Enrolment:
    """A ``listed`` row for the person with the institution (added to the session)."""
    row = Enrolment(person_id=person_id, institution_id=institution_id, status="listed")
    session.add(row)
    return row


async def set_enrolment(
    session: AsyncSession,
    row: Enrolment,
    *,
    status: str,
    status_date: date,
    course_id: int | None,
    note: str | None,
    updated_by: str,
) -> None:
    """Move the row to a new step (flushed)."""
    row.status = status
    row.status_date = status_date
    if course_id is not None:
        row.course_id = course_id
    if note is not None:
        row.note = note
    row.updated_by = updated_by
    await session.flush()
