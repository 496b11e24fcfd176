"""The factors of a match, each 0..1, and the rules around them (pure functions and constants);
``bot.matching.rank`` puts them together. Why each is scored so: ``docs/matching.md``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.matching.items import CourseItem, FairItem, Item, Match, PolicyItem, Profile

CHOICE_FIT = (1.0, 0.9, 0.8)  # 1st, 2nd, 3rd choice
RELATED_FIT: dict[str, float] = {"close": 0.7, "broad": 0.5}  # × the fit of the choice it is near
GENERAL_FAIR_FIT = 0.5  # a fair open to every trade
OFF_TRADE_FIT = 0.3  # a fair for other trades, or a job naming no trade
NEAR_KM = 15.0
FAR_KM = {"near_home": 50.0}  # where the factor reaches 0, by training_place; else DEFAULT_FAR_KM
DEFAULT_FAR_KM = 80.0
MOVER_FLOOR = 0.7  # the least distance factor for someone willing to move (study or work)
PROVINCE_FLOOR = 0.5  # the least for a place in the province, to someone who said "in province"
ONLINE = 0.8
SHOWN_NEAR_KM = 30  # "near home" in words up to here, "km from home" beyond
MAX_RELATED_SHARE = 3  # at most one related-trade item in each three shown
GOOD_PAY_VND = 10_000_000  # a monthly wage that scores 1.0
SOON_DAYS = 90  # a returnee, or someone this close to discharge, can take a job now
DEADLINE_SOON_DAYS = 14
MAX_REASONS = 4


@dataclass(frozen=True)
class TradeFit:
    """How an item's trade fits a person: the factor, whether only related, and the chosen
    trade it is near (for the reason)."""

    fit: float
    related: bool = False
    chosen: str | None = None


NO_FIT = TradeFit(0.0)


class CatalogIndex:
    """Items by trade, so ranking reads only those of a person's trades (and the general ones:
    fairs, and jobs naming no trade). Build once per catalog, rank many people against it."""

    def __init__(self, items: Iterable[Item]) -> None:
        self.by_trade: dict[str, list[Item]] = {}
        self.general: list[Item] = []
        for item in items:
            trade = None if isinstance(item, FairItem) else item.trade_code
            if trade is None:
                self.general.append(item)
            else:
                self.by_trade.setdefault(trade, []).append(item)

    def candidates(self, trades: Iterable[str]) -> list[Item]:
        found: list[Item] = list(self.general)
        for trade in trades:
            found.extend(self.by_trade.get(trade, ()))
        return found


def applicable_policies(
    level: str, codes: Sequence[str], policies: Iterable[PolicyItem]
) -> tuple[PolicyItem, ...]:
    """The policies that may pay for a course: those it names, or (naming none) every policy
    covering its level. Dates, groups and the discharge window are checked per person."""
    named = set(codes)
    return tuple(
        p
        for p in policies
        if (p.code in named if named else True) and (not p.levels or level in p.levels)
    )


def course_timing(profile: Profile, start: date | None, today: date) -> float:
    """1.0 for a start 7-60 days ahead of when the person can begin (today, or their
    discharge); a little less sooner, decaying to 0.1 half a year further out."""
    if start is None:
        return 0.5
    days = (start - profile.ready(today)).days
    if 7 <= days <= 60:
        return 1.0
    if days < 7:
        return max(0.3, 1.0 - (7 - days) / 30)
    return max(0.1, 1.0 - (days - 60) / 180)


def fair_timing(day: date, today: date, ready: date) -> float:
    """1.0 for a fair 1-14 days ahead of when the person can go, 0.7 on the day, less further
    out (0.2 at the least)."""
    days = (day - max(today, ready)).days
    if 1 <= days <= 14:
        return 1.0
    return 0.7 if days == 0 else max(0.2, 1.0 - (days - 14) / 60)


def course_support(profile: Profile, item: CourseItem, today: date) -> tuple[float, str | None]:
    """(1.0, reason key) when the course is free or a policy pays for this person: valid at
    the start, covering the level and one of their groups, within its discharge window."""
    if item.fee_vnd == 0:
        return 1.0, "free"
    day = item.start_date or today
    for policy in item.policies:
        if policy_covers(policy, profile, item.level, day):
            return 1.0, "tuition_supported" if "tuition" in policy.items else "supported"
    return 0.0, None


def policy_covers(policy: PolicyItem, profile: Profile, level: str, day: date) -> bool:
    if policy.levels and level not in policy.levels:
        return False
    if policy.valid_from and day < policy.valid_from:
        return False
    if policy.valid_to and day > policy.valid_to:
        return False
    if policy.target_groups and profile.groups and not profile.groups & set(policy.target_groups):
        return False
    if policy.window_months is None or profile.discharge_month is None:
        return True
    end = profile.discharge_month
    months = end.month - 1 + policy.window_months
    return day < date(end.year + months // 12, months % 12 + 1, 1)


def broaden(matches: Sequence[Match], limit: int) -> list[Match]:
    """The best ``limit`` in order, with at most one related-trade item among the first three,
    two among the first six, and so on; a related item held back waits for the next three."""
    pending = list(matches)
    chosen: list[Match] = []
    related = 0
    while pending and len(chosen) < limit:
        allowed = related < math.ceil((len(chosen) + 1) / MAX_RELATED_SHARE)
        pick = next((m for m in pending if allowed or not m.related), None)
        if pick is None:
            break
        pending.remove(pick)
        related += pick.related
        chosen.append(pick)
    return chosen
