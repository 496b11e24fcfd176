"""Loading ``content/survey.yaml``: schema validation plus semantic checks naming the YAML line."""

from __future__ import annotations

import functools
import re
import string
from pathlib import Path
from typing import Any

from bot.content_check import html_problems
from bot.content_loading import (
    CONTENT_DIR,
    ContentError,
    ContentProblem,
    line_for,
    load_yaml,
    validate_model,
)
from bot.survey.model import (
    OPTION_TYPES,
    RULES_BY_TYPE,
    SINGLE_CHOICE_TYPES,
    Condition,
    Localized,
    Option,
    Question,
    Survey,
)
from bot.survey.parsing import fold

SURVEY_PATH = CONTENT_DIR / "survey.yaml"

# Message keys the engine and handlers rely on, with the placeholders each may use.
MESSAGE_KEYS: dict[str, frozenset[str]] = {
    key: frozenset(fields)
    for key, fields in {
        # engine errors
        "not_a_choice": (),
        "text_expected": (),
        "too_long": ("max",),
        "too_short": ("min",),
        "bad_month_format": ("example",),
        "impossible_month": ("example",),
        "month_example": (),
        "month_in_future": (),
        "month_too_old": ("limit",),
        "month_before": ("month",),
        "month_too_far": ("months", "limit"),
        "bad_phone": (),
        "pattern_mismatch": (),
        "required": (),
        "too_many_choices": ("max",),
        "trade_duplicate": (),
        "not_answered": (),
        # flow and buttons (handlers)
        "intro": (),
        "privacy": (),
        "progress": ("n", "total"),
        "skip": (),
        "yes": (),
        "no": (),
        "done": (),
        "back": (),
        "share_phone": (),
        "use_buttons": (),
        "stale_button": (),
        "refused": (),
        "resume": ("n", "total"),
        "review": (),
        "summary_title": (),
        "edit": (),
        "edit_pick": (),
        "confirm": (),
        "confirmed": (),
        # commune question
        "commune_ask": (),
        "commune_none": ("text",),
        "commune_outside": ("name", "province"),
        "commune_retype": (),
        # trade question
        "trade_confirm": ("name",),
        "trade_ask": (),
        "trade_none": ("text",),
        "trade_added": ("rank", "name"),
        "trade_add_another": ("count", "max"),
        "trade_done": (),
        "trade_retype": (),
        "trade_quiz": (),
    }.items()
}

# Typed words accepted for the default yes/no options (folded: no diacritics, lower case).
YES_ALIASES = ("co", "u", "uh", "um", "ok", "oke", "dong y", "muon", "y", "yes", "yeah", "sure")
NO_ALIASES = ("khong", "ko", "k", "kg", "hong", "khong muon", "n", "no", "nope")

# Survey texts are shown in messages and on buttons: bold and italic only.
SURVEY_TAGS = frozenset({"b", "i"})


def load_survey(path: Path | str | None = None) -> Survey:
    """Load and check survey.yaml (default ``content/survey.yaml``); cached per path."""
    if path is None:
        return _load_default()
    return _load_cached(Path(path).resolve())


@functools.lru_cache(maxsize=1)
def _load_default() -> Survey:
    """The shipped survey (the hot path: no path resolution per call)."""
    return _load_cached(SURVEY_PATH.resolve())


def reload_survey(path: Path | str | None = None) -> Survey:
    """Forget every cached survey and load ``path`` again (after editing the YAML)."""
    _load_cached.cache_clear()
    _load_default.cache_clear()
    return load_survey(path)


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path) -> Survey:
    """Uncached load of one resolved path."""
    raw = load_yaml(path)
    survey = validate_model(Survey, raw, path)
    problems = _Checker(survey, raw, path).run()
    if problems:
        raise ContentError(problems)
    return _with_default_yes_no(survey)


def _with_default_yes_no(survey: Survey) -> Survey:
    """Give yes_no questions without ``options:`` the standard yes/no options from messages."""
    yes = Option(value="yes", label=survey.messages["yes"], aliases=YES_ALIASES)
    no = Option(value="no", label=survey.messages["no"], aliases=NO_ALIASES)
    questions = tuple(
        q.model_copy(update={"options": (yes, no)}) if q.type == "yes_no" and not q.options else q
        for q in survey.questions
    )
    return survey.model_copy(update={"questions": questions})


class _Checker:
    """Semantic checks pydantic cannot express; collects every problem with its line."""

    def __init__(self, survey: Survey, raw: Any, path: Path):
        self.survey = survey
        self.raw = raw
        self.path = path
        self.problems: list[ContentProblem] = []

    def add(self, loc: tuple[int | str, ...], reason: str) -> None:
        """Record a problem at the YAML location ``loc``."""
        self.problems.append(ContentProblem(self.path, line_for(self.raw, loc), reason))

    def run(self) -> list[ContentProblem]:
        """Run every check; return the problems found (sorted by line)."""
        self.check_messages()
        seen: dict[str, int] = {}
        for i, question in enumerate(self.survey.questions):
            loc: tuple[int | str, ...] = ("questions", i)
            if question.id in seen:
                self.add((*loc, "id"), f"duplicate question id {question.id!r}")
            seen.setdefault(question.id, i)
            self.check_question(question, loc, seen)
        return sorted(self.problems, key=lambda p: p.line or 0)

    def check_messages(self) -> None:
        """Every needed message exists, in every language, with known placeholders only."""
        messages = self.survey.messages
        for key in MESSAGE_KEYS:
            if key not in messages:
                self.add(("messages",), f"messages: missing {key!r}")
        for key, texts in messages.items():
            loc: tuple[int | str, ...] = ("messages", key)
            self.check_texts(loc, texts, f"messages.{key}")
            allowed = MESSAGE_KEYS.get(key)
            for lang, value in texts:
                unknown = _placeholders(value) - allowed if allowed is not None else set()
                if unknown:
                    self.add((*loc, lang), f"messages.{key}.{lang}: unknown {sorted(unknown)}")
            if len({frozenset(_placeholders(v)) for v in (texts.vi, texts.en)}) > 1:
                self.add(loc, f"messages.{key}: languages use different {{placeholders}}")

    def check_texts(self, loc: tuple[int | str, ...], texts: Localized, what: str) -> None:
        """HTML limited to <b>/<i> and entities (the model requires both languages)."""
        for lang, value in texts:
            for _, problem in html_problems(value, SURVEY_TAGS):
                self.add((*loc, lang), f"{what}.{lang}: {problem}")

    def check_question(
        self, question: Question, loc: tuple[int | str, ...], seen: dict[str, int]
    ) -> None:
        """Texts, options, skip logic and validation rules of one question."""
        qid = question.id
        self.check_texts((*loc, "label"), question.label, f"{qid}.label")
        self.check_texts((*loc, "prompt"), question.prompt, f"{qid}.prompt")
        if question.help is not None:
            self.check_texts((*loc, "help"), question.help, f"{qid}.help")
        self.check_options(question, loc)
        if question.when is not None:
            self.check_condition(question.when, (*loc, "when"), qid, seen)
        self.check_validation(question, loc, seen)
        if question.saves_as is not None:
            self.check_saves_as(question, (*loc, "saves_as"), seen)
        if question.max_choices is not None:
            if question.type not in ("multi_choice", "trade"):
                self.add((*loc, "max_choices"), f"{qid}: max_choices needs multi_choice or trade")
            elif question.type == "multi_choice" and question.max_choices > len(question.options):
                self.add((*loc, "max_choices"), f"{qid}: max_choices exceeds the options")

    def check_options(self, question: Question, loc: tuple[int | str, ...]) -> None:
        """Options only where they belong, unique values, distinct typed forms, yes_no shape."""
        qid, kind, opts = question.id, question.type, question.options
        if kind not in OPTION_TYPES and opts:
            self.add((*loc, "options"), f"{qid}: type {kind} takes no options")
            return
        if kind in ("choice", "multi_choice", "consent") and not opts:
            self.add(loc, f"{qid}: type {kind} needs options")
        if kind == "yes_no" and opts and sorted(o.value for o in opts) != ["no", "yes"]:
            self.add((*loc, "options"), f"{qid}: yes_no options must be exactly yes and no")
        values: set[str] = set()
        typed: dict[str, str] = {}
        for j, option in enumerate(opts):
            oloc = (*loc, "options", j)
            if option.value in values:
                self.add((*oloc, "value"), f"{qid}: duplicate option value {option.value!r}")
            values.add(option.value)
            self.check_texts((*oloc, "label"), option.label, f"{qid}.{option.value}.label")
            if option.stop and kind not in SINGLE_CHOICE_TYPES:
                self.add((*oloc, "stop"), f"{qid}: stop only works on single-choice questions")
            for key in _typed_forms(option):
                other = typed.setdefault(key, option.value)
                if other != option.value:
                    self.add(oloc, f"{qid}: {key!r} would mean both {other!r} and {option.value!r}")

    def check_condition(
        self, cond: Condition, loc: tuple[int | str, ...], qid: str, seen: dict[str, int]
    ) -> None:
        """References point at earlier questions; compared values exist among their options."""
        for ref in cond.question_refs():
            if ref == qid or not self.survey.has_question(ref):
                self.add(loc, f"{qid}.when: unknown question {ref!r}")
            elif ref not in seen or ref == qid:
                self.add(loc, f"{qid}.when: {ref!r} comes later; only earlier questions allowed")
        self.check_condition_values(cond, loc, qid)

    def check_condition_values(self, cond: Condition, loc: tuple[int | str, ...], qid: str) -> None:
        """equals/not_equals/in values must be option values of the referenced question."""
        for sub in (*(cond.all or ()), *(cond.any or ()), *((cond.not_,) if cond.not_ else ())):
            self.check_condition_values(sub, loc, qid)
        if not cond.question or not self.survey.has_question(cond.question):
            return
        ref = _effective_options(self.survey.question(cond.question))
        if ref is None:
            return
        compared = [v for v in (cond.equals, cond.not_equals, *(cond.in_ or ())) if v is not None]
        for value in compared:
            if value not in ref:
                self.add(loc, f"{qid}.when: {cond.question} has no option {value!r}")

    def check_validation(
        self, question: Question, loc: tuple[int | str, ...], seen: dict[str, int]
    ) -> None:
        """Rules fit the type; regexes compile; referenced month questions come earlier."""
        qid = question.id
        allowed = RULES_BY_TYPE.get(question.type, frozenset())
        rules = question.validation.rules()
        for name, rule in rules.items():
            rloc = (*loc, "validation", name)
            if name not in allowed:
                self.add(rloc, f"{qid}: rule {name} does not fit type {question.type}")
                continue
            if rule.error is not None:
                self.check_texts((*rloc, "error"), rule.error, f"{qid}.{name}.error")
            if name == "pattern":
                try:
                    re.compile(rule.value)
                except re.error as exc:
                    self.add(rloc, f"{qid}: invalid regex {rule.value!r}: {exc}")
            ref = {"after": rule.value, "max_months_after": getattr(rule.value, "question", None)}
            target = ref.get(name)
            if target is not None:
                self.check_month_ref(target, rloc, qid, seen)
        low, high = rules.get("min_length"), rules.get("max_length")
        if low and high and low.value > high.value:
            self.add((*loc, "validation"), f"{qid}: min_length is above max_length")

    def check_saves_as(
        self, question: Question, loc: tuple[int | str, ...], seen: dict[str, int]
    ) -> None:
        """``saves_as`` names an earlier question of the same type."""
        target = question.saves_as or ""
        if target not in seen or target == question.id:
            self.add(loc, f"{question.id}: saves_as {target!r} must be an earlier question")
        elif self.survey.question(target).type != question.type:
            self.add(loc, f"{question.id}: saves_as {target!r} is not a {question.type} question")

    def check_month_ref(
        self, target: str, loc: tuple[int | str, ...], qid: str, seen: dict[str, int]
    ) -> None:
        """A month rule may only compare with an earlier month question."""
        if target not in seen or target == qid:
            self.add(loc, f"{qid}: {target!r} must be an earlier question")
        elif self.survey.question(target).type != "month":
            self.add(loc, f"{qid}: {target!r} is not a month question")


def _effective_options(question: Question) -> set[str] | None:
    """Option values a condition may compare with (yes/no by default); None for free types."""
    if question.type == "yes_no" and not question.options:
        return {"yes", "no"}
    if question.type in OPTION_TYPES:
        return {o.value for o in question.options}
    return None


def _typed_forms(option: Option) -> set[str]:
    """Folded labels and aliases (what a soldier may type) of an option."""
    forms = (fold(option.label.vi), fold(option.label.en), *map(fold, option.aliases))
    return {f for f in forms if f}


def _placeholders(value: str) -> set[str]:
    """``{name}`` fields used in a message (empty set if the braces are malformed)."""
    try:
        return {field for _, field, _, _ in string.Formatter().parse(value) if field}
    except ValueError:
        return {"<malformed braces>"}
