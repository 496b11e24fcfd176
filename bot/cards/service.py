"""The card in the bot and on schedule: the ``/card`` screen, the daily pass (cards past their
validity expire; a month before expiry an unused card's holder is reminded, once), and what the
outbox runner sends for a reminder.

The reminder is an outbox message of kind :data:`storage.cards.CARD_EXPIRY` (unique per card)
with one row carrying the person's own text, queued in the same transaction that sets
``expiry_reminded_at``: killed before the commit, the next pass queues it again; after it, the
runner's claim protocol sends it at most once, never in quiet hours. At send time a card no
longer ``issued`` (redeemed, revoked) is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts.actions import language_of
from bot.alerts.deliver import Ready
from bot.cards import render
from bot.cards.cards import expire_pass
from bot.cards.render import NearbyCourse
from bot.cards.rules import current_rules
from bot.matching.service import ranking_for
from bot.people import unreachable
from storage import cards as repo
from storage import outbox
from storage.models import Person
from storage.models.base import utcnow
from storage.models.cards import TrainingCard
from storage.models.outbox import OutboxMessage

log = logging.getLogger(__name__)
KINDS = frozenset({repo.CARD_EXPIRY})
REMIND_BEFORE = timedelta(days=30)
NEARBY = 3
RANKED = 50  # courses ranked before keeping those of the rule's levels
EVERY = 3600.0  # seconds between passes (each pass is idempotent)


async def nearby_courses(
    session: AsyncSession, person: Person, levels: Sequence[str], today: date, tz: ZoneInfo
) -> list[NearbyCourse]:
    """The person's best open courses of ``levels`` (the ranking: near home, their trade)."""
    ranking = await ranking_for(session, person, kind="course", today=today, tz=tz, limit=RANKED)
    items = {c.id: c for c in ranking.catalog.courses}
    out: list[NearbyCourse] = []
    for match in ranking.matches:
        item = items.get(match.item_id)
        if item is not None and item.level in levels:
            out.append(NearbyCourse(item.title, item.institution, item.start_date))
    return out[:NEARBY]


async def card_screen(
    session: AsyncSession, card: TrainingCard, person: Person, today: date, tz: ZoneInfo
) -> str:
    """``/card`` for a person with a card."""
    rules = await current_rules(session)
    courses: list[NearbyCourse] = []
    if card.status == "issued":
        levels = rules.support_on(today).levels
        courses = await nearby_courses(session, person, levels, today, tz)
    return render.card_text(card, rules, today, courses, language_of(person))


async def remind_pass(session: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """Queue the reminder of every unused card expiring within :data:`REMIND_BEFORE` (committed);
    how many were queued."""
    today = now.astimezone(tz).date()
    queued = 0
    for card in await repo.due_reminder(session, today + REMIND_BEFORE, today):
        person = await session.get(Person, card.person_id)
        if person is None:
            continue
        text = render.expiry_reminder(card, language_of(person))
        queued += await repo.queue_reminder(session, card, person.id, text, now)
    await session.commit()
    return queued


async def daily_pass(session: AsyncSession, now: datetime, tz: ZoneInfo) -> tuple[int, int]:
    """Expire, then remind: (cards expired, reminders queued)."""
    expired = await expire_pass(session, now.astimezone(tz).date(), actor="bot")
    return expired, await remind_pass(session, now, tz)


async def run_cards(
    sessions: async_sessionmaker[AsyncSession], tz: ZoneInfo, stop: asyncio.Event
) -> None:
    """The pass at start-up and every :data:`EVERY` seconds until ``stop`` (``xuatngu run``)."""
    while not stop.is_set():
        try:
            async with sessions() as session:
                expired, reminded = await daily_pass(session, utcnow(), tz)
            if expired or reminded:
                log.info("cards: %s expired, %s reminders queued", expired, reminded)
        except (SQLAlchemyError, OSError):
            log.exception("cards pass failed; trying again later")
        try:
            await asyncio.wait_for(stop.wait(), timeout=EVERY)
        except TimeoutError:
            pass


async def prepare(
    session: AsyncSession, message: OutboxMessage, claimed: Sequence[Any]
) -> tuple[list[Ready], list[dict[str, Any]]]:
    """The runner's rows of a reminder: sent unless the person is gone or the card was used."""
    people, _ = await outbox.people_and_opt_outs(session, [row[1] for row in claimed])
    card = await repo.by_id(session, message.item_id or 0)
    ready: list[Ready] = []
    skipped: list[dict[str, Any]] = []
    for row_id, person_id, text in claimed:
        person = people.get(person_id)
        reason = unreachable(person)
        if reason is None and (card is None or card.status != "issued"):
            reason = "card_" + (card.status if card else "gone")
        if reason is not None or person is None:
            skipped.append({"id": row_id, "result": reason})
        else:
            ready.append(Ready(row_id, person, text or message.text_vi, None))
    return ready, skipped
