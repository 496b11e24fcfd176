"""Repository functions for survey responses, answers and trade preferences; they never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_name, insert_for, update_by_id
from storage.models import Answer, Person, SurveyResponse, TradePreference
from storage.models.base import utcnow

_RESPONSES = cast(Table, SurveyResponse.__table__)
_ANSWERS = cast(Table, Answer.__table__)


def _latest_response_id(person_id: Any) -> Any:
    """The id of a person's latest response (a scalar subquery; correlated to ``people``)."""
    return (
        select(func.max(_RESPONSES.c.id))
        .where(_RESPONSES.c.person_id == person_id)
        .correlate(Person)
        .scalar_subquery()
    )


# hot statements, built once: the survey state is Core rows (no ORM identity work)
_STATE_COLUMNS = (
    _RESPONSES.c.id,
    _RESPONSES.c.survey_version,
    _RESPONSES.c.completed_at,
    _ANSWERS.c.question_id,
    _ANSWERS.c.value,
)
_LATEST_WITH_ANSWERS = (
    select(*_STATE_COLUMNS)
    .select_from(_RESPONSES.outerjoin(_ANSWERS, _ANSWERS.c.response_id == _RESPONSES.c.id))
    .where(_RESPONSES.c.id == _latest_response_id(bindparam("person_id")))
)
_PERSON_WITH_LATEST = (
    select(Person, *_STATE_COLUMNS)
    .outerjoin(_RESPONSES, _RESPONSES.c.id == _latest_response_id(Person.id))
    .outerjoin(_ANSWERS, _ANSWERS.c.response_id == _RESPONSES.c.id)
    .where(Person.telegram_user_id == bindparam("tg_id"))
)


@dataclass
class ResponseRecord:
    """The current survey response of a person, as the survey flow needs it."""

    id: int
    survey_version: str
    completed_at: datetime | None


def _state(rows: Sequence[Any], at: int) -> tuple[ResponseRecord | None, dict[str, Any]]:
    """The response and its answers from rows holding ``_STATE_COLUMNS`` from column ``at``."""
    if not rows or rows[0][at] is None:
        return None, {}
    response = ResponseRecord(*rows[0][at : at + 3])
    return response, {row[at + 3]: row[at + 4] for row in rows if row[at + 3] is not None}


@cache
def _answer_upsert(dialect_name: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE of one answer (one statement per dialect)."""
    table = Answer.__table__
    stmt = insert_for(dialect_name, table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.response_id, table.c.question_id],
        set_={
            "value": stmt.excluded.value,
            "raw_text": stmt.excluded.raw_text,
            "survey_version": stmt.excluded.survey_version,
            "answered_at": stmt.excluded.answered_at,
            "changed_count": table.c.changed_count + 1,
        },
    )


async def latest_with_answers(
    session: AsyncSession, person: Person
) -> tuple[ResponseRecord | None, dict[str, Any]]:
    """The latest response and its answers (question id → value), in one query."""
    rows = (await session.execute(_LATEST_WITH_ANSWERS, {"person_id": person.id})).all()
    return _state(rows, 0)


async def person_with_latest(
    session: AsyncSession, telegram_user_id: int
) -> tuple[Person | None, ResponseRecord | None, dict[str, Any]]:
    """A person, their latest response and its answers, in one query (for survey updates)."""
    rows = (await session.execute(_PERSON_WITH_LATEST, {"tg_id": telegram_user_id})).all()
    if not rows:
        return None, None, {}
    return (rows[0][0], *_state(rows, 1))


async def create_response(session: AsyncSession, person: Person, version: str) -> ResponseRecord:
    response = SurveyResponse(person_id=person.id, survey_version=version)
    session.add(response)
    await session.flush()
    return ResponseRecord(response.id, response.survey_version, response.completed_at)


async def update_response(session: AsyncSession, response: ResponseRecord, **values: Any) -> None:
    """Write some columns of the response now (and onto the record)."""
    for column, value in (await update_by_id(session, _RESPONSES, response.id, values)).items():
        if hasattr(response, column):
            setattr(response, column, value)


async def upsert_answer(
    session: AsyncSession,
    response: ResponseRecord,
    *,
    question_id: str,
    value: Any,
    raw_text: str | None,
    version: str,
) -> None:
    """Store (or replace) one answer in one statement, with the survey version it answered."""
    params = {
        "response_id": response.id,
        "question_id": question_id,
        "value": value,
        "raw_text": raw_text,
        "survey_version": version,
        "answered_at": utcnow(),
        "changed_count": 0,
    }
    await session.execute(_answer_upsert(dialect_name(session)), params)
    if response.survey_version != version:
        await update_response(session, response, survey_version=version)


async def delete_answers(session: AsyncSession, response: ResponseRecord, ids: list[str]) -> None:
    if ids:
        await session.execute(
            delete(Answer).where(Answer.response_id == response.id, Answer.question_id.in_(ids))
        )


async def replace_preferences(
    session: AsyncSession, person: Person, response: ResponseRecord, entries: list[dict[str, Any]]
) -> None:
    """Replace the person's ranked trade preferences (rank, code, raw, score, source)."""
    await session.execute(delete(TradePreference).where(TradePreference.person_id == person.id))
    for entry in entries:
        session.add(
            TradePreference(
                person_id=person.id,
                response_id=response.id,
                rank=int(entry["rank"]),
                trade_code=str(entry["code"]),
                raw_text=entry.get("raw"),
                score=entry.get("score"),
                source=str(entry.get("source") or "typed"),
            )
        )
    await session.flush()
