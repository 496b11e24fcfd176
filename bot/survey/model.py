"""Pydantic models of ``content/survey.yaml`` (schema documented in ``content/README.md``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.content_loading import Localized

QuestionType = Literal[
    "choice", "multi_choice", "text", "month", "phone", "commune", "trade", "yes_no", "consent"
]
# Types answered by pressing one option button (value is the option value).
SINGLE_CHOICE_TYPES: frozenset[str] = frozenset({"choice", "consent", "yes_no"})
# Types whose options come from ``options:`` in the YAML.
OPTION_TYPES: frozenset[str] = SINGLE_CHOICE_TYPES | {"multi_choice"}
# Types the handlers resolve with a fuzzy matcher (``bot.matching``), not with the engine.
MATCHER_TYPES: frozenset[str] = frozenset({"commune", "trade"})
# Validation rules each type accepts.
RULES_BY_TYPE: dict[str, frozenset[str]] = {
    "text": frozenset({"min_length", "max_length", "pattern"}),
    "month": frozenset({"not_in_future", "not_before_months_ago", "after", "max_months_after"}),
}
SNAKE_ID = r"^[a-z][a-z0-9_]*$"


def _bool_word(v: Any) -> Any:
    """YAML 1.1 reads ``yes``/``no`` as booleans; turn them back into the words."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Option(_Strict):
    """One answer button: stable ``value`` stored in the DB and its label per language."""

    value: str = Field(pattern=SNAKE_ID)
    label: Localized
    aliases: tuple[str, ...] = ()
    stop: bool = False

    @field_validator("value", mode="before")
    @classmethod
    def _yaml_bool(cls, v: Any) -> Any:
        """Read an unquoted YAML ``yes``/``no`` (parsed as a bool) as the string."""
        return _bool_word(v)

    @field_validator("aliases", mode="before")
    @classmethod
    def _yaml_bools(cls, v: Any) -> Any:
        """Same as ``_yaml_bool`` for each alias (``[no, ko]`` is fine unquoted)."""
        return [_bool_word(x) for x in v] if isinstance(v, list) else v


class Condition(_Strict):
    """Skip logic: exactly one of the forms below (see content/README.md)."""

    question: str | None = None
    equals: str | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    not_equals: str | None = None
    answered: bool | None = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @field_validator("equals", "not_equals", mode="before")
    @classmethod
    def _yaml_bool(cls, v: Any) -> Any:
        """Read an unquoted YAML ``yes``/``no`` (parsed as a bool) as the string."""
        return _bool_word(v)

    @field_validator("in_", mode="before")
    @classmethod
    def _yaml_bools(cls, v: Any) -> Any:
        """Same as ``_yaml_bool`` for each item of ``in``."""
        return [_bool_word(x) for x in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        """Require exactly one test for ``question`` or exactly one combinator."""
        tests = [self.equals, self.in_, self.not_equals, self.answered]
        n_tests = sum(t is not None for t in tests)
        n_comb = sum(c is not None for c in (self.all, self.any, self.not_))
        if self.question is not None:
            if n_tests != 1 or n_comb:
                raise ValueError(
                    "a condition on 'question' needs exactly one of equals, in, not_equals, "
                    "answered"
                )
        elif n_comb != 1 or n_tests:
            raise ValueError("a condition needs 'question' or exactly one of all, any, not")
        return self

    def question_refs(self) -> list[str]:
        """Every question id this condition (recursively) looks at."""
        refs = [self.question] if self.question else []
        for sub in (*(self.all or ()), *(self.any or ()), *((self.not_,) if self.not_ else ())):
            refs.extend(sub.question_refs())
        return refs


class MonthsAfter(_Strict):
    """Parameter of ``max_months_after``: at most ``months`` after the answer to ``question``."""

    question: str
    months: int = Field(ge=0)


class Rule(_Strict):
    """One validation rule: its parameter and an optional message overriding the generic one."""

    value: Any
    error: Localized | None = None


_RULE_TYPES: dict[str, Any] = {
    "min_length": int,
    "max_length": int,
    "pattern": str,
    "not_in_future": bool,
    "not_before_months_ago": int,
    "after": str,
    "max_months_after": MonthsAfter,
}


class Validation(_Strict):
    """Validation rules by name; each given plainly or as ``{value: ..., error: {vi, en}}``."""

    min_length: Rule | None = None
    max_length: Rule | None = None
    pattern: Rule | None = None
    not_in_future: Rule | None = None
    not_before_months_ago: Rule | None = None
    after: Rule | None = None
    max_months_after: Rule | None = None

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, data: Any) -> Any:
        """Accept the short form ``rule: value`` and type-check each value."""
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for name, raw in data.items():
            if raw is None:
                continue  # an unset rule (e.g. from model_dump)
            if name not in _RULE_TYPES:
                out[name] = raw  # rejected by extra="forbid"
                continue
            is_long = isinstance(raw, dict) and "value" in raw
            rule = dict(raw) if is_long else {"value": raw}
            rule["value"] = _coerce_rule_value(name, rule["value"])
            out[name] = rule
        return out

    def rules(self) -> dict[str, Rule]:
        """The rules that are set, by name, in declaration order."""
        return {name: r for name in _RULE_TYPES if (r := getattr(self, name)) is not None}


def _coerce_rule_value(name: str, value: Any) -> Any:
    """Check a rule parameter has the right type (bool is not an int here)."""
    kind = _RULE_TYPES[name]
    if kind is MonthsAfter:
        return MonthsAfter.model_validate(value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} needs a whole number >= 0")
    if not isinstance(value, kind):
        raise ValueError(f"{name} needs a {kind.__name__}")
    return value


class Question(_Strict):
    """One survey question."""

    id: str = Field(pattern=SNAKE_ID)
    type: QuestionType
    label: Localized
    prompt: Localized
    help: Localized | None = None
    options: tuple[Option, ...] = ()
    when: Condition | None = None
    required: bool = True
    counted: bool = True
    editable: bool = True
    validation: Validation = Validation()
    max_choices: int | None = Field(default=None, ge=1)
    # a given answer is stored as the answer to this earlier question of the same type (the
    # call-back question asks for the phone number the soldier skipped)
    saves_as: str | None = None

    @property
    def optional(self) -> bool:
        """True when the soldier may skip the question (a skip button is shown)."""
        return not self.required

    @property
    def needs_matcher(self) -> bool:
        """True for commune/trade questions, resolved by ``bot.matching`` in the handlers."""
        return self.type in MATCHER_TYPES

    def option(self, value: str) -> Option | None:
        """The option with this value, or None."""
        return next((o for o in self.options if o.value == value), None)


class Survey(_Strict):
    """The whole survey: version, generic messages and ordered questions."""

    version: str
    messages: dict[str, Localized]
    questions: tuple[Question, ...] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: Any) -> Any:
        """Refuse an unquoted number such as ``2026.1`` (YAML reads it as a float)."""
        if not isinstance(v, str):
            raise ValueError('version must be a quoted string, e.g. "2026.1"')
        return v

    def question(self, question_id: str) -> Question:
        """The question with this id; KeyError if unknown."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def has_question(self, question_id: str) -> bool:
        """True if a question with this id exists."""
        return any(q.id == question_id for q in self.questions)
