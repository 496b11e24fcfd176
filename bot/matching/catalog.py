"""The trade catalog (``content/trades.yaml``): trades, their names and the words for them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.content_loading import (
    CONTENT_DIR,
    ContentError,
    ContentProblem,
    Localized,
    first_duplicate,
    line_for,
    load_yaml,
    validate_model,
    words_that_fold,
)

TRADES_PATH = CONTENT_DIR / "trades.yaml"

TradeGroup = Literal[
    "transport",
    "mechanics",
    "electrical",
    "construction",
    "it",
    "creative",
    "hospitality",
    "services",
    "business",
    "languages",
    "agriculture",
    "security",
]
RIASEC = "RIASEC"
RelatedTier = Literal["close", "broad"]


class Related(BaseModel):
    """Trades to suggest to someone who chose this one: ``close`` (little retraining) and
    ``broad`` (a wider step)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    close: list[str] = Field(default_factory=list)
    broad: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _each_once(self) -> Related:
        duplicate = first_duplicate([*self.close, *self.broad])
        if duplicate is not None:
            raise ValueError(f"related trade {duplicate!r} listed twice")
        return self


class Trade(BaseModel):
    """One trade of the catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    name: Localized
    group: TradeGroup
    riasec: str
    synonyms: list[str] = Field(default_factory=list)
    exact: list[str] = Field(default_factory=list)
    related: Related = Field(default_factory=Related)

    @field_validator("riasec")
    @classmethod
    def _valid_riasec(cls, value: str) -> str:
        value = value.strip().upper()
        if not 1 <= len(value) <= 3 or any(ch not in RIASEC for ch in value):
            raise ValueError("must be 1-3 letters of R, I, A, S, E, C")
        if len(set(value)) != len(value):
            raise ValueError("must not repeat a letter")
        return value

    @field_validator("synonyms", "exact")
    @classmethod
    def _words_fold(cls, values: list[str]) -> list[str]:
        return words_that_fold(values)

    def name_in(self, lang: str) -> str:
        """The name in ``lang`` ("vi" or "en"; anything else gives Vietnamese)."""
        return self.name.get(lang)


class TradeCatalog(BaseModel):
    """All trades, in file order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trades: list[Trade] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> TradeCatalog:
        duplicate = first_duplicate(t.code for t in self.trades)
        if duplicate is not None:
            raise ValueError(f"duplicate trade code {duplicate!r}")
        codes = {t.code for t in self.trades}
        for trade in self.trades:
            for code in (*trade.related.close, *trade.related.broad):
                if code not in codes or code == trade.code:
                    raise ValueError(f"{trade.code}: related trade {code!r} is not another trade")
        return self

    def __iter__(self) -> Iterator[Trade]:  # type: ignore[override]
        return iter(self.trades)

    def __len__(self) -> int:
        return len(self.trades)

    def __contains__(self, code: object) -> bool:
        return any(t.code == code for t in self.trades)

    def get(self, code: str) -> Trade | None:
        """The trade with this code, or None."""
        return next((t for t in self.trades if t.code == code), None)

    def codes(self) -> list[str]:
        """All trade codes in file order."""
        return [t.code for t in self.trades]

    def related(self) -> dict[str, dict[str, RelatedTier]]:
        """Each trade's related trades with their tier, read both ways (the closer tier wins)."""
        found: dict[str, dict[str, RelatedTier]] = {t.code: {} for t in self.trades}
        for trade in self.trades:
            tiers: tuple[tuple[RelatedTier, list[str]], ...] = (
                ("broad", trade.related.broad),
                ("close", trade.related.close),
            )
            for tier, codes in tiers:
                for code in codes:
                    for a, b in ((trade.code, code), (code, trade.code)):
                        if found[a].get(b) != "close":
                            found[a][b] = tier
        return found

    def by_group(self, group: str) -> list[Trade]:
        """Trades of one group, in file order."""
        return [t for t in self.trades if t.group == group]


def _duplicate_code_problems(data: Any, path: Path) -> list[ContentProblem]:
    """Duplicate codes in raw YAML data, each named with its line."""
    items = data.get("trades") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    problems: list[ContentProblem] = []
    first_line: dict[str, int | None] = {}
    for i, item in enumerate(items):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str):
            continue
        line = line_for(data, ("trades", i, "code"))
        if code in first_line:
            reason = (
                f"trades.{i}.code: duplicate trade code {code!r} (first at line {first_line[code]})"
            )
            problems.append(ContentProblem(path, line, reason))
        else:
            first_line[code] = line
    return problems


def load_trades(path: Path | None = None) -> TradeCatalog:
    """Load and validate the trade catalog; problems raise ContentError naming file:line."""
    path = path or TRADES_PATH
    data = load_yaml(path)
    problems = _duplicate_code_problems(data, path)
    if problems:
        raise ContentError(problems)
    return validate_model(TradeCatalog, data, path)
