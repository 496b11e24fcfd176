"""Who a broadcast reaches: a :class:`Segment` as SQL conditions on ``Person``, the recipient
count, and the one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` that fills the outbox."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, literal, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.dialect import dialect_insert
from storage.models import Answer, Person, SurveyResponse, TradePreference
from storage.models.outbox import BroadcastOptOut, OutboxRow

TRAINING_LEVEL_QUESTION = "training_level"


@dataclass(frozen=True)
class Segment:
    """Filters on people; an empty field does not filter. Months are first days of months.

    ``service``: ``in_service`` (no return date yet) or ``returned``; ``survey``: ``finished``
    or ``unfinished``; ``training``: ``registered`` (the KPI rule: :func:`registered_for_training`)
    or ``not_registered``; ``answers``: (question id, value) pairs every one of which the
    person's latest survey answers must have.
    """

    communes: tuple[str, ...] = ()
    forces: tuple[str, ...] = ()
    service: str | None = None
    discharge_from: date | None = None
    discharge_to: date | None = None
    trades: tuple[str, ...] = ()
    survey: str | None = None
    training: str | None = None
    language: str | None = None
    answers: tuple[tuple[str, str], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """For the outbox message row (only the fields that filter)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value in (None, (), []):
                continue
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[key] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        """Back from :meth:`to_json`."""

        def day(key: str) -> date | None:
            return date.fromisoformat(data[key]) if data.get(key) else None

        return cls(
            communes=tuple(data.get("communes", ())),
            forces=tuple(data.get("forces", ())),
            service=data.get("service"),
            discharge_from=day("discharge_from"),
            discharge_to=day("discharge_to"),
            trades=tuple(data.get("trades", ())),
            survey=data.get("survey"),
            training=data.get("training"),
            language=data.get("language"),
            answers=tuple((str(q), str(v)) for q, v in data.get("answers", ())),
        )


def registered_for_training() -> ColumnElement[bool]:
    """Registered for training (the KPI rule): completed survey, at least one trade chosen, and
    the training level answered."""
    has_trade = exists().where(TradePreference.person_id == Person.id)
    has_level = exists().where(
        SurveyResponse.person_id == Person.id,
        SurveyResponse.completed_at.is_not(None),
        Answer.response_id == SurveyResponse.id,
        Answer.question_id == TRAINING_LEVEL_QUESTION,
    )
    return and_(Person.survey_completed_at.is_not(None), has_trade, has_level)


def reachable() -> list[ColumnElement[bool]]:
    """People a broadcast may go to: not erased, not blocked, not opted out."""
    opted_out = exists().where(BroadcastOptOut.person_id == Person.id)
    return [Person.erased_at.is_(None), Person.blocked_at.is_(None), not_(opted_out)]


def _answer_is(question: str, value: str) -> ColumnElement[bool]:
    """The person's latest survey response answers ``question`` with ``value``."""
    newer = aliased(SurveyResponse)
    latest = (
        select(func.max(newer.id)).where(newer.person_id == Person.id).correlate(Person)
    ).scalar_subquery()
    stored = {json.dumps(value)} | ({"true"} if value == "yes" else set())
    stored |= {"false"} if value == "no" else set()
    return exists().where(
        SurveyResponse.person_id == Person.id,
        SurveyResponse.id == latest,
        Answer.response_id == SurveyResponse.id,
        Answer.question_id == question,
        cast(Answer.value, String).in_(sorted(stored)),
    )


def conditions(segment: Segment, scope: list[str] | None) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Person`` for the segment, within ``scope`` (the communes the author
    may reach; None: the whole province), reachable people only."""
    conds = reachable()
    if scope is not None:
        conds.append(Person.home_commune_code.in_(scope or [""]))
    if segment.communes:
        conds.append(Person.home_commune_code.in_(segment.communes))
    if segment.forces:
        conds.append(Person.branch.in_(segment.forces))
    if segment.service == "in_service":
        conds.append(Person.return_date.is_(None))
    elif segment.service == "returned":
        conds.append(Person.return_date.is_not(None))
    if segment.discharge_from is not None:
        conds.append(Person.discharge_month >= segment.discharge_from)
    if segment.discharge_to is not None:
        conds.append(Person.discharge_month <= segment.discharge_to)
    if segment.trades:
        pref = aliased(TradePreference)
        conds.append(
            exists().where(pref.person_id == Person.id, pref.trade_code.in_(segment.trades))
        )
    if segment.survey == "finished":
        conds.append(Person.survey_completed_at.is_not(None))
    elif segment.survey == "unfinished":
        conds.append(Person.survey_completed_at.is_(None))
    if segment.training == "registered":
        conds.append(registered_for_training())
    elif segment.training == "not_registered":
        conds.append(not_(registered_for_training()))
    if segment.language:
        conds.append(Person.language == segment.language)
    conds.extend(_answer_is(q, v) for q, v in segment.answers)
    return conds


async def count(session: AsyncSession, segment: Segment, scope: list[str] | None) -> int:
    """How many people the segment reaches now."""
    stmt = select(func.count()).select_from(Person).where(*conditions(segment, scope))
    return int(await session.scalar(stmt) or 0)


async def fill_outbox(
    session: AsyncSession,
    message_id: int,
    segment: Segment,
    scope: list[str] | None,
) -> int:
    """One outbox row per person the segment reaches, in one ``INSERT … SELECT … ON CONFLICT
    DO NOTHING`` (filling twice adds nobody twice). Returns the message's row count."""
    people = select(literal(message_id), Person.id, literal("pending", String(16))).where(
        *conditions(segment, scope)
    )
    stmt = (
        dialect_insert(session, OutboxRow)
        .from_select(["message_id", "person_id", "status"], people)
        .on_conflict_do_nothing(index_elements=["message_id", "person_id"])
    )
    await session.execute(stmt)
    total = select(func.count()).where(OutboxRow.message_id == message_id)
    return int(await session.scalar(total) or 0)
