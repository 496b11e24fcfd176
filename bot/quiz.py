"""Interest quiz (RIASEC): load ``content/quiz.yaml``, score answers, recommend trades.

Pure functions, no aiogram. Answers are ``{item_id: scale value}``, e.g. ``{"r1": "like"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content_loading import CONTENT_DIR, Localized, load_yaml, validate_model
from bot.matching.catalog import RIASEC, Trade, TradeCatalog

QUIZ_PATH = CONTENT_DIR / "quiz.yaml"
Area = Literal["R", "I", "A", "S", "E", "C"]
# Weights by position in an interest code ("RCI": R counts 3, C 2, I 1), for people and trades.
POSITION_WEIGHTS = (3, 2, 1)
LIKE = "like"


class ScaleOption(BaseModel):
    """One answer button: its value, points and label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Literal["like", "unsure", "dislike"]
    points: int = Field(ge=0, le=10)
    label: Localized


class QuizItem(BaseModel):
    """One statement of the quiz."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")
    area: Area
    text: Localized


class AreaInfo(BaseModel):
    """Name and description of one RIASEC area."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Localized
    description: Localized


class ResultTexts(BaseModel):
    """Texts of the result message: what the person likes (``{areas}``), then the invitation to
    pick a suggested trade; or why nothing is suggested."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    top: Localized
    pick: Localized
    no_likes: Localized

    @model_validator(mode="after")
    def _placeholders(self) -> ResultTexts:
        if "{areas}" not in self.top.vi or "{areas}" not in self.top.en:
            raise ValueError("top must contain {areas} in vi and en")
        return self


class Quiz(BaseModel):
    """The whole quiz: intro, answer scale, items, area texts, result templates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intro: Localized
    question: Localized
    scale: list[ScaleOption] = Field(min_length=2)
    items: list[QuizItem] = Field(min_length=6, max_length=12)
    areas: dict[Area, AreaInfo]
    result: ResultTexts

    @model_validator(mode="after")
    def _consistent(self) -> Quiz:
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        for area in RIASEC:
            if sum(item.area == area for item in self.items) != 2:
                raise ValueError(f"area {area} must have exactly 2 items")
            if area not in self.areas:
                raise ValueError(f"areas must describe {area}")
        values = [opt.value for opt in self.scale]
        if len(set(values)) != len(values) or LIKE not in values:
            raise ValueError("scale values must be unique and include 'like'")
        return self

    def points(self, value: str) -> int:
        """Points of one scale value; ValueError for an unknown value."""
        for opt in self.scale:
            if opt.value == value:
                return opt.points
        raise ValueError(
            f"unknown answer {value!r}; expected one of {[o.value for o in self.scale]}"
        )

    def score(self, answers: Mapping[str, str]) -> list[tuple[str, int]]:
        """Points per area, best first (ties in R-I-A-S-E-C order); unknown item ids ignored."""
        totals = dict.fromkeys(RIASEC, 0)
        for item in self.items:
            if item.id in answers:
                totals[item.area] += self.points(answers[item.id])
        return sorted(totals.items(), key=lambda kv: (-kv[1], RIASEC.index(kv[0])))

    def top_areas(self, answers: Mapping[str, str], n: int = 3) -> str:
        """Interest code: up to n areas with at least one "like", best first (e.g. "RC")."""
        liked = {item.area for item in self.items if answers.get(item.id) == LIKE}
        return "".join(area for area, _ in self.score(answers) if area in liked)[:n]

    def result_message(self, answers: Mapping[str, str], lang: str = "vi") -> str:
        """The message shown after the quiz, in plain words: what the person seems to like (the
        descriptions of their top areas), then the invitation to pick a suggested trade."""
        code = self.top_areas(answers)
        if not code:
            return self.result.no_likes.get(lang)
        likes = [self.areas[letter].description.get(lang) for letter in code]  # type: ignore[index]
        top = self.result.top.get(lang).format(areas="\n".join(f"• {like}" for like in likes))
        return f"{top}\n\n{self.result.pick.get(lang)}"


def load_quiz(path: Path | None = None) -> Quiz:
    """Load and validate the quiz; problems raise ContentError naming file:line."""
    path = path or QUIZ_PATH
    return validate_model(Quiz, load_yaml(path), path)


@lru_cache(maxsize=1)
def _default_quiz() -> Quiz:
    return load_quiz()


def score(answers: Mapping[str, str], quiz: Quiz | None = None) -> list[tuple[str, int]]:
    """Points per RIASEC area, best first (default quiz unless one is given)."""
    return (quiz or _default_quiz()).score(answers)


def top_areas(answers: Mapping[str, str], quiz: Quiz | None = None, n: int = 3) -> str:
    """The person's interest code, e.g. "RC" (areas with at least one "like")."""
    return (quiz or _default_quiz()).top_areas(answers, n)


def fit(person_code: str, trade_code: str) -> int:
    """How well a trade's RIASEC code fits a person's code (position-weighted overlap)."""
    total = 0
    for p_pos, letter in enumerate(person_code[: len(POSITION_WEIGHTS)]):
        t_pos = trade_code.find(letter)
        if 0 <= t_pos < len(POSITION_WEIGHTS):
            total += POSITION_WEIGHTS[p_pos] * POSITION_WEIGHTS[t_pos]
    return total


def recommend_for_code(
    catalog: TradeCatalog, person_code: str, n: int = 3, diverse: bool = True
) -> list[Trade]:
    """Best-fitting trades for an interest code; ties keep catalog order.

    With ``diverse`` the first picks come from different groups (not three driving classes).
    """
    ranked = sorted(
        ((fit(person_code, t.riasec), i, t) for i, t in enumerate(catalog.trades)),
        key=lambda item: (-item[0], item[1]),
    )
    fitting = [t for f, _, t in ranked if f > 0]
    if not diverse:
        return fitting[:n]
    picked: list[Trade] = []
    groups: set[str] = set()
    for trade in fitting:
        if len(picked) < n and trade.group not in groups:
            picked.append(trade)
            groups.add(trade.group)
    rest = [t for t in fitting if t not in picked]
    chosen = picked + rest[: max(0, n - len(picked))]
    return sorted(chosen, key=fitting.index)


def recommend(
    catalog: TradeCatalog, answers: Mapping[str, str], n: int = 3, quiz: Quiz | None = None
) -> list[Trade]:
    """Trades to suggest after the quiz, best first; empty if nothing was liked."""
    code = top_areas(answers, quiz)
    return recommend_for_code(catalog, code, n) if code else []
