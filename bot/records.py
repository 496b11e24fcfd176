"""What officers record about a person (admin pages and REST API), through the bot's own paths.

Outcomes and the return date go through :mod:`bot.timeline` (as the person's buttons do),
profile corrections through the survey's parsing and :func:`bot.survey.service.save_answer`
(as the soldier's answers do: mirrored onto ``people``, reminders moved when a date changes),
erasure through :func:`bot.people.erase` (as /delete_me does). Every action is audited with the
officer's name; nothing here commits (the caller does), except the erasure, which must commit
before the person's conversation and SQLite's write-ahead log are cleared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from bot.reporting import labels
from bot.survey import (
    MonthError,
    Question,
    match_option,
    parse_month,
    parse_phone,
    parse_text_answer,
    text,
)
from bot.survey import service as svc
from bot.survey.parsing import clean_text
from bot.timeline import OUTCOME_STATUSES, RETURNED_HOME, record_outcome, set_return_date
from storage.audit import audit
from storage.models import Person
from storage.models.timeline import Outcome

RECORDABLE_STATUSES: tuple[str, ...] = (*OUTCOME_STATUSES, RETURNED_HOME)
# survey questions an officer may correct, in survey order (their answers mirror onto people)
PROFILE_QUESTIONS: tuple[str, ...] = (
    "full_name",
    "phone",
    "branch",
    "enlistment_month",
    "discharge_month",
    "home_commune",
)
EARLIEST_DATE = date(1990, 1, 1)


@dataclass(frozen=True)
class Officer:
    """Who records: ``actor`` as the audit log names them (``user:alice``, ``api:crm``),
    ``source`` on the outcome (``admin`` or ``api``) and the address they came from."""

    actor: str
    source: str
    ip: str | None = None


class RecordError(ValueError):
    """Input an officer must fix: ``field`` names it, ``key`` says what is wrong."""

    def __init__(self, field: str, key: str) -> None:
        super().__init__(f"{field}: {key}")
        self.field = field
        self.key = key


async def add_outcome(
    session: AsyncSession,
    person: Person,
    officer: Officer,
    *,
    status: str,
    day: date,
    trade_code: str | None,
    today: date,
    tz: ZoneInfo,
) -> Outcome:
    """Record what happened to the person on ``day`` (``returned_home``: the return date)."""
    if status not in RECORDABLE_STATUSES:
        raise RecordError("status", "unknown_status")
    if day > today:
        raise RecordError("date", "future_date")
    if day < EARLIEST_DATE:
        raise RecordError("date", "too_old")
    trade = trade_code or None
    if trade is not None and trade not in dict(labels.trades()):
        raise RecordError("trade_code", "unknown_trade")
    if status == RETURNED_HOME:
        outcome = await set_return_date(
            session, person, day, tz=tz, source=officer.source, recorded_by=officer.actor
        )
    else:
        outcome = await record_outcome(
            session,
            person,
            status,
            status_date=day,
            trade_code=trade,
            source=officer.source,
            recorded_by=officer.actor,
        )
    detail = {"person_id": person.id, "status": status, "date": day.isoformat()}
    if trade:
        detail["trade_code"] = trade
    await audit(
        session, actor=officer.actor, action="person.outcome_recorded", detail=detail, ip=officer.ip
    )
    return outcome


def _current(person: Person, question_id: str) -> Any:
    """The person's stored value for a profile question, in the survey's answer form."""
    if question_id == "home_commune":
        return person.home_commune_code
    value = getattr(person, question_id)
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    return value


def _unchanged(question: Question, raw: str, current: Any) -> bool:
    """Whether the typed text means the value already stored (then its rules are not re-run:
    a month that was fine when the soldier gave it may be older than the rule allows today)."""
    if current is None or not raw:
        return current is None and not raw
    if question.type == "month":
        try:
            return str(parse_month(raw)) == current
        except MonthError:
            return False
    if question.type == "phone":
        return parse_phone(raw) == current
    if question.type == "choice":
        option = match_option(question, raw)
        return option is not None and option.value == current
    return clean_text(raw) == current


async def correct_profile(
    session: AsyncSession,
    person: Person,
    officer: Officer,
    typed: Mapping[str, str],
    *,
    lang: str,
    today: date,
) -> dict[str, str]:
    """Correct profile answers as typed by an officer (months MM/YYYY, the commune's code).

    Every changed value is read with the survey's own rules first (a value left as it is is
    not re-checked); when one is wrong nothing is stored
    and the problems come back (question id → the survey's message in ``lang``). Otherwise the
    changed answers are stored as the soldier's would be, audited by question id (no values).
    """
    survey = svc.survey()
    current = {qid: _current(person, qid) for qid in PROFILE_QUESTIONS}
    answers: dict[str, Any] = dict(current)
    errors: dict[str, str] = {}
    changes: list[tuple[str, Any, str]] = []
    for qid in PROFILE_QUESTIONS:
        if qid not in typed or not survey.has_question(qid):
            continue
        question = survey.question(qid)
        raw = typed[qid].strip()
        value: Any = None
        if _unchanged(question, raw, current[qid]):
            continue
        if not raw:
            if question.required:
                errors[qid] = text(survey, "required", lang)
                continue
        elif question.type == "commune":
            if raw not in dict(labels.communes()):
                errors[qid] = text(survey, "not_a_choice", lang)
                continue
            value, raw = raw, labels.commune_name(raw)
        else:
            parsed = parse_text_answer(survey, question, raw, lang, answers, today)
            if not parsed.ok:
                errors[qid] = parsed.error or text(survey, "not_a_choice", lang)
                continue
            value = parsed.value
        answers[qid] = value
        if value != current[qid]:
            changes.append((qid, value, raw))
    if errors or not changes:
        return errors
    state = await svc.open_state(session, person)
    for qid, value, raw in changes:
        await svc.save_answer(session, person, state, survey.question(qid), value, raw or None)
    await audit(
        session,
        actor=officer.actor,
        action="person.corrected",
        detail={"person_id": person.id, "fields": [qid for qid, _, _ in changes]},
        ip=officer.ip,
    )
    return {}


async def erase_person(
    session: AsyncSession,
    person: Person,
    officer: Officer,
    conversations: people.Conversations | None,
) -> None:
    """Erase the person as /delete_me does, committed: the row (their answers, outcomes,
    questions… cascade), counted and audited (naming the officer and the person's id); then
    their conversation with the bot (``conversations``: the bot's FSM storage, None when no bot
    runs beside the admin) and, on SQLite, the write-ahead log. Nothing happens twice when
    another officer erased them first."""
    telegram_user_id = person.telegram_user_id
    if not await people.erase(session, person, actor=officer.actor, ip=officer.ip):
        return
    await session.commit()
    if conversations is not None:
        await conversations.forget(telegram_user_id)
    await people.scrub_log(session)
