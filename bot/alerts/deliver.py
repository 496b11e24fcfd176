"""What the outbox runner sends for the messages of this package (kinds ``alert``, ``fair_eve``
and ``fair_day``): per claimed row, the person's text and buttons, or why it is skipped,
checked against the person and the item as they are now.

An alert is skipped when the person turned alerts off, already said something about the item,
the item is no longer open, or ``WEEKLY_CAP`` alerts went out to them in the last ``WINDOW``
(the cap by send time); a fair reminder when the person no longer wants it or the fair is
cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts import render
from bot.alerts.actions import language_of
from bot.alerts.scan import WEEKLY_CAP, WINDOW
from bot.people import unreachable
from storage import alerts as repo
from storage import outbox
from storage.models import Person
from storage.models.catalog import JobFair
from storage.models.outbox import OutboxMessage

KINDS = frozenset({repo.ALERT, "fair_eve", "fair_day"})


@dataclass(frozen=True)
class Ready:
    """A claimed row to send: its person, text and buttons."""

    row_id: int
    person: Person
    text: str
    markup: InlineKeyboardMarkup | None


async def _item_open(session: AsyncSession, message: OutboxMessage) -> JobFair | bool:
    """The fair (when published) or whether the course is still open."""
    if message.item_kind == "course":
        found = await repo.course_with_institution(session, message.item_id or 0)
        return found is not None and found[0].status == "open"
    fair = await repo.fair_by_id(session, message.item_id or 0)
    return fair if fair is not None and fair.status == "published" else False


def _held(
    item: object | None, alert: bool, said: str | None, alerts_off: bool, sent_this_week: int
) -> str | None:
    """Why an alert or fair-reminder row must not go to a reachable person, or None."""
    if not item:
        return "item_closed"
    if not alert:
        return None if said == "remind" else "not_reminding"
    if alerts_off:
        return "alerts_off"
    if said is not None:
        return "responded"
    return "weekly_cap" if sent_this_week >= WEEKLY_CAP else None


async def prepare(
    session: AsyncSession,
    message: OutboxMessage,
    claimed: Sequence[Any],
    now: datetime,
    tz: ZoneInfo,
) -> tuple[list[Ready], list[dict[str, Any]]]:
    """Rows to send and rows to skip (``{"id", "result"}``) among ``claimed`` (id, person id,
    text)."""
    person_ids = [row[1] for row in claimed]
    people, _ = await outbox.people_and_opt_outs(session, person_ids)
    said = await repo.response_of(
        session, person_ids, message.item_kind or "", message.item_id or 0
    )
    alert = message.kind == repo.ALERT
    off = await repo.opted_out(session, person_ids) if alert else set()
    went_out = await repo.delivered_alerts_since(session, person_ids, now - WINDOW) if alert else {}
    item = await _item_open(session, message)
    ready: list[Ready] = []
    skipped: list[dict[str, Any]] = []
    for row_id, person_id, text in claimed:
        person = people.get(person_id)
        reason = unreachable(person) or _held(
            item, alert, said.get(person_id), person_id in off, went_out.get(person_id, 0)
        )
        if reason is not None or person is None:
            skipped.append({"id": row_id, "result": reason})
            continue
        lang = language_of(person)
        kind = message.item_kind or "course"
        if alert:
            markup = render.item_keyboard(kind, message.item_id or 0, lang, alert=True)
            ready.append(Ready(row_id, person, text or message.text_vi, markup))
        elif isinstance(item, JobFair):
            body = render.fair_reminder(message.kind, item, lang, tz)
            ready.append(Ready(row_id, person, body, None))
    return ready, skipped
