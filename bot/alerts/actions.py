"""What a person does with courses and fairs in the bot: see their best ones, register
interest, ask to be reminded of a fair, say "not interested", turn alerts off or on.

"Nhắc tôi" stores the response and puts the person on the fair's two reminder messages in the
outbox (kinds ``fair_eve`` and ``fair_day``, one message per fair each): the day before at the
reminders' usual send time, and on the fair's morning as soon as the quiet hours end (none
when the fair starts earlier). The outbox runner sends them at their time; at send time a
person who no longer wants the reminder, or a fair cancelled meanwhile, is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from bot.alerts import render
from bot.config import Settings
from bot.matching.catalog import TradeCatalog, load_trades
from bot.matching.rank import Match
from bot.matching.reasons import reason_line
from bot.matching.service import matches_for
from bot.timeline.dates import local_to_utc, parse_clock
from bot.timeline.schedule import get_schedule
from storage import alerts as repo
from storage import catalog, outbox
from storage.models import Person
from storage.models.catalog import JobFair

Response = Literal["interested", "remind", "not_interested"]
REMINDER_SLOTS = ("fair_eve", "fair_day")


@lru_cache(maxsize=1)
def trade_catalog() -> TradeCatalog:
    """The shipped trades, for the reason lines."""
    return load_trades()


def language_of(person: Person) -> str:
    return "en" if person.language == "en" else "vi"


@dataclass(frozen=True)
class Shown:
    """One of a person's best items: kind, id and its card in their language."""

    kind: str
    item_id: int
    card: str


async def card_for(session: AsyncSession, match: Match, lang: str, tz: ZoneInfo) -> str | None:
    """The card of a ranked item with its reason line (None: the item is gone)."""
    reason = reason_line(match, lang, trade_catalog())
    if match.kind == "course":
        found = await repo.course_with_institution(session, match.item_id)
        return None if found is None else render.course_card(found[0], found[1].name, reason, lang)
    fair = await repo.fair_by_id(session, match.item_id)
    return None if fair is None else render.fair_card(fair, reason, lang, tz)


async def best(
    session: AsyncSession, person: Person, kind: str, today: date, tz: ZoneInfo
) -> list[Shown]:
    """The person's best three of ``kind`` (course or fair), best first."""
    lang = language_of(person)
    found = await matches_for(
        session, person, kind="course" if kind == "course" else "fair", today=today, tz=tz
    )
    shown = []
    for match in found:
        card = await card_for(session, match, lang, tz)
        if card is not None:
            shown.append(Shown(match.kind, match.item_id, card))
    return shown


async def details(
    session: AsyncSession, kind: str, item_id: int, lang: str, tz: ZoneInfo
) -> str | None:
    """The item's details in ``lang``; None when there is no such item."""
    if kind == "course":
        found = await repo.course_with_institution(session, item_id)
        if found is None:
            return None
        course, institution = found
        supports = await repo.policies(session, course.policy_codes or [])
        return render.course_details(course, institution, supports, lang)
    fair = await repo.fair_by_id(session, item_id)
    return None if fair is None else render.fair_details(fair, lang, tz)


def reminder_times(fair: JobFair, settings: Settings) -> list[tuple[str, datetime]]:
    """(slot, UTC time) of the fair's two reminders: the day before at the usual send time,
    the fair's morning when the quiet hours end (if that is before it starts)."""
    tz = settings.tz
    fair_day = fair.starts_at.astimezone(tz).date()
    eve = local_to_utc(fair_day - timedelta(days=1), parse_clock(get_schedule().send_time), tz)
    morning = local_to_utc(fair_day, parse_clock(settings.quiet_end), tz)
    times = [("fair_eve", eve)]
    if morning < fair.starts_at:
        times.append(("fair_day", morning))
    return times


async def follow_fair_changes(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Keep the fairs' reminders on their fairs' times (the centre may move or cancel a fair
    after people asked to be reminded): each reminder not started yet moves to its new time;
    one that no longer makes sense (the fair cancelled, or "tomorrow" when it is today) is
    cancelled. Returns how many changed; the caller commits."""
    changed = 0
    for message_id, slot, send_at, fair in await repo.scheduled_fair_reminders(
        session, REMINDER_SLOTS
    ):
        times = dict(reminder_times(fair, settings))
        fair_day = fair.starts_at.astimezone(settings.tz).date()
        still = fair.status == "published" and slot in times
        if slot == "fair_eve":
            still = still and now.astimezone(settings.tz).date() < fair_day
        else:
            still = still and now < fair.starts_at
        if not still:
            changed += await outbox.set_status(
                session, message_id, "cancelled", ("scheduled",), now
            )
        elif max(times[slot], now) != send_at:
            await repo.reschedule(session, message_id, max(times[slot], now))
            changed += 1
    return changed


def _open(kind: str, item: object | None) -> bool:
    if item is None:
        return False
    status = getattr(item, "status", None)
    return status == ("open" if kind == "course" else "published")


async def respond(
    session: AsyncSession,
    person: Person,
    kind: str,
    item_id: int,
    response: Response,
    *,
    now: datetime,
    settings: Settings,
) -> list[datetime] | None:
    """Record what the person said about an item; for "remind", put them on the fair's
    reminders still ahead and return their times. None: no such open item (nothing stored)."""
    if not people.is_stored(person):
        return None
    if kind == "course":
        found = await repo.course_with_institution(session, item_id)
        item: object | None = found[0] if found else None
    else:
        item = await repo.fair_by_id(session, item_id)
    if not _open(kind, item) and response != "not_interested":
        return None
    if item is None or (response == "remind" and kind != "fair"):
        return None
    await catalog.set_response(session, person.id, kind, item_id, response, now)
    if response != "remind" or not isinstance(item, JobFair):
        return []
    scheduled = []
    for slot, send_at in reminder_times(item, settings):
        if send_at <= now:
            continue
        message_id = await repo.item_message(
            session,
            slot,
            "fair",
            item.id,
            title=item.title,
            status="scheduled",
            send_at=send_at,
            now=now,
        )
        state = await repo.message_state(session, message_id)
        if state is None or state[0] != "scheduled":
            continue  # already going out: too late to join
        await repo.add_row(session, message_id, person.id)
        scheduled.append(send_at)
    return scheduled


async def set_alerts(session: AsyncSession, person: Person, on: bool, now: datetime) -> bool:
    """Turn the person's catalog alerts on or off; False for someone without a row."""
    if not people.is_stored(person):
        return False
    await repo.set_opt_out(session, person.id, not on, now)
    return True


async def alerts_on(session: AsyncSession, person: Person) -> bool:
    """Whether the person gets catalog alerts."""
    return people.is_stored(person) and person.id not in await repo.opted_out(session, [person.id])
