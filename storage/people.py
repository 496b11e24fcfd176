"""Repository functions for people and the bot's bookkeeping; they never commit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.dialect import dialect_insert, update_by_id
from storage.models import AnonymousCount, Person

# hot statements, built once: no per-update construction or cache-key work
_PEOPLE = cast(Table, Person.__table__)
_PERSON_BY_TELEGRAM_ID = select(Person).where(Person.telegram_user_id == bindparam("tg_id"))


async def get_person(session: AsyncSession, *, telegram_user_id: int) -> Person | None:
    """The person with this Telegram id, erased or not."""
    return await session.scalar(_PERSON_BY_TELEGRAM_ID, {"tg_id": telegram_user_id})


async def write_person(session: AsyncSession, person: Person, **values: Any) -> None:
    """Write some columns of a loaded person now, in one UPDATE, and keep the object in step.

    The survey's hot path: one statement instead of a unit-of-work flush at commit. The
    object's attributes are set as committed values, so the session does not write them again.
    """
    for column, value in (await update_by_id(session, _PEOPLE, person.id, values)).items():
        set_committed_value(person, column, value)


def new_person(*, telegram_user_id: int, chat_id: int, language: str, source: str | None) -> Person:
    """A person not in the database (nor in any session) until :func:`store_person`."""
    return Person(
        telegram_user_id=telegram_user_id, chat_id=chat_id, language=language, source=source
    )


def is_stored(person: Person) -> bool:
    """True when the person has a row (loaded from or flushed to the database)."""
    return bool(inspect(person).has_identity)


async def store_person(session: AsyncSession, person: Person) -> None:
    """Insert a person made by :func:`new_person` (flushed: its id is known)."""
    session.add(person)
    await session.flush()


async def delete_person(session: AsyncSession, person: Person) -> bool:
    """Delete a person and, by cascade, their answers, preferences, outcomes and sends.

    False when there was no such row (already deleted, e.g. by an earlier tap).
    """
    result = await session.execute(delete(Person).where(Person.id == person.id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def expired_people(
    session: AsyncSession, *, discharged_before: date, contact_before: datetime, limit: int
) -> list[tuple[int, int]]:
    """``(id, telegram_user_id)`` of people past retention: discharged before
    ``discharged_before``, or, with no discharge month, not heard from since ``contact_before``."""
    last_contact = func.coalesce(Person.last_contact_at, Person.created_at)
    rows = await session.execute(
        select(Person.id, Person.telegram_user_id)
        .where(
            or_(
                Person.discharge_month < discharged_before,
                and_(Person.discharge_month.is_(None), last_contact < contact_before),
            )
        )
        .order_by(Person.id)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in rows]


async def delete_people(session: AsyncSession, ids: list[int]) -> int:
    """Delete people by id (with everything that cascades); how many rows went."""
    if not ids:
        return 0
    result = await session.execute(delete(Person).where(Person.id.in_(ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def mark_blocked(session: AsyncSession, *, chat_id: int, when: datetime) -> None:
    """The user blocked the bot: nothing more is sent to them until they write again."""
    await session.execute(
        update(Person)
        .where(Person.chat_id == chat_id, Person.blocked_at.is_(None))
        .values(blocked_at=when)
    )


async def bump_count(session: AsyncSession, key: str, by: int = 1) -> None:
    """Increment an anonymous counter."""
    stmt = dialect_insert(session, AnonymousCount).values(key=key, count=by)
    stmt = stmt.on_conflict_do_update(
        index_elements=[AnonymousCount.key], set_={"count": AnonymousCount.count + by}
    )
    await session.execute(stmt)


async def get_count(session: AsyncSession, key: str) -> int:
    return int(
        await session.scalar(select(AnonymousCount.count).where(AnonymousCount.key == key)) or 0
    )
