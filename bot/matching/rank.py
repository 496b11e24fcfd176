"""Rank courses, job fairs and vacancies for one person, each with its factors and reasons.

Pure and synchronous: a :class:`Profile` and plain item records in, :class:`Match` out, so the
bot, the alerts, ``xuatngu match`` and ``bench/matching.py`` share one ranking. How each factor
is scored, and why, is in ``docs/matching.md``.

Hard filters first (an item failing one is never shown): not dismissed; open and not past its
deadline, start, day or validity; seats left; the person's age bounds and schooling fit its rules;
a required driving licence is held; someone still serving can attend (no course or fair
before their discharge month, no job closing before it); abroad jobs only for those who want them;
a course or vacancy of a trade they chose or a related one. Then a weighted sum of factors
(``WEIGHTS``, the prior of ``shared/research/courses-jobfairs.md`` §6), at most one related-trade
item in each three shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from functools import lru_cache

from bot.catalog.vocab import Vocabularies, vocabularies
from bot.matching.catalog import TradeCatalog
from bot.matching.factors import (
    CHOICE_FIT,
    DEADLINE_SOON_DAYS,
    DEFAULT_FAR_KM,
    FAR_KM,
    GENERAL_FAIR_FIT,
    GOOD_PAY_VND,
    MAX_REASONS,
    MOVER_FLOOR,
    NEAR_KM,
    NO_FIT,
    OFF_TRADE_FIT,
    ONLINE,
    PROVINCE_FLOOR,
    RELATED_FIT,
    SHOWN_NEAR_KM,
    SOON_DAYS,
    CatalogIndex,
    TradeFit,
    applicable_policies,
    broaden,
    course_support,
    course_timing,
    fair_timing,
)
from bot.matching.items import (
    CourseItem,
    FairItem,
    Item,
    ItemKind,
    Match,
    PolicyItem,
    Profile,
    Reason,
    VacancyItem,
)
from bot.matching.places import place, road_km
from bot.quiz import fit as riasec_fit

__all__ = [
    "CatalogIndex",
    "CourseItem",
    "FairItem",
    "Item",
    "ItemKind",
    "Match",
    "PolicyItem",
    "Profile",
    "Ranker",
    "Reason",
    "VacancyItem",
    "applicable_policies",
    "broaden",
]

# Courses use "level" (the wished level) where vacancies use "pay": "S pay/level" in §6.
WEIGHTS: dict[str, float] = {
    "trade": 0.35,
    "distance": 0.20,
    "timing": 0.15,
    "support": 0.10,
    "interest": 0.10,
    "pay": 0.10,
    "level": 0.10,
}


class Ranker:
    """Ranks items for profiles; built once over the trade catalog and the vocabularies."""

    def __init__(self, trades: TradeCatalog, vocab: Vocabularies | None = None) -> None:
        self.vocab = vocab or vocabularies()
        self._related = trades.related()
        self._riasec = {t.code: t.riasec for t in trades}
        self._wish = {lv.code: lv.wish for lv in self.vocab.levels}
        self._schooling = {code: i for i, code in enumerate(self.vocab.codes("education"))}

    # ------------------------------------------------------------------ person-level factors

    def fits(self, profile: Profile) -> dict[str, TradeFit]:
        """Every trade that fits the person: chosen ones by rank, related ones by tier."""
        found: dict[str, TradeFit] = {}
        for index, chosen in enumerate(profile.trades):
            base = CHOICE_FIT[min(index, len(CHOICE_FIT) - 1)]
            found.setdefault(chosen, TradeFit(base))
            for trade, tier in self._related.get(chosen, {}).items():
                fit = round(RELATED_FIT[tier] * base, 3)
                if trade not in profile.trades and fit > found.get(trade, NO_FIT).fit:
                    found[trade] = TradeFit(fit, True, chosen)
        return found

    def trade_fit(self, profile: Profile, trade: str | None) -> tuple[float, bool]:
        """(fit 0..1, whether only related) of one trade for the person."""
        fit = self.fits(profile).get(trade or "", NO_FIT)
        return fit.fit, fit.related

    def interest_fit(self, profile: Profile, trade: str | None) -> float:
        """The quiz's interest code against the trade's (``bot.quiz.fit``, as a share of the
        best possible); 0.5 when either is unknown. A soft signal only."""
        code = self._riasec.get(trade or "")
        if not profile.interest_code or not code:
            return 0.5
        return interest_share(profile.interest_code, code)

    def distance(
        self, profile: Profile, venue: str | None, *, kind: ItemKind
    ) -> tuple[float, float | None]:
        """(factor, km): 1.0 up to 15 km, falling to 0 at 80 km (50 km for someone who wants to
        study near home); 0.5 when a place is unknown. Stated willingness counts for courses
        (``training_place``) and jobs (``work_place``), not for a day at a fair: anywhere at
        least 0.7 for someone ready to move (another province, abroad), anywhere in the
        province at least 0.5 for someone who said "in the province"."""
        km = road_km(profile.home_code, venue)
        if km is None:
            return 0.5, None
        wish = profile.training_place if kind == "course" else profile.work_place
        far = FAR_KM.get(wish or "", DEFAULT_FAR_KM) if kind == "course" else DEFAULT_FAR_KM
        factor = 1.0 if km <= NEAR_KM else max(0.0, 1.0 - (km - NEAR_KM) / (far - NEAR_KM))
        if kind == "fair" or factor >= MOVER_FLOOR:
            return factor, km
        if wish in ("outside_province", "other_province", "abroad"):
            return MOVER_FLOOR, km
        if wish == "in_province" and factor < PROVINCE_FLOOR:
            home, there = place(profile.home_code), place(venue)
            if home is not None and there is not None and home.province_code == there.province_code:
                return PROVINCE_FLOOR, km
        return factor, km

    # ------------------------------------------------------------------ hard filters

    def _person_ok(
        self,
        profile: Profile,
        lo: int | None,
        hi: int | None,
        education: str | None,
        licence: str | None,
    ) -> bool:
        """Age bounds overlap the item's, schooling is enough (unknown: the institution checks),
        the licence is held."""
        if lo is not None and profile.max_age is not None and profile.max_age < lo:
            return False
        if hi is not None and profile.min_age is not None and profile.min_age > hi:
            return False
        need = self._schooling.get(education or "")
        have = self._schooling.get(profile.education or "")
        if need is not None and have is not None and have < need:
            return False
        return not licence or licence in profile.licences

    # ------------------------------------------------------------------ items

    def course(
        self,
        profile: Profile,
        item: CourseItem,
        today: date,
        fits: dict[str, TradeFit] | None = None,
        *,
        reasons: bool = True,
    ) -> Match | None:
        """The course's match for the person, or None when a hard filter excludes it."""
        trade = (self.fits(profile) if fits is None else fits).get(item.trade_code, NO_FIT)
        if (
            trade.fit == 0.0
            or ("course", item.id) in profile.dismissed
            or (item.enrol_deadline is not None and item.enrol_deadline < today)
            or (item.start_date is not None and item.start_date < profile.ready(today))
            or (item.seats_left is not None and item.seats_left <= 0)
            or not self._person_ok(
                profile, item.min_age, item.max_age, item.min_education, item.requires_license
            )
        ):
            return None
        distance, km = self.distance(profile, item.venue_code, kind="course")
        support, paid = course_support(profile, item, today)
        wish = self._wish.get(item.level)
        factors = {
            "trade": trade.fit,
            "distance": distance,
            "timing": course_timing(profile, item.start_date, today),
            "support": support,
            "interest": self.interest_fit(profile, item.trade_code),
            "level": 0.5 if not profile.wish_level else 1.0 if wish == profile.wish_level else 0.3,
        }
        found = _match("course", item.id, factors, trade.related, km, item.trade_code)
        if not reasons:
            return found
        parts = [_trade_reason("chosen_trade", item.trade_code, trade)]
        if paid is not None:
            parts.append(Reason(paid))
        if (
            item.enrol_deadline is not None
            and 0 <= (item.enrol_deadline - today).days <= DEADLINE_SOON_DAYS
        ):
            parts.append(Reason("deadline", (("date", item.enrol_deadline.isoformat()),)))
        elif item.start_date is not None:
            after = profile.serving(today)
            key = "starts_after_discharge" if after else "starts"
            parts.append(Reason(key, (("date", item.start_date.isoformat()),)))
        return _with_reasons(found, profile, item.venue_code, parts)

    def fair(
        self,
        profile: Profile,
        item: FairItem,
        today: date,
        fits: dict[str, TradeFit] | None = None,
        *,
        reasons: bool = True,
    ) -> Match | None:
        """The fair's match, or None (past, dismissed, not for the person's age, or in person
        before they are home)."""
        ready = profile.ready(today)
        if (
            ("fair", item.id) in profile.dismissed
            or item.day < ready
            or not self._person_ok(profile, item.min_age, item.max_age, None, None)
        ):
            return None
        fits = self.fits(profile) if fits is None else fits
        matched = sorted((t for t in item.trades if t in fits), key=lambda t: -fits[t].fit)
        if matched:
            trade = fits[matched[0]]
        else:
            trade = TradeFit(OFF_TRADE_FIT if item.trades else GENERAL_FAIR_FIT)
        distance, km = self.distance(profile, item.venue_code, kind="fair")
        if item.mode == "online" or (item.mode == "hybrid" and distance < ONLINE):
            distance, km = ONLINE, None
        timing = fair_timing(item.day, today, ready)
        factors = {
            "trade": trade.fit,
            "distance": distance,
            "timing": timing,
            "support": 0.5,
            "interest": 0.5,
            "pay": 0.5,
        }
        found = _match("fair", item.id, factors, trade.related, km, None)
        if not reasons:
            return found
        parts: list[Reason] = []
        if matched:
            parts.append(_trade_reason("fair_trade", matched[0], trade))
        if km is None and distance == ONLINE:
            parts.insert(0, Reason("online"))
        parts.append(Reason("fair_day", (("date", item.day.isoformat()),)))
        return _with_reasons(found, profile, None if km is None else item.venue_code, parts)

    def vacancy(
        self,
        profile: Profile,
        item: VacancyItem,
        today: date,
        fits: dict[str, TradeFit] | None = None,
        *,
        reasons: bool = True,
    ) -> Match | None:
        """The vacancy's match, or None when a hard filter excludes it."""
        fits = self.fits(profile) if fits is None else fits
        trade = fits.get(item.trade_code, NO_FIT) if item.trade_code else TradeFit(OFF_TRADE_FIT)
        abroad = item.country not in (None, "", "VN")
        if (
            trade.fit == 0.0
            or ("vacancy", item.id) in profile.dismissed
            or (item.valid_to is not None and item.valid_to < profile.ready(today))
            or (abroad and profile.work_place != "abroad")
            or not self._person_ok(
                profile, item.age_min, item.age_max, item.education_min, item.license_required
            )
        ):
            return None
        if abroad:
            distance, km = 1.0, None  # they asked to work abroad
        else:
            distance, km = self.distance(profile, item.work_place_code, kind="vacancy")
        pay = item.pay_min_vnd or item.pay_max_vnd
        soon = (profile.ready(today) - today).days <= SOON_DAYS
        factors = {
            "trade": trade.fit,
            "distance": distance,
            "timing": 1.0 if soon else 0.5,
            "support": 0.5,
            "interest": self.interest_fit(profile, item.trade_code),
            "pay": 0.5 if pay is None else min(1.0, pay / GOOD_PAY_VND),
        }
        found = _match("vacancy", item.id, factors, trade.related, km, item.trade_code)
        if not reasons:
            return found
        parts: list[Reason] = []
        if item.trade_code:
            parts.append(_trade_reason("chosen_trade", item.trade_code, trade))
        if abroad:
            parts.insert(0, Reason("abroad", (("country", str(item.country)),)))
        if pay is not None:
            parts.append(Reason("pay", (("min", pay),)))
        venue = None if abroad else item.work_place_code
        return _with_reasons(found, profile, venue, parts)

    # ------------------------------------------------------------------ timing and support

    # ------------------------------------------------------------------ ranking

    def score(
        self, profile: Profile, item: Item, today: date, fits: dict[str, TradeFit] | None = None
    ) -> Match | None:
        """One item's match without its reasons (what ranking sorts)."""
        if isinstance(item, CourseItem):
            return self.course(profile, item, today, fits, reasons=False)
        if isinstance(item, FairItem):
            return self.fair(profile, item, today, fits, reasons=False)
        return self.vacancy(profile, item, today, fits, reasons=False)

    def rank(
        self,
        profile: Profile,
        items: Iterable[Item] | CatalogIndex,
        today: date,
        limit: int = 3,
    ) -> list[Match]:
        """The best ``limit`` items for the person, best first, with their reasons; at most one
        related-trade item in each three."""
        index = items if isinstance(items, CatalogIndex) else CatalogIndex(items)
        fits = self.fits(profile)
        by_key: dict[tuple[str, int], Item] = {}
        matches: list[Match] = []
        for item in index.candidates(fits):
            found = self.score(profile, item, today, fits)
            if found is not None:
                matches.append(found)
                by_key[(found.kind, found.item_id)] = item
        far = float("inf")
        matches.sort(key=lambda m: (-m.score, far if m.km is None else m.km, m.kind, m.item_id))
        chosen = broaden(matches, limit)
        return [self.explain(profile, by_key[(m.kind, m.item_id)], today, fits) for m in chosen]

    def explain(
        self, profile: Profile, item: Item, today: date, fits: dict[str, TradeFit] | None = None
    ) -> Match:
        """The item's full match (factors and reasons); the item must pass the hard filters."""
        if isinstance(item, CourseItem):
            found = self.course(profile, item, today, fits)
        elif isinstance(item, FairItem):
            found = self.fair(profile, item, today, fits)
        else:
            found = self.vacancy(profile, item, today, fits)
        if found is None:
            raise ValueError(f"{item!r} does not pass the hard filters for this person")
        return found


@lru_cache(maxsize=4096)
def interest_share(person: str, trade: str) -> float:
    """``bot.quiz.fit`` of the two codes as a share of the person's best (remembered: a few
    interest codes meet 50 trades)."""
    return riasec_fit(person, trade) / riasec_fit(person, person)


def _match(
    kind: ItemKind,
    item_id: int,
    factors: dict[str, float],
    related: bool,
    km: float | None,
    trade: str | None,
) -> Match:
    score = sum(WEIGHTS[name] * value for name, value in factors.items())
    return Match(
        kind,
        item_id,
        round(score, 4),
        factors,
        (),
        related,
        None if km is None else round(km, 1),
        trade,
    )


def _trade_reason(key: str, trade: str, fit: TradeFit) -> Reason:
    if fit.related:
        return Reason("related_trade", (("trade", trade), ("chosen", fit.chosen or "")))
    return Reason(key, (("trade", trade),))


def _with_reasons(found: Match, profile: Profile, venue: str | None, parts: list[Reason]) -> Match:
    """Place words first when near (at home, or ~km), after the trade when far; at most four."""
    if found.km is not None:
        if venue is not None and venue == profile.home_code:
            parts.insert(0, Reason("home"))
        elif found.km <= SHOWN_NEAR_KM:
            parts.insert(0, Reason("near", (("km", round(found.km)),)))
        else:
            parts.insert(1, Reason("far", (("km", round(found.km)),)))
    factors = {k: round(v, 3) for k, v in found.factors.items()}
    return replace(found, factors=factors, reasons=tuple(parts[:MAX_REASONS]))
