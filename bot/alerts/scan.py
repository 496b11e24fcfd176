"""The alert pass: when a course opens or a job fair is published, the people it fits well get
an alert through the outbox (``xuatngu run`` runs :func:`scan` in the outbox loop).

Who: consented people, not erased, not blocked, alerts not turned off, home already or
discharged within ``HORIZON_MONTHS`` from today. Which items: those published in the last
``FRESH_DAYS`` that no alert message names yet. Fits well: the item is among the person's best
``TOP`` of its kind (:mod:`bot.matching.service`'s ranking) with a score of ``GOOD_SCORE`` at
least, ranked among the items the person has not heard of yet (those they were alerted to or
answered about are left out, so older items do not crowd a new one out). At most
``WEEKLY_CAP`` alerts per person in any ``WINDOW`` (counted here over alerts queued, and again
at send time over alerts that went out: ``bot/alerts/deliver.py``), the best-scored first;
never one item twice (``item_alerts`` is unique per person and item).

Crash-safe and idempotent: the ranking only reads; then one transaction creates each item's
alert message (kind ``alert``, unique per item: the mark that the item was handled), the rows
with each person's own text and the ``item_alerts`` records. A crash before the commit leaves
nothing, and the next pass does it all again; after it, the runner's claim protocol sends each
row at most once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import render
from bot.alerts.actions import follow_fair_changes, language_of, trade_catalog
from bot.config import Settings
from bot.matching.rank import Match
from bot.matching.reasons import reason_line
from bot.matching.service import open_catalog, profile_for, ranker
from bot.timeline.dates import add_months
from storage import alerts as repo
from storage import catalog as catalog_repo
from storage.alerts import NewAlert
from storage.models import Person

log = logging.getLogger(__name__)

GOOD_SCORE = 0.65
TOP = 3
WEEKLY_CAP = 2
WINDOW = timedelta(days=7)
HORIZON_MONTHS = 3
FRESH_DAYS = 14


class _Cards:
    """Item rows loaded once per pass, and each person's card."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.tz = settings.tz
        self._items: dict[tuple[str, int], object] = {}

    async def _item(self, kind: str, item_id: int) -> object:
        key = (kind, item_id)
        if key not in self._items:
            if kind == "course":
                self._items[key] = await repo.course_with_institution(self.session, item_id)
            else:
                self._items[key] = await repo.fair_by_id(self.session, item_id)
        return self._items[key]

    async def alert(self, match: Match, person: Person) -> str | None:
        lang = language_of(person)
        reason = reason_line(match, lang, trade_catalog())
        item = await self._item(match.kind, match.item_id)
        if isinstance(item, tuple):
            card = render.course_card(item[0], item[1].name, reason, lang)
        elif item is not None:
            card = render.fair_card(item, reason, lang, self.tz)  # type: ignore[arg-type]
        else:
            return None
        return render.alert_text(match.kind, card, lang)


async def scan(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """One alert pass as at ``now`` (first, fairs' reminders follow their fairs' times);
    returns how many alerts it queued."""
    tz = settings.tz
    today = now.astimezone(tz).date()
    fresh = now - timedelta(days=FRESH_DAYS)
    async with sessions() as session:
        if await follow_fair_changes(session, settings, now):
            await session.commit()
        courses = await repo.unannounced_courses(session, today, fresh)
        day_start = datetime.combine(today, time.min, tz).astimezone(UTC)
        fairs = await repo.unannounced_fairs(session, day_start, fresh)
        if not courses and not fairs:
            return 0
        items = [("course", i, t) for i, t in courses] + [("fair", i, t) for i, t in fairs]
        new = {(kind, item_id) for kind, item_id, _ in items}
        catalog = await open_catalog(session, today, tz)
        people = await repo.alertable_people(session, add_months(today, HORIZON_MONTHS))
        ids = [p.id for p in people]
        given = await repo.alerted_items(session, ids)
        recent = await repo.alerts_since(session, ids, now - WINDOW)
        cards = _Cards(session, settings)
        picks: dict[tuple[str, int], list[NewAlert]] = defaultdict(list)
        for person in people:
            room = WEEKLY_CAP - recent.get(person.id, 0)
            if room <= 0:
                continue
            profile = await profile_for(session, person, today)
            known = {(k, i) for p, k, i in given if p == person.id}
            known |= set(await catalog_repo.responses_of(session, person.id))
            profile = replace(profile, dismissed=profile.dismissed | known)
            fitting = [
                match
                for kind in ("course", "fair")
                for match in ranker().rank(profile, catalog.of(kind), today, TOP)
                if (match.kind, match.item_id) in new and match.score >= GOOD_SCORE
            ]
            fitting.sort(key=lambda m: (-m.score, m.kind, m.item_id))
            for match in fitting[:room]:
                text = await cards.alert(match, person)
                if text is not None:
                    key = (match.kind, match.item_id)
                    picks[key].append(NewAlert(person.id, *key, match.score, text))
        queued = 0
        for kind, item_id, title in items:
            message_id = await repo.item_message(
                session,
                repo.ALERT,
                kind,
                item_id,
                title=title,
                status="sending",
                send_at=now,
                now=now,
            )
            await repo.queue_alerts(session, message_id, picks[(kind, item_id)], now)
            queued += len(picks[(kind, item_id)])
        await session.commit()
    log.info("alert pass: %s new items, %s alerts queued", len(items), queued)
    return queued
