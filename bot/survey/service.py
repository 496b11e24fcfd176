"""The survey's domain service: where answers are stored, mirrored and acted upon.

Handlers call these functions; they never touch SQL. Every answer is stored the moment it is
given (so nothing is lost when a phone drops off the network), with the survey version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from bot.survey import Question, Survey, load_survey, prune
from bot.timeline import reschedule_person
from storage import people as people_repo
from storage import survey as repo
from storage.audit import audit
from storage.models import Person
from storage.models.base import utcnow

log = logging.getLogger(__name__)

# answers mirrored onto Person columns (for lists, filters and role scoping)
_MIRROR = ("full_name", "phone", "branch", "home_commune_code")
_DATE_FIELDS = ("enlistment_month", "discharge_month")


@dataclass
class SurveyState:
    """A person's current response and answers (no response before the first answer)."""

    response: repo.ResponseRecord | None
    answers: dict[str, Any]

    @property
    def completed(self) -> bool:
        return self.response is not None and self.response.completed_at is not None


def survey() -> Survey:
    """The survey definition in force."""
    return load_survey()


async def person_with_state(
    session: AsyncSession, telegram_user_id: int
) -> tuple[Person | None, SurveyState | None]:
    """The person behind a survey update and their survey state, read in one query.

    The state is None when the person has no response yet (or is unknown).
    """
    person, response, answers = await repo.person_with_latest(session, telegram_user_id)
    return person, SurveyState(response, answers) if response is not None else None


async def open_state(
    session: AsyncSession, person: Person, preloaded: SurveyState | None = None
) -> SurveyState:
    """The person's current response and its answers (none yet for someone not stored).

    ``preloaded`` is the state :func:`person_with_state` read with the person, if it did.
    """
    if preloaded is not None:
        return preloaded
    if not people.is_stored(person):
        return SurveyState(None, {})
    response, answers = await repo.latest_with_answers(session, person)
    return SurveyState(response, answers)


async def _response(
    session: AsyncSession, person: Person, state: SurveyState
) -> repo.ResponseRecord:
    """The response an answer goes to; the first answer (consent) stores the person and
    starts it, in the answer's transaction."""
    if state.response is None:
        await people.store(session, person)
        state.response = await repo.create_response(session, person, survey().version)
    return state.response


async def save_answer(
    session: AsyncSession,
    person: Person,
    state: SurveyState,
    question: Question,
    value: Any,
    raw_text: str | None,
) -> None:
    """Store one answer, mirror it onto the person, and drop answers that no longer apply."""
    s = survey()
    response = await _response(session, person, state)
    await repo.upsert_answer(
        session,
        response,
        question_id=question.id,
        value=value,
        raw_text=raw_text,
        version=s.version,
    )
    state.answers[question.id] = value
    kept = prune(s, state.answers)
    stale = [qid for qid in state.answers if qid not in kept]
    if stale:
        await repo.delete_answers(session, response, stale)
        for qid in stale:
            state.answers.pop(qid, None)
    dates_changed = await _mirror(session, person, response, question, value)
    if dates_changed:
        await reschedule_person(session, person)


async def _mirror(
    session: AsyncSession,
    person: Person,
    response: repo.ResponseRecord,
    question: Question,
    value: Any,
) -> bool:
    """Copy profile answers onto Person; True when a date that anchors reminders changed."""
    qid = question.id
    if qid == "consent":
        await people_repo.write_person(
            session,
            person,
            consent_at=utcnow(),
            consent_version=survey().version,
            consent_sharing=value == "all",
        )
    elif qid == "home_commune":
        await _mirror_column(session, person, "home_commune_code", value)
    elif qid in _MIRROR:
        await _mirror_column(session, person, qid, value)
    elif qid in _DATE_FIELDS:
        return await _mirror_column(session, person, qid, _month_date(value))
    elif question.type == "trade":
        await repo.replace_preferences(session, person, response, list(value or []))
    return False


async def _mirror_column(session: AsyncSession, person: Person, column: str, value: Any) -> bool:
    """Write one profile column when it changed; True when it did."""
    if getattr(person, column) == value:
        return False
    await people_repo.write_person(session, person, **{column: value})
    return True


def _month_date(value: Any) -> date | None:
    if not value:
        return None
    year, month = str(value).split("-")
    return date(int(year), int(month), 1)


async def set_sharing(session: AsyncSession, person: Person, sharing: bool) -> bool:
    """Let training schools and the Employment Service Centre see the person (consent "all") or
    not ("counselling_only"): the consent answer and ``Person.consent_sharing`` change together,
    audited. False when it was so already."""
    if person.consent_sharing == sharing:
        return False
    response, answers = await repo.latest_with_answers(session, person)
    if response is not None and "consent" in answers:
        await repo.upsert_answer(
            session,
            response,
            question_id="consent",
            value="all" if sharing else "counselling_only",
            raw_text=None,
            version=survey().version,
        )
    await people_repo.write_person(session, person, consent_sharing=sharing)
    detail = {"person_id": person.id, "sharing": sharing}
    await audit(session, actor="bot", action="consent.sharing", detail=detail)
    return True


async def refuse(session: AsyncSession, person: Person) -> None:
    """Consent refused: nothing is kept but an anonymous count."""
    await people.refuse_consent(session, person)


async def complete(session: AsyncSession, person: Person, state: SurveyState) -> None:
    """The person confirmed the summary."""
    now = utcnow()
    await repo.update_response(session, await _response(session, person, state), completed_at=now)
    if person.survey_completed_at is None:
        await people_repo.write_person(session, person, survey_completed_at=now)
    await reschedule_person(session, person)


async def reopen(session: AsyncSession, state: SurveyState) -> None:
    """An answer changed after confirmation: the response is open until confirmed again."""
    if state.response is not None:
        await repo.update_response(session, state.response, completed_at=None)
