"""Rank courses, job fairs and vacancies for one person, each with its factors and reasons.

Pure and synchronous: a :class:`Profile` and plain item records in, :class:`Match` out, so the
bot, the alerts, ``xuatngu match`` and ``bench/matching.py`` share one ranking.

Hard filters first (an item failing one is never shown): the item is open and not past its
deadline or date, seats are left, the person's age (a lower bound from the enlistment month
when the birth year is unknown) and schooling fit its rules, a required driving licence is held,
and the trade is one the person chose or a related one. Then a weighted sum of factors, each
0..1 (``WEIGHTS``, a prior from ``shared/research/courses-jobfairs.md`` §6):

- ``trade``: 1st choice 1.0, 2nd 0.9, 3rd 0.8; a related trade (same group) 0.6;
- ``distance``: estimated road km from home, 1.0 up to 15 km, falling to 0 at 80 km; online
  0.8; someone willing to move counts 0.7 at least;
- ``timing``: a course starting 7-60 days ahead (or around the discharge of someone still in
  service), a fair 1-14 days ahead, 1.0; less further out;
- ``support``: 1.0 when a support policy pays for the course's level;
- ``interest``: the quiz's interest code against the trade's (soft);
- ``pay``: vacancies by their pay; 0.5 when unknown.

At most one in three of the top results is from a related trade (broadening, not replacing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from bot.catalog.vocab import Vocabularies, vocabularies
from bot.matching.catalog import TradeCatalog
from bot.matching.places import road_km

ItemKind = Literal["course", "fair", "vacancy"]

WEIGHTS: dict[str, float] = {
    "trade": 0.35,
    "distance": 0.20,
    "timing": 0.15,
    "support": 0.10,
    "interest": 0.10,
    "pay": 0.10,
}
CHOICE_FIT = (1.0, 0.9, 0.8)
RELATED_FIT = 0.6
NEAR_KM, FAR_KM = 15.0, 80.0
MAX_RELATED_SHARE = 3  # at most one related-trade item in each three shown
GOOD_PAY_VND = 10_000_000  # a monthly wage that scores 1.0


@dataclass(frozen=True)
class Profile:
    """What ranking needs to know about a person (``storage`` builds it from their answers)."""

    person_id: int
    language: str = "vi"
    trades: tuple[str, ...] = ()
    home_code: str | None = None
    education: str | None = None
    wish_level: str | None = None  # survey training_level: elementary | intermediate | college
    training_place: str | None = None  # near_home | in_province | outside_province
    work_place: str | None = None  # in_province | other_province | abroad
    min_age: int | None = None
    interest_code: str | None = None
    licences: frozenset[str] = frozenset()
    discharge_month: date | None = None
    returned: bool = False
    dismissed: frozenset[tuple[str, int]] = frozenset()  # (kind, id) marked "not interested"


@dataclass(frozen=True)
class CourseItem:
    id: int
    trade_code: str
    level: str
    title: str
    institution: str
    start_date: date | None = None
    enrol_deadline: date | None = None
    venue_code: str | None = None
    is_mobile: bool = False
    fee_vnd: int | None = None
    policy_codes: tuple[str, ...] = ()
    seats_left: int | None = None
    min_age: int | None = None
    max_age: int | None = None
    min_education: str | None = None
    requires_license: str | None = None


@dataclass(frozen=True)
class FairItem:
    id: int
    title: str
    day: date
    mode: str = "offline"
    venue_code: str | None = None
    trades: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None


@dataclass(frozen=True)
class VacancyItem:
    id: int
    position: str
    employer: str
    trade_code: str | None = None
    pay_min_vnd: int | None = None
    pay_max_vnd: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    education_min: str | None = None
    license_required: str | None = None
    work_place_code: str | None = None
    country: str | None = None
    valid_to: date | None = None


Item = CourseItem | FairItem | VacancyItem


@dataclass(frozen=True)
class Reason:
    """One part of the one-line reason: a key (``near``, ``far``, ``chosen_trade``,
    ``related_trade``, ``supported``, ``starts``, ``deadline``, ``fair_day``, ``online``,
    ``pay``) and its values; ``bot.matching.reasons`` words it in the person's language."""

    key: str
    values: tuple[tuple[str, str | int | float], ...] = ()

    def value(self, name: str) -> str | int | float | None:
        return dict(self.values).get(name)


@dataclass(frozen=True)
class Match:
    """One ranked item: its score, each factor (0..1) and the reasons, most telling first."""

    kind: ItemKind
    item_id: int
    score: float
    factors: dict[str, float]
    reasons: tuple[Reason, ...]
    related: bool = False
    km: float | None = None
    trade_code: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


class Ranker:
    """Ranks items for profiles; built once over the trade catalog and the vocabularies."""

    def __init__(self, trades: TradeCatalog, vocab: Vocabularies | None = None) -> None:
        self.vocab = vocab or vocabularies()
        self._group = {t.code: t.group for t in trades}
        self._riasec = {t.code: t.riasec for t in trades}

    # ------------------------------------------------------------------ trade fit

    def trade_fit(self, profile: Profile, trade: str | None) -> tuple[float, bool]:
        """(fit 0..1, whether only related): a chosen trade by its rank, a related one less."""
        if trade is None:
            return 0.0, False
        if trade in profile.trades:
            index = profile.trades.index(trade)
            return CHOICE_FIT[min(index, len(CHOICE_FIT) - 1)], False
        group = self._group.get(trade)
        if group is not None and any(self._group.get(t) == group for t in profile.trades):
            return RELATED_FIT, True
        return 0.0, False

    def interest_fit(self, profile: Profile, trade: str | None) -> float:
        """Share of the person's interest letters in the trade's code (0.5 when unknown)."""
        code = self._riasec.get(trade or "")
        if not profile.interest_code or not code:
            return 0.5
        letters = profile.interest_code[:3]
        return sum(1 for letter in letters if letter in code) / len(letters)

    # ------------------------------------------------------------------ factors

    def _distance(
        self, profile: Profile, venue: str | None, online: bool = False
    ) -> tuple[float, float | None]:
        """(factor, km): nearer is better; online 0.8; willing movers never below 0.7."""
        if online:
            return 0.8, None
        km = road_km(profile.home_code, venue)
        if km is None:
            return 0.5, None
        if km <= NEAR_KM:
            factor = 1.0
        else:
            factor = max(0.0, 1.0 - (km - NEAR_KM) / (FAR_KM - NEAR_KM))
        if profile.training_place == "outside_province" or profile.work_place in (
            "other_province",
            "abroad",
        ):
            factor = max(factor, 0.7)
        return factor, km

    @staticmethod
    def _course_timing(profile: Profile, start: date | None, today: date) -> float:
        """1.0 for a start 7-60 days ahead (from the discharge for someone still serving)."""
        if start is None:
            return 0.5
        ready = today
        if not profile.returned and profile.discharge_month and profile.discharge_month > today:
            ready = profile.discharge_month
        days = (start - ready).days
        if 7 <= days <= 60:
            return 1.0
        if days < 7:
            return max(0.3, 1.0 - (7 - days) / 30) if start >= today else 0.0
        return max(0.1, 1.0 - (days - 60) / 180)

    @staticmethod
    def _fair_timing(day: date, today: date) -> float:
        days = (day - today).days
        if 1 <= days <= 14:
            return 1.0
        if days == 0:
            return 0.7
        return max(0.2, 1.0 - (days - 14) / 60)

    def _age_ok(self, profile: Profile, lo: int | None, hi: int | None) -> bool:
        if profile.min_age is None:
            return True
        return hi is None or profile.min_age <= hi

    def _education_ok(self, profile: Profile, needed: str | None) -> bool:
        need = self.vocab.education_rank(needed)
        if need is None:
            return True
        have = self.vocab.education_rank(profile.education)
        return have is None or have >= need  # unknown schooling: the institution checks

    # ------------------------------------------------------------------ items

    def course(self, profile: Profile, item: CourseItem, today: date) -> Match | None:
        """The course's match for the person, or None when a hard filter excludes it."""
        if ("course", item.id) in profile.dismissed:
            return None
        if item.enrol_deadline is not None and item.enrol_deadline < today:
            return None
        if item.start_date is not None and item.start_date < today:
            return None
        if item.seats_left is not None and item.seats_left <= 0:
            return None
        if not self._age_ok(profile, item.min_age, item.max_age):
            return None
        if not self._education_ok(profile, item.min_education):
            return None
        if item.requires_license and item.requires_license not in profile.licences:
            return None
        trade, related = self.trade_fit(profile, item.trade_code)
        if trade == 0.0:
            return None
        level = self.vocab.level(item.level)
        supported = bool(item.policy_codes) or bool(level and level.supported)
        distance, km = self._distance(profile, item.venue_code)
        factors = {
            "trade": trade,
            "distance": distance,
            "timing": self._course_timing(profile, item.start_date, today),
            "support": 1.0 if supported else 0.0,
            "interest": self.interest_fit(profile, item.trade_code),
            "pay": 0.5,
        }
        if profile.wish_level and level and level.wish and level.wish != profile.wish_level:
            factors["timing"] *= 0.8  # another level than wished: a little lower, still shown
        reasons = [_trade_reason(item.trade_code, related)]
        reasons.extend(_distance_reasons(km, False))
        if supported:
            reasons.append(Reason("supported"))
        if item.start_date is not None:
            reasons.append(Reason("starts", (("date", item.start_date.isoformat()),)))
        return _match("course", item.id, factors, reasons, related, km, item.trade_code)

    def fair(self, profile: Profile, item: FairItem, today: date) -> Match | None:
        """The fair's match, or None (past, dismissed, or not for the person's age)."""
        if ("fair", item.id) in profile.dismissed or item.day < today:
            return None
        if not self._age_ok(profile, item.min_age, item.max_age):
            return None
        fits = [self.trade_fit(profile, t) for t in item.trades]
        best = max(fits, default=(0.5, False))  # a general fair: half a trade fit
        trade, related = best
        if item.trades and trade == 0.0:
            trade, related = 0.3, False  # a fair helps anyone looking; less when off-trade
        online = item.mode == "online"
        distance, km = self._distance(profile, item.venue_code, online)
        factors = {
            "trade": trade,
            "distance": distance,
            "timing": self._fair_timing(item.day, today),
            "support": 0.5,
            "interest": 0.5,
            "pay": 0.5,
        }
        reasons: list[Reason] = []
        matched = [t for t, (fit, rel) in zip(item.trades, fits, strict=True) if fit and not rel]
        if matched:
            reasons.append(_trade_reason(matched[0], False))
        reasons.extend(_distance_reasons(km, online))
        reasons.append(Reason("fair_day", (("date", item.day.isoformat()),)))
        return _match("fair", item.id, factors, reasons, related and not matched, km, None)

    def vacancy(self, profile: Profile, item: VacancyItem, today: date) -> Match | None:
        """The vacancy's match, or None when a hard filter excludes it."""
        if ("vacancy", item.id) in profile.dismissed:
            return None
        if item.valid_to is not None and item.valid_to < today:
            return None
        if not self._age_ok(profile, item.age_min, item.age_max):
            return None
        if not self._education_ok(profile, item.education_min):
            return None
        if item.license_required and item.license_required not in profile.licences:
            return None
        abroad = item.country not in (None, "", "VN")
        if abroad and profile.work_place != "abroad":
            return None
        trade, related = self.trade_fit(profile, item.trade_code)
        if trade == 0.0:
            return None
        distance, km = self._distance(profile, item.work_place_code)
        if abroad:
            distance, km = 0.7, None
        pay = item.pay_min_vnd or item.pay_max_vnd
        factors = {
            "trade": trade,
            "distance": distance,
            "timing": 0.5,
            "support": 0.5,
            "interest": self.interest_fit(profile, item.trade_code),
            "pay": 0.5 if pay is None else min(1.0, pay / GOOD_PAY_VND),
        }
        reasons = [_trade_reason(item.trade_code, related)]
        reasons.extend(_distance_reasons(km, False))
        if pay is not None:
            reasons.append(Reason("pay", (("min", item.pay_min_vnd or pay),)))
        return _match("vacancy", item.id, factors, reasons, related, km, item.trade_code)

    # ------------------------------------------------------------------ ranking

    def rank(
        self, profile: Profile, items: Iterable[Item], today: date, limit: int = 3
    ) -> list[Match]:
        """The best ``limit`` items for the person, best first, at most one related per three."""
        matches: list[Match] = []
        for item in items:
            if isinstance(item, CourseItem):
                found = self.course(profile, item, today)
            elif isinstance(item, FairItem):
                found = self.fair(profile, item, today)
            else:
                found = self.vacancy(profile, item, today)
            if found is not None:
                matches.append(found)
        matches.sort(key=lambda m: (-m.score, m.kind, m.item_id))
        return broaden(matches, limit)


def broaden(matches: Sequence[Match], limit: int) -> list[Match]:
    """Take the best ``limit``, with at most one related-trade item in each three."""
    allowed = max(1, -(-limit // MAX_RELATED_SHARE))
    chosen: list[Match] = []
    related = 0
    for match in matches:
        if len(chosen) == limit:
            break
        if match.related:
            if related >= allowed:
                continue
            related += 1
        chosen.append(match)
    return chosen


def _match(
    kind: ItemKind,
    item_id: int,
    factors: dict[str, float],
    reasons: list[Reason],
    related: bool,
    km: float | None,
    trade: str | None,
) -> Match:
    score = sum(WEIGHTS[name] * value for name, value in factors.items())
    return Match(
        kind,
        item_id,
        round(score, 4),
        {k: round(v, 3) for k, v in factors.items()},
        tuple(reasons),
        related,
        None if km is None else round(km, 1),
        trade,
    )


def _trade_reason(trade: str | None, related: bool) -> Reason:
    return Reason("related_trade" if related else "chosen_trade", (("trade", trade or ""),))


def _distance_reasons(km: float | None, online: bool) -> list[Reason]:
    if online:
        return [Reason("online")]
    if km is None:
        return []
    return [Reason("near" if km <= 30 else "far", (("km", round(km)),))]
