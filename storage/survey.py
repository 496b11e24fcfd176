"""Repository functions for survey responses, answers and trade preferences; they never commit."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_for
from storage.models import Answer, Person, SurveyResponse, TradePreference
from storage.models.base import utcnow

# hot statements, built once: no per-update construction or cache-key work
_LATEST_RESPONSE = (
    select(func.max(SurveyResponse.id))
    .where(SurveyResponse.person_id == bindparam("person_id"))
    .scalar_subquery()
)
_LATEST_WITH_ANSWERS = (
    select(SurveyResponse, Answer.question_id, Answer.value)
    .outerjoin(Answer, Answer.response_id == SurveyResponse.id)
    .where(SurveyResponse.id == _LATEST_RESPONSE)
)


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
) -> tuple[SurveyResponse | None, dict[str, Any]]:
    """The latest response and its answers (question id → value), in one query."""
    rows = (await session.execute(_LATEST_WITH_ANSWERS, {"person_id": person.id})).all()
    if not rows:
        return None, {}
    return rows[0][0], {qid: value for _, qid, value in rows if qid is not None}


async def create_response(session: AsyncSession, person: Person, version: str) -> SurveyResponse:
    response = SurveyResponse(person_id=person.id, survey_version=version)
    session.add(response)
    await session.flush()
    return response


async def upsert_answer(
    session: AsyncSession,
    response: SurveyResponse,
    *,
    question_id: str,
    value: Any,
    raw_text: str | None,
    version: str,
) -> None:
    """Store (or replace) one answer in one statement, with the survey version it answered."""
    conn = await session.connection()
    params = {
        "response_id": response.id,
        "question_id": question_id,
        "value": value,
        "raw_text": raw_text,
        "survey_version": version,
        "answered_at": utcnow(),
        "changed_count": 0,
    }
    await conn.execute(_answer_upsert(conn.dialect.name), params)
    if response.survey_version != version:
        response.survey_version = version


async def delete_answers(session: AsyncSession, response: SurveyResponse, ids: list[str]) -> None:
    if ids:
        await session.execute(
            delete(Answer).where(Answer.response_id == response.id, Answer.question_id.in_(ids))
        )


async def replace_preferences(
    session: AsyncSession, person: Person, response: SurveyResponse, entries: list[dict[str, Any]]
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
