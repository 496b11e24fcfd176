"""Working days in Vietnam: Monday to Friday, less public holidays (``holidays``, VN calendar,
with the substitute days off the government announces, such as Tết and 2 September)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=16)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Vietnamese public holiday."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def working_days_before(now: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The instant that lies ``days`` working days before ``now`` (local days in ``tz``).

    Only time on working days counts: a question asked before the returned instant has waited
    more than ``days`` working days at ``now``. On Monday 10:00 two working days back is
    Thursday 10:00; on a Saturday it is Thursday 00:00; a question asked on a Sunday has waited
    two working days at Wednesday 00:00.
    """
    local = now.astimezone(tz)
    left = timedelta(days=days)
    day, end = local.date(), local
    while True:
        start = datetime.combine(day, time(), tzinfo=tz)
        if is_working_day(day):
            if end - start >= left:
                return end - left
            left -= end - start
        day -= timedelta(days=1)
        end = start
