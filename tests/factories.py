"""Test data factories: people with consent, answers and trade choices (flushed, not committed)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Person, SurveyResponse, TradePreference

_ids = itertools.count(900_000_001)
SURVEY_VERSION = "test"
DEFAULT_COMPLETED_AT = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)  # 15/01/2026 10:00 local


def next_telegram_id() -> int:
    """A fresh Telegram user id (unique within a test run)."""
    return next(_ids)


async def make_person(
    session: AsyncSession,
    *,
    telegram_user_id: int | None = None,
    full_name: str | None = "Nguyễn Văn Ánh",
    phone: str | None = "+84912345678",
    branch: str | None = "army",
    enlistment_month: date | None = date(2024, 2, 1),
    discharge_month: date | None = date(2026, 2, 1),
    commune_code: str | None = "6187",
    trades: Sequence[str] = ("han_dien",),
    trade_raw: Sequence[str | None] | None = None,
    completed: bool = True,
    completed_at: datetime | None = None,
    consent: bool = True,
    consent_sharing: bool = False,
    erased: bool = False,
    answers: Mapping[str, Any] | None = None,
    language: str = "vi",
    source: str | None = None,
) -> Person:
    """A person with a survey response, its answers and up to three ranked trade choices.

    ``trades`` are trade codes in rank order; ``trade_raw`` the matching typed text (default:
    the code). ``completed_at`` defaults to DEFAULT_COMPLETED_AT when ``completed``.
    """
    now = datetime.now(UTC)
    done_at = (completed_at or DEFAULT_COMPLETED_AT) if completed else None
    tg_id = telegram_user_id if telegram_user_id is not None else next_telegram_id()
    person = Person(
        telegram_user_id=tg_id,
        chat_id=tg_id,
        language=language,
        source=source,
        consent_at=now if consent else None,
        consent_version="1" if consent else None,
        consent_sharing=consent_sharing,
        erased_at=now if erased else None,
        full_name=full_name,
        phone=phone,
        branch=branch,
        enlistment_month=enlistment_month,
        discharge_month=discharge_month,
        home_commune_code=commune_code,
        survey_completed_at=done_at,
    )
    session.add(person)
    await session.flush()
    response = await add_response(session, person, answers or {}, completed_at=done_at)
    raws = list(trade_raw) if trade_raw is not None else list(trades)
    for rank, code in enumerate(trades[:3], start=1):
        raw = raws[rank - 1] if rank - 1 < len(raws) else code
        session.add(
            TradePreference(
                person_id=person.id,
                response_id=response.id,
                rank=rank,
                trade_code=code,
                raw_text=raw,
                source="typed",
            )
        )
    await session.flush()
    return person


async def add_response(
    session: AsyncSession,
    person: Person,
    answers: Mapping[str, Any],
    *,
    completed_at: datetime | None = None,
) -> SurveyResponse:
    """A new (latest) survey response for ``person`` holding ``answers`` (question id → value)."""
    response = SurveyResponse(
        person_id=person.id, survey_version=SURVEY_VERSION, completed_at=completed_at
    )
    session.add(response)
    await session.flush()
    for question_id, value in answers.items():
        session.add(
            Answer(
                response_id=response.id,
                question_id=question_id,
                value=value,
                raw_text=str(value),
                survey_version=SURVEY_VERSION,
            )
        )
    await session.flush()
    return response
