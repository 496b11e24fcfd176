"""The labelled matching set (``tests/data/match_cases.yaml``) as ranking inputs, and how a
ranking agrees with it. Used by tests/test_match_cases.py and bench/matching.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.matching.communes import CommuneMatcher
from bot.matching.items import (
    CourseItem,
    FairItem,
    Item,
    ItemKind,
    Match,
    PolicyItem,
    Profile,
    VacancyItem,
)
from bot.matching.rank import Ranker, applicable_policies

CASES_PATH = Path(__file__).parent / "data" / "match_cases.yaml"


@dataclass(frozen=True)
class Case:
    """One labelled case: the person, the items of the expected kind, the expected best item and
    the items a hard filter must keep out (as ``kind:id``)."""

    id: str
    note: str
    profile: Profile
    kind: ItemKind
    items: tuple[Item, ...]
    best: str
    excluded: tuple[str, ...]
    today: date


def key(match: Match) -> str:
    return f"{match.kind}:{match.item_id}"


@lru_cache(maxsize=1)
def _communes() -> CommuneMatcher:
    return CommuneMatcher(20)


def place_code(name: str) -> str:
    """A Lạng Sơn commune's code from its name (the commune matcher must accept it)."""
    result = _communes().match(name)
    if result.decision != "accept":
        raise ValueError(f"{name!r} is not one commune of Lạng Sơn ({result.decision})")
    return result.candidates[0].code


def _where(row: dict[str, Any]) -> str | None:
    if "code" in row:
        return str(row["code"])
    return place_code(row["at"]) if row.get("at") else None


def _policy(row: dict[str, Any]) -> PolicyItem:
    return PolicyItem(
        code=row["code"],
        levels=tuple(row.get("levels", ())),
        target_groups=tuple(row.get("groups", ())),
        items=tuple(row.get("items", ())),
        valid_from=row.get("from"),
        valid_to=row.get("to"),
        window_months=row.get("window"),
    )


def _course(row: dict[str, Any], policies: Sequence[PolicyItem]) -> CourseItem:
    codes = tuple(row.get("policies", ()))
    return CourseItem(
        id=row["id"],
        trade_code=row["trade"],
        level=row["level"],
        title=row["title"],
        institution="(test)",
        start_date=row.get("start"),
        enrol_deadline=row.get("deadline"),
        venue_code=_where(row),
        is_mobile=bool(row.get("mobile")),
        fee_vnd=row.get("fee"),
        policy_codes=codes,
        seats_left=row.get("seats"),
        min_age=row.get("min_age"),
        max_age=row.get("max_age"),
        min_education=row.get("education"),
        requires_license=row.get("licence"),
        policies=applicable_policies(row["level"], codes, policies),
    )


def _fair(row: dict[str, Any]) -> FairItem:
    return FairItem(
        id=row["id"],
        title=row["title"],
        day=row["day"],
        mode=row.get("mode", "offline"),
        venue_code=_where(row),
        trades=tuple(row.get("trades", ())),
        min_age=row.get("min_age"),
        max_age=row.get("max_age"),
    )


def _vacancy(row: dict[str, Any]) -> VacancyItem:
    pay = row.get("pay") or [None, None]
    age = row.get("age") or [None, None]
    return VacancyItem(
        id=row["id"],
        position=row["position"],
        employer=row["employer"],
        trade_code=row.get("trade"),
        pay_min_vnd=pay[0],
        pay_max_vnd=pay[1],
        age_min=age[0],
        age_max=age[1],
        education_min=row.get("education"),
        license_required=row.get("licence"),
        work_place_code=_where(row),
        country=row.get("country"),
        valid_to=row.get("valid_to"),
    )


def _profile(number: int, row: dict[str, Any]) -> Profile:
    age = row.get("age", [20, 29])
    lo, hi = (age, age) if isinstance(age, int) else age
    dismissed = set()
    for text in row.get("dismissed", ()):
        kind, _, item_id = text.partition(":")
        dismissed.add((kind, int(item_id)))
    return Profile(
        person_id=number,
        language=row.get("lang", "vi"),
        trades=tuple(row["trades"]),
        home_code=place_code(row["home"]) if row.get("home") else None,
        education=row.get("education", "upper_secondary"),
        wish_level=row.get("wish_level"),
        training_place=row.get("training_place", "in_province"),
        work_place=row.get("work_place", "in_province"),
        min_age=lo,
        max_age=hi,
        interest_code=row.get("interest"),
        licences=frozenset(row.get("licences", ())),
        discharge_month=row.get("discharge"),
        returned=row.get("returned", True),
        dismissed=frozenset(dismissed),
        groups=frozenset(row.get("groups", ["discharged"])),
    )


def _items(
    kind: str, catalog: dict[str, Any], extra: list[dict[str, Any]], policies: list[PolicyItem]
) -> tuple[Item, ...]:
    plural = {"course": "courses", "fair": "fairs", "vacancy": "vacancies"}[kind]
    rows = [*catalog.get(plural, []), *(r for r in extra if r["kind"] == kind)]
    if kind == "course":
        return tuple(_course(r, policies) for r in rows)
    if kind == "fair":
        return tuple(_fair(r) for r in rows)
    return tuple(_vacancy(r) for r in rows)


@lru_cache(maxsize=1)
def load_cases(path: Path = CASES_PATH) -> tuple[Case, ...]:
    """Every case of the labelled set, in file order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    shared = [_policy(p) for p in data["policies"]]
    cases = []
    for number, row in enumerate(data["cases"], 1):
        policies = [_policy(p) for p in row["policies"]] if "policies" in row else shared
        cases.append(
            Case(
                id=row["id"],
                note=row["note"],
                profile=_profile(number, row["person"]),
                kind=row["kind"],
                items=_items(row["kind"], data["catalog"], row.get("items", []), policies),
                best=row["best"],
                excluded=tuple(row.get("excluded", ())),
                today=row.get("today", data["today"]),
            )
        )
    return tuple(cases)


@dataclass(frozen=True)
class Agreement:
    """How a ranking agrees with the labelled set."""

    cases: int
    top1: int
    top3: int
    misses: tuple[tuple[str, str, tuple[str, ...]], ...]  # (case, expected, ranker's top 3)


def agreement(ranker: Ranker, cases: Sequence[Case]) -> Agreement:
    """Top-1 and top-3 agreement of the ranker's first three with each case's best item."""
    top1 = top3 = 0
    misses = []
    for case in cases:
        shown = tuple(key(m) for m in ranker.rank(case.profile, case.items, case.today, 3))
        top1 += bool(shown) and shown[0] == case.best
        top3 += case.best in shown
        if not shown or shown[0] != case.best:
            misses.append((case.id, case.best, shown))
    return Agreement(len(cases), top1, top3, tuple(misses))
