"""Repository functions for survey responses, answers and trade preferences; they never commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Person, SurveyResponse, TradePreference
from storage.models.base import utcnow


async def latest_response(session: AsyncSession, person: Person) -> SurveyResponse | None:
    """The person's current (latest) survey response."""
    return await session.scalar(
        select(SurveyResponse)
        .where(SurveyResponse.person_id == person.id)
        .order_by(SurveyResponse.id.desc())
        .limit(1)
    )


async def create_response(session: AsyncSession, person: Person, version: str) -> SurveyResponse:
    response = SurveyResponse(person_id=person.id, survey_version=version)
    session.add(response)
    await session.flush()
    return response


async def answers_of(session: AsyncSession, response: SurveyResponse) -> dict[str, Any]:
    """question id → stored value."""
    rows = await session.execute(
        select(Answer.question_id, Answer.value).where(Answer.response_id == response.id)
    )
    return dict(rows.all())


async def upsert_answer(
    session: AsyncSession,
    response: SurveyResponse,
    *,
    question_id: str,
    value: Any,
    raw_text: str | None,
    version: str,
) -> None:
    """Store (or replace) one answer; the version of the survey it answered is kept with it."""
    answer = await session.scalar(
        select(Answer).where(Answer.response_id == response.id, Answer.question_id == question_id)
    )
    now = utcnow()
    if answer is None:
        session.add(
            Answer(
                response_id=response.id,
                question_id=question_id,
                value=value,
                raw_text=raw_text,
                survey_version=version,
                answered_at=now,
            )
        )
    else:
        answer.value = value
        answer.raw_text = raw_text
        answer.survey_version = version
        answer.answered_at = now
        answer.changed_count += 1
    response.survey_version = version
    response.updated_at = now
    await session.flush()


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
