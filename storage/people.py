"""Repository functions for people and the bot's bookkeeping; they never commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
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


async def create_person(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int, language: str, source: str | None
) -> Person:
    """Insert a person (no names or profile yet: those come after consent)."""
    person = Person(
        telegram_user_id=telegram_user_id, chat_id=chat_id, language=language, source=source
    )
    session.add(person)
    await session.flush()
    return person


async def delete_person(session: AsyncSession, person: Person) -> None:
    """Delete a person and, by cascade, their answers, preferences, outcomes and sends."""
    await session.execute(delete(Person).where(Person.id == person.id))


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
