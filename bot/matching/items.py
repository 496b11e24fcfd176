"""The records ranking works on: a person's :class:`Profile`, catalog items (courses, fairs,
vacancies, the support policies a course may carry) and the :class:`Match` it gives back.

Plain frozen dataclasses, no database: ``bot.matching.service`` builds them from rows, the
labelled set and ``bench/matching.py`` build them from YAML or at random.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

ItemKind = Literal["course", "fair", "vacancy"]


@dataclass(frozen=True)
class Profile:
    """What ranking needs to know about a person (``storage`` builds it from their answers).

    ``min_age``/``max_age``: bounds of the person's age (from the enlistment month when the birth
    year is unknown); ``groups``: support target groups they belong to (``discharged``,
    ``police_discharged``; empty = unknown, any); ``interest_code``: RIASEC letters from the quiz.
    """

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
    max_age: int | None = None
    groups: frozenset[str] = frozenset()

    def serving(self, today: date) -> bool:
        """Still in service on ``today`` (not back, discharge month ahead)."""
        return (
            not self.returned and self.discharge_month is not None and self.discharge_month > today
        )

    def ready(self, today: date) -> date:
        """The first day the person can start something: today, or their discharge month."""
        if self.serving(today) and self.discharge_month is not None:
            return self.discharge_month
        return today


@dataclass(frozen=True)
class PolicyItem:
    """A support policy as ranking sees it: which levels and groups, what it pays, when valid,
    and within how many months of discharge (None: no limit known)."""

    code: str
    levels: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    window_months: int | None = None


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
    policies: tuple[PolicyItem, ...] = ()  # the support policies that may pay for it


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
    """One part of the one-line reason: a key (see ``bot.matching.reasons.WORDS``) and its
    values; ``bot.matching.reasons`` words it in the person's language."""

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
