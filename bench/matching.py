"""Benchmark the course/fair/job ranking: agreement with the labelled set and speed.

Run: ``.venv/bin/python bench/matching.py [--people 10000] [--items 500] [--seed 16]``.

1. Top-1 and top-3 agreement of ``Ranker.rank`` with ``tests/data/match_cases.yaml`` (bar:
   top-3 ≥ 90%).
2. Time to rank ``--people`` synthetic people against ``--items`` synthetic items (60% courses,
   10% fairs, 30% vacancies over Lạng Sơn's 65 communes and every trade), three ways in the same
   run: the baseline (a trade-only sort: the person's chosen trades, in choice order), the ranker
   reading every item, and the ranker reading only the items of the person's trades through a
   ``CatalogIndex`` built once (what the alerts do). Figures are seconds and ratios to the
   baseline (bar: the indexed ranking ≤ 30 s for 10,000 × 500). Also the road-distance cache:
   pairs computed against look-ups. Prints PASS/FAIL lines; exits 0 unless it crashes.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.matching.factors import broaden  # noqa: E402
from bot.matching.items import (  # noqa: E402
    CourseItem,
    FairItem,
    Item,
    Match,
    PolicyItem,
    Profile,
    VacancyItem,
)
from bot.matching.places import all_places, road_km  # noqa: E402
from bot.matching.rank import CatalogIndex, Ranker  # noqa: E402
from bot.matching.service import ranker, trade_catalog  # noqa: E402
from tests.match_cases import agreement, load_cases  # noqa: E402

TOP3_BAR = 0.90
SECONDS_BAR = 30.0
TODAY = date(2026, 9, 1)
LEVELS = ("so_cap", "so_cap", "duoi_3_thang", "trung_cap", "cao_dang")
EDUCATION = ("lower_secondary", "upper_secondary", "upper_secondary", "vocational_intermediate")
ND338 = PolicyItem("nd338", ("so_cap", "duoi_3_thang"), (), ("tuition",), date(2026, 1, 1))


def synthetic_items(rng: random.Random, count: int, communes: list[str]) -> list[Item]:
    trades = trade_catalog().codes()
    items: list[Item] = []
    for i in range(count):
        roll = rng.random()
        where = rng.choice(communes)
        if roll < 0.6:
            level = rng.choice(LEVELS)
            items.append(
                CourseItem(
                    id=i,
                    trade_code=rng.choice(trades),
                    level=level,
                    title=f"course {i}",
                    institution="bench",
                    start_date=TODAY + timedelta(days=rng.randint(0, 200)),
                    enrol_deadline=TODAY + timedelta(days=rng.randint(-10, 60)),
                    venue_code=where,
                    fee_vnd=rng.choice((None, 0, 3_000_000)),
                    seats_left=rng.choice((None, 0, 10)),
                    min_education=rng.choice((None, "lower_secondary", "upper_secondary")),
                    policies=(ND338,) if level in ND338.levels else (),
                )
            )
        elif roll < 0.7:
            items.append(
                FairItem(
                    id=i,
                    title=f"fair {i}",
                    day=TODAY + timedelta(days=rng.randint(-5, 90)),
                    mode=rng.choice(("offline", "offline", "hybrid", "online")),
                    venue_code=where,
                    trades=tuple(rng.sample(trades, rng.randint(0, 4))),
                )
            )
        else:
            items.append(
                VacancyItem(
                    id=i,
                    position=f"job {i}",
                    employer="bench",
                    trade_code=rng.choice((*trades, None)),
                    pay_min_vnd=rng.choice((None, 6_000_000, 9_000_000, 14_000_000)),
                    age_max=rng.choice((None, 35, 40)),
                    work_place_code=where,
                    country=rng.choice((None,) * 9 + ("KR",)),
                )
            )
    return items


def synthetic_people(rng: random.Random, count: int, communes: list[str]) -> list[Profile]:
    trades = trade_catalog().codes()
    people = []
    for i in range(count):
        serving = rng.random() < 0.3
        lo = rng.randint(19, 27)
        people.append(
            Profile(
                person_id=i,
                trades=tuple(rng.sample(trades, rng.randint(1, 3))),
                home_code=rng.choice(communes),
                education=rng.choice(EDUCATION),
                wish_level=rng.choice((None, "elementary", "intermediate", "college")),
                training_place=rng.choice(("near_home", "in_province", "outside_province")),
                work_place=rng.choice(("in_province", "other_province", "abroad")),
                min_age=lo,
                max_age=lo + 9,
                interest_code=rng.choice((None, "RC", "RI", "SE", "AS")),
                discharge_month=date(2027, 1, 1) if serving else date(2026, 3, 1),
                returned=not serving,
            )
        )
    return people


def trade_only(profile: Profile, items: Sequence[Item], limit: int = 3) -> list[Item]:
    """The baseline: items of the person's chosen trades, first choice first."""
    order = {t: i for i, t in enumerate(profile.trades)}
    fitting = [
        i
        for i in items
        if not isinstance(i, FairItem) and i.trade_code is not None and i.trade_code in order
    ]
    fitting.sort(key=lambda i: order[i.trade_code or ""])
    return fitting[:limit]


def rank_every_item(r: Ranker, profile: Profile, items: Sequence[Item]) -> list[Match]:
    """The ranking without the index: every item scored, then the same sort and 1-in-3 rule."""
    fits = r.fits(profile)
    scored = [m for m in (r.score(profile, i, TODAY, fits) for i in items) if m is not None]
    scored.sort(key=lambda m: (-m.score, m.km if m.km is not None else 1e9, m.kind, m.item_id))
    return broaden(scored, 3)


def timed(label: str, run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    print(f"  {label:<44} {seconds:8.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    r = ranker()

    found = agreement(r, load_cases())
    top1, top3 = found.top1 / found.cases, found.top3 / found.cases
    print(f"labelled set: {found.cases} cases")
    print(f"  top-1 agreement {top1:.1%} ({found.top1}/{found.cases})")
    print(f"  top-3 agreement {top3:.1%} ({found.top3}/{found.cases})")
    for case_id, expected, shown in found.misses:
        print(f"  miss {case_id}: expected {expected}, ranked {', '.join(shown) or 'nothing'}")
    print(f"{'PASS' if top3 >= TOP3_BAR else 'FAIL'} top-3 agreement ≥ {TOP3_BAR:.0%}")

    rng = random.Random(args.seed)
    communes = [p.code for p in all_places().values() if p.province_code == 20]
    items = synthetic_items(rng, args.items, communes)
    people = synthetic_people(rng, args.people, communes)
    print(f"\nspeed: {len(people):,} people × {len(items)} items")
    base = timed("baseline: trade-only sort", lambda: [trade_only(p, items) for p in people])
    road_km.cache_clear()
    every = timed("ranker, every item", lambda: [rank_every_item(r, p, items) for p in people])
    index = CatalogIndex(items)
    road_km.cache_clear()
    shown: list[list[Match]] = []
    indexed = timed(
        "ranker, items of the person's trades (index)",
        lambda: shown.extend(r.rank(p, index, TODAY) for p in people),
    )
    info = road_km.cache_info()
    print(f"  ratio to the baseline: every item {every / base:.1f}×, indexed {indexed / base:.1f}×")
    print(f"  index saves {1 - indexed / every:.0%} of the full scan")
    print(f"  road km: {info.misses:,} pairs computed, {info.hits:,} look-ups from the cache")
    print(f"  people with at least one match: {sum(bool(s) for s in shown):,}")
    scaled = indexed * (10_000 / len(people)) * (len(items) / 500)
    verdict = "PASS" if scaled <= SECONDS_BAR else "FAIL"
    print(f"{verdict} 10,000 × 500 ranked in ≤ {SECONDS_BAR:.0f} s (measured {indexed:.1f} s)")


if __name__ == "__main__":
    main()
