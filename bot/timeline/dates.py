"""Pure date arithmetic of the timeline: anchors, offsets, due windows and quiet hours."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.timeline.schedule import Anchor, Reminder
from storage.models import Person


def add_months(day: date, months: int) -> date:
    """``day`` moved by calendar months, clamped to the month's last day (31 Jan + 1 → 28 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_start(day: date) -> date:
    """The 1st of ``day``'s month."""
    return day.replace(day=1)


def anchor_date(person: Person, anchor: Anchor) -> date | None:
    """The person's date for an anchor; a month anchor is the 1st of that month."""
    value: date | None = getattr(person, anchor)
    if value is None:
        return None
    return month_start(value) if anchor.endswith("_month") else value


def parse_clock(value: str) -> time:
    """``"07:30"`` → ``time(7, 30)``."""
    hh, _, mm = value.partition(":")
    return time(int(hh), int(mm))


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock moment in ``tz`` as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def due_window(
    entry: Reminder, person: Person, *, tz: ZoneInfo, send_time: time
) -> tuple[datetime, datetime] | None:
    """(due_at, expires_at) in UTC for one person and entry; None when the anchor is unknown."""
    base = anchor_date(person, entry.anchor)
    if base is None:
        return None
    day = add_months(base, entry.offset.months) + timedelta(days=entry.offset.days)
    due = local_to_utc(day, send_time, tz)
    span = timedelta(days=entry.relevant_for.days, hours=entry.relevant_for.hours)
    return due, due + span


def local_date(now: datetime, tz: ZoneInfo) -> date:
    """The calendar date in ``tz`` at the aware moment ``now``."""
    return now.astimezone(tz).date()


def is_quiet(now: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> bool:
    """True when ``now`` falls in the night window [quiet_start, quiet_end) in ``tz``."""
    clock = now.astimezone(tz).time().replace(tzinfo=None)
    if quiet_start <= quiet_end:  # a window inside one day, e.g. 13:00-14:00
        return quiet_start <= clock < quiet_end
    return clock >= quiet_start or clock < quiet_end


def as_utc(now: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is refused (the caller must say the zone)."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: give a time zone, e.g. 2027-03-01T09:00+07:00")
    return now.astimezone(UTC)


def format_month(day: date | None) -> str:
    """``MM/YYYY`` as Vietnamese write it; empty for none."""
    return f"{day.month:02d}/{day.year}" if day else ""
