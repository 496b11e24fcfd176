"""Domain actions behind the timeline buttons and /reminders: outcomes, return date, pause."""

from __future__ import annotations

from datetime import date, datetime
from typing import get_args
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.timeline.dates import add_months, local_date, month_start
from bot.timeline.rows import reschedule_person
from bot.timeline.schedule import OUTCOME_STATUSES, HomeAnswer
from storage.models import Person, TradePreference
from storage.models.base import utcnow
from storage.models.timeline import Outcome

# Outcomes recorded by the bot besides the status-check answers.
RETURNED_HOME = "returned_home"


async def set_reminders_paused(session: AsyncSession, person: Person, paused: bool) -> None:
    """Pause or resume every reminder for this person (the caller commits)."""
    person.reminders_paused = paused
    await session.flush()


async def record_outcome(
    session: AsyncSession,
    person: Person,
    status: str,
    *,
    status_date: date,
    trade_code: str | None = None,
    source: str = "bot",
    recorded_by: str | None = None,
) -> Outcome:
    """Add an outcome to the person's history; the same answer twice on one day is kept once.

    ``source`` is ``bot`` for the person's own button, ``admin`` or ``api`` for an officer, who is
    ``recorded_by`` (as the audit log names them).
    """
    if status not in (*OUTCOME_STATUSES, RETURNED_HOME):
        raise ValueError(f"unknown outcome status {status!r}")
    latest = await latest_outcome(session, person.id)
    if (
        latest is not None
        and (latest.status, latest.status_date, latest.source) == (status, status_date, source)
        and (trade_code is None or latest.trade_code == trade_code)
    ):
        return latest
    outcome = Outcome(
        person_id=person.id,
        status=status,
        status_date=status_date,
        trade_code=trade_code,
        source=source,
        recorded_by=recorded_by,
        recorded_at=utcnow(),
    )
    session.add(outcome)
    await session.flush()
    return outcome


async def latest_outcome(session: AsyncSession, person_id: int) -> Outcome | None:
    """The person's newest outcome, or None."""
    return await session.scalar(
        select(Outcome)
        .where(Outcome.person_id == person_id)
        .order_by(Outcome.status_date.desc(), Outcome.id.desc())
        .limit(1)
    )


async def set_outcome_trade(
    session: AsyncSession, person: Person, trade_code: str, *, statuses: tuple[str, ...]
) -> Outcome | None:
    """Put the trade on the newest outcome whose status asked for one; None if there is none."""
    latest = await latest_outcome(session, person.id)
    if latest is None or latest.status not in statuses:
        return None
    latest.trade_code = trade_code
    await session.flush()
    return latest


async def trade_choices(session: AsyncSession, person: Person) -> list[str]:
    """The person's chosen trade codes, best first."""
    rows = await session.scalars(
        select(TradePreference.trade_code)
        .where(TradePreference.person_id == person.id)
        .order_by(TradePreference.rank)
    )
    return list(dict.fromkeys(rows))


def home_answer(value: str) -> HomeAnswer | None:
    """A button value as a home answer, or None if it is not one."""
    for known in get_args(HomeAnswer):
        if value == known:
            return known
    return None


def return_date_for(answer: HomeAnswer, today: date, discharged: date | None) -> date | None:
    """The return date an answer means: the 1st of the discharge month (never later than this
    month), of this or of last month; None for "not yet"."""
    this_month = month_start(today)
    if answer == "since_discharge":
        return min(month_start(discharged), this_month) if discharged else this_month
    if answer == "this_month":
        return this_month
    if answer == "last_month":
        return add_months(this_month, -1)
    return None


async def answer_home(
    session: AsyncSession,
    person: Person,
    answer: HomeAnswer,
    *,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> date | None:
    """Record "home since …" from the person's button: the return date, 1st of the month."""
    moment = now or utcnow()
    returned = return_date_for(answer, local_date(moment, tz), person.discharge_month)
    if returned is None:
        return None
    await set_return_date(session, person, returned, tz=tz, now=moment)
    return returned


async def set_return_date(
    session: AsyncSession,
    person: Person,
    returned: date,
    *,
    tz: ZoneInfo,
    now: datetime | None = None,
    source: str = "bot",
    recorded_by: str | None = None,
) -> Outcome:
    """The person is home since ``returned``: set Person.return_date, add a history row,
    reschedule the reminders anchored on it."""
    person.return_date = returned
    outcome = await record_outcome(
        session,
        person,
        RETURNED_HOME,
        status_date=returned,
        source=source,
        recorded_by=recorded_by,
    )
    await reschedule_person(session, person, now=now or utcnow(), tz=tz)
    return outcome


PAUSE_WORDS = frozenset(
    {"pause", "off", "stop", "tắt", "tat", "dừng", "dung", "tạm dừng", "tam dung"}
)
RESUME_WORDS = frozenset({"resume", "on", "start", "bật", "bat", "tiếp", "tiep", "mở", "mo"})


def parse_pause_argument(args: str | None) -> bool | None:
    """``/reminders pause`` → True, ``/reminders resume`` → False, anything else → None."""
    word = " ".join((args or "").lower().split())
    if word in PAUSE_WORDS:
        return True
    if word in RESUME_WORDS:
        return False
    return None
