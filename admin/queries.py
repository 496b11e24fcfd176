"""Read-side queries of the admin pages and API, always under a principal's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from admin.auth import Principal
from admin.scope import people_filter
from bot.survey.parsing import parse_phone
from storage.models.admin import AdminUser, CallbackRequest
from storage.models.core import Answer, Person, SurveyResponse, TradePreference
from storage.models.timeline import Outcome

PAGE_SIZE = 25
YES_JSON = ('"yes"', "true")


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


async def count_people(db: AsyncSession, *conds: ColumnElement[bool]) -> int:
    """How many people meet the conditions."""
    return int(await db.scalar(select(func.count()).select_from(Person).where(*conds)) or 0)


async def list_people(
    db: AsyncSession, principal: Principal, pq: PeopleQuery
) -> tuple[list[Person], int]:
    """One page of people (newest first) and the total count."""
    conds = people_conditions(principal, pq)
    total = await count_people(db, *conds)
    size = max(1, min(pq.page_size, 200))
    stmt = (
        select(Person)
        .where(*conds)
        .order_by(Person.id.desc())
        .offset((max(pq.page, 1) - 1) * size)
        .limit(size)
    )
    return list((await db.scalars(stmt)).all()), total


def _phone_key(phone: str) -> str:
    """A phone as compared for duplicates: normalised (``+84…``) when it is a Vietnamese mobile."""
    return parse_phone(phone) or phone.strip()


def _phone_forms(phone: str) -> set[str]:
    """The ways one number may be stored: as given, normalised, national and bare."""
    key = _phone_key(phone)
    forms = {phone, key}
    if key.startswith("+84"):
        forms |= {"0" + key[3:], key[1:], key[3:]}
    return forms


async def shared_phones(
    db: AsyncSession, principal: Principal, people: list[Person]
) -> dict[int, int]:
    """For each of ``people`` whose phone (normalised) is also another person's, how many people
    in the principal's scope share that number (themselves included)."""
    phones = {p.phone for p in people if p.phone}
    if not phones:
        return {}
    forms = set().union(*(_phone_forms(ph) for ph in phones))
    stmt = select(Person.phone).where(people_filter(principal), Person.phone.in_(sorted(forms)))
    counts: dict[str, int] = {}
    for phone in (await db.scalars(stmt)).all():
        key = _phone_key(phone or "")
        counts[key] = counts.get(key, 0) + 1
    out: dict[int, int] = {}
    for p in people:
        n = counts.get(_phone_key(p.phone or ""), 0)
        if n > 1:
            out[p.id] = n
    return out


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


def wants_call_ids() -> Any:
    """Person ids whose latest survey response answers ``wants_call`` with yes and who left a
    phone number (without one nobody can call: such a wish is not a call-back request)."""
    newer = aliased(SurveyResponse)
    latest = (
        select(func.max(newer.id))
        .where(newer.person_id == SurveyResponse.person_id)
        .scalar_subquery()
    )
    return (
        select(SurveyResponse.person_id)
        .join(Answer, Answer.response_id == SurveyResponse.id)
        .join(Person, Person.id == SurveyResponse.person_id)
        .where(
            Answer.question_id == "wants_call",
            cast(Answer.value, String).in_(YES_JSON),
            SurveyResponse.id == latest,
            Person.phone.is_not(None),
        )
    )


def callback_conditions(principal: Principal) -> list[ColumnElement[bool]]:
    """Which call-back requests the principal sees (counsellors: theirs and unassigned)."""
    conds: list[ColumnElement[bool]] = [Person.id.in_(wants_call_ids())]
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
