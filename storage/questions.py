"""Repository for the questions inbox (``/ask``); functions never commit.

Which questions an admin principal sees is a condition on ``Person`` given by the caller
(``admin/scope.py``); this module only joins the asker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person
from storage.models.questions import Question

Show = Literal["open", "answered", "all"]


async def add_question(
    session: AsyncSession, *, person_id: int, text: str, faq_declined: str | None
) -> Question:
    """Store a new open question (flushed, so it has its id)."""
    question = Question(person_id=person_id, text=text, faq_declined=faq_declined)
    session.add(question)
    await session.flush()
    return question


async def count_open_of(session: AsyncSession, person_id: int) -> int:
    """How many questions of one person wait for an answer."""
    stmt = select(func.count()).where(
        Question.person_id == person_id, Question.answered_at.is_(None)
    )
    return int(await session.scalar(stmt) or 0)


async def set_group_message(
    session: AsyncSession, question_id: int, *, chat_id: int, message_id: int
) -> None:
    """Remember the copy forwarded to the counsellors' group (replies to it answer)."""
    await session.execute(
        update(Question)
        .where(Question.id == question_id)
        .values(group_chat_id=chat_id, group_message_id=message_id)
    )


async def by_group_message(
    session: AsyncSession, *, chat_id: int, message_id: int
) -> Question | None:
    """The question whose forwarded copy is this group message."""
    stmt = select(Question).where(
        Question.group_chat_id == chat_id, Question.group_message_id == message_id
    )
    return await session.scalar(stmt)


async def claim_reply(
    session: AsyncSession, question_id: int, *, text: str, by: str, at: datetime
) -> bool:
    """Mark an open question as being answered (``sending``); False when it is not open."""
    result = await session.execute(
        update(Question)
        .where(Question.id == question_id, Question.answered_at.is_(None))
        .values(answer_text=text, answered_by=by, answered_at=at, reply_status="sending")
    )
    return bool(getattr(result, "rowcount", 0))


async def set_reply_status(session: AsyncSession, question_id: int, status: str) -> None:
    """The result of sending the reply; ``failed`` opens the question again."""
    values: dict[str, object] = {"reply_status": status}
    if status == "failed":
        values["answered_at"] = None
    await session.execute(update(Question).where(Question.id == question_id).values(values))


def _listed(
    scope: ColumnElement[bool], show: Show, overdue_before: datetime | None
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [scope]
    if show == "open" or overdue_before is not None:
        conds.append(Question.answered_at.is_(None))
    elif show == "answered":
        conds.append(Question.answered_at.is_not(None))
    if overdue_before is not None:
        conds.append(Question.asked_at < overdue_before)
    return conds


async def list_questions(
    session: AsyncSession,
    scope: ColumnElement[bool],
    *,
    show: Show = "open",
    overdue_before: datetime | None = None,
    limit: int = 200,
) -> list[tuple[Question, Person]]:
    """Questions with their askers: open ones first, oldest first; answered ones newest first."""
    stmt = (
        select(Question, Person)
        .join(Person, Person.id == Question.person_id)
        .where(*_listed(scope, show, overdue_before))
        .order_by(
            Question.answered_at.is_not(None),
            Question.answered_at.desc(),
            Question.asked_at,
            Question.id,
        )
        .limit(limit)
    )
    return [(q, p) for q, p in (await session.execute(stmt)).all()]


async def get_question(
    session: AsyncSession, question_id: int, scope: ColumnElement[bool]
) -> tuple[Question, Person] | None:
    """One question and its asker, if ``scope`` lets the caller see the asker."""
    stmt = (
        select(Question, Person)
        .join(Person, Person.id == Question.person_id)
        .where(Question.id == question_id, scope)
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row else None


async def count_overdue(session: AsyncSession, scope: ColumnElement[bool], before: datetime) -> int:
    """Open questions asked before ``before`` whose askers ``scope`` selects."""
    stmt = (
        select(func.count())
        .select_from(Question)
        .join(Person, Person.id == Question.person_id)
        .where(*_listed(scope, "open", before))
    )
    return int(await session.scalar(stmt) or 0)
