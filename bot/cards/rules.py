"""The dated rules of training support (``content/training_support.yaml``, plus rules officers
add in the admin): which base salary, which support rule, which settlement deadlines hold on a day.

A rule holds from its ``from`` day until the next rule's ``from``. Officers' rules (table
``support_rule_overrides``) are merged in: on the same ``from`` day the officer's rule wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.vocab import vocabularies
from bot.content_loading import CONTENT_DIR, load_yaml, validate_model
from storage import settlements as settlements_repo

RULES_PATH = CONTENT_DIR / "training_support.yaml"
RuleKind = Literal["base_salary", "support", "settlement"]
RULE_KINDS: tuple[RuleKind, ...] = ("base_salary", "support", "settlement")


class Dated(BaseModel):
    """Something that holds from a day on."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    valid_from: date = Field(alias="from")
    legal_basis: str = ""


class BaseSalary(Dated):
    amount: int = Field(gt=0)


class SupportRule(Dated):
    cap_base_salary_months: int = Field(ge=0)
    meal_per_day: int = Field(ge=0)
    travel_per_course: int = Field(ge=0)
    card_valid_months: int | None = Field(default=None, ge=1)
    levels: list[str] = Field(min_length=1)
    order: list[Literal["tuition", "meals", "travel"]] = Field(min_length=3, max_length=3)

    @field_validator("levels")
    @classmethod
    def _known_levels(cls, levels: list[str]) -> list[str]:
        known = vocabularies().codes("levels")
        unknown = [code for code in levels if code not in known]
        if unknown:
            raise ValueError(f"unknown level {unknown[0]!r}: one of {', '.join(known)}")
        return levels

    @field_validator("order")
    @classmethod
    def _each_once(cls, order: list[str]) -> list[str]:
        if len(set(order)) != len(order):
            raise ValueError("tuition, meals and travel once each")
        return order


class DayOfYear(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class SettlementRule(Dated):
    half_year_due: DayOfYear
    year_due: DayOfYear


class SupportRules(BaseModel):
    """Every dated rule, each list by ``from``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    base_salary: list[BaseSalary] = Field(min_length=1)
    support: list[SupportRule] = Field(min_length=1)
    settlement: list[SettlementRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> SupportRules:
        for name in ("base_salary", "support", "settlement"):
            days = [r.valid_from for r in getattr(self, name)]
            if days != sorted(days) or len(set(days)) != len(days):
                raise ValueError(f"{name}: rules must be in order of 'from', one per day")
        return self

    def base_salary_on(self, day: date) -> BaseSalary:
        """The base salary in force on ``day``."""
        return _on(self.base_salary, day, "base salary")

    def support_on(self, day: date) -> SupportRule:
        """The support rule in force on ``day``."""
        return _on(self.support, day, "support rule")

    def settlement_on(self, day: date) -> SettlementRule:
        """The settlement deadlines in force on ``day``."""
        return _on(self.settlement, day, "settlement rule")

    def with_overrides(self, overrides: Iterable[tuple[RuleKind, dict[str, Any]]]) -> SupportRules:
        """These rules plus officers' rules (kind, fields as in the YAML); an officer's rule
        replaces a file rule of the same kind and day."""
        lists: dict[str, dict[date, Dated]] = {
            "base_salary": {r.valid_from: r for r in self.base_salary},
            "support": {r.valid_from: r for r in self.support},
            "settlement": {r.valid_from: r for r in self.settlement},
        }
        for kind, fields in overrides:
            rule = MODELS[kind].model_validate(fields)
            lists[kind][rule.valid_from] = rule
        return SupportRules(
            version=self.version,
            base_salary=[lists["base_salary"][d] for d in sorted(lists["base_salary"])],
            support=[lists["support"][d] for d in sorted(lists["support"])],
            settlement=[lists["settlement"][d] for d in sorted(lists["settlement"])],
        )


D = TypeVar("D", bound=Dated)


class NoRuleError(LookupError):
    """No rule holds on that day (before the first one)."""


def _on(rules: Sequence[D], day: date, what: str) -> D:
    found = [r for r in rules if r.valid_from <= day]
    if not found:
        raise NoRuleError(f"no {what} before {rules[0].valid_from.isoformat()}")
    return found[-1]


def load_rules(path: Path | None = None) -> SupportRules:
    """Load and check ``content/training_support.yaml`` (ContentError names file:line)."""
    path = path or RULES_PATH
    return validate_model(SupportRules, load_yaml(path), path)


@lru_cache(maxsize=1)
def shipped_rules() -> SupportRules:
    """The shipped rules, loaded once (officers' rules are merged per use)."""
    return load_rules()


async def current_rules(session: AsyncSession) -> SupportRules:
    """The shipped rules with the officers' rules (table ``support_rule_overrides``) merged in."""
    rows = await settlements_repo.overrides(session)
    return shipped_rules().with_overrides(
        (_kind(row.kind), {**row.fields, "from": row.valid_from}) for row in rows
    )


def _kind(value: str) -> RuleKind:
    for kind in RULE_KINDS:
        if kind == value:
            return kind
    raise ValueError(f"unknown rule kind {value!r}")


MODELS: dict[RuleKind, type[Dated]] = {
    "base_salary": BaseSalary,
    "support": SupportRule,
    "settlement": SettlementRule,
}


class RuleRefused(Exception):
    """An officer's rule that cannot be added; ``key`` names why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def add_rule(
    session: AsyncSession, kind: RuleKind, fields: dict[str, Any], actor: str
) -> Dated:
    """Check an officer's rule with the file's own models (pydantic ValidationError) and store
    it. Refused (:class:`RuleRefused`) on a day that already has an officer's rule of that kind,
    or that amounts already sent for settlement depend on: a base salary or support rule from a
    day on or before the latest first day of training whose amounts were frozen, a settlement
    rule from a day on or before the end of the latest period sent."""
    rule = MODELS[kind].model_validate(fields)
    day = rule.valid_from
    officers = await settlements_repo.overrides(session)
    if any(r.kind == kind and r.valid_from == day for r in officers):
        raise RuleRefused("same_day")
    if kind == "settlement":
        used = await settlements_repo.latest_sent_period_end(session)
    else:
        used = await settlements_repo.latest_frozen_start(session)
    if used is not None and day <= used:
        raise RuleRefused("used")
    stored = rule.model_dump(mode="json", by_alias=True, exclude={"valid_from"})
    await settlements_repo.add_override(session, kind, day, stored, actor)
    return rule
