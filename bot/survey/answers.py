"""Reading and checking answers: pure functions over a :class:`Survey` and the answers so far.

``answers`` maps question id -> stored value. Stored value formats:

- choice / consent / yes_no: the option value (``"yes"``/``"no"`` for yes_no)
- multi_choice: ``list[str]`` of option values, in the order chosen
- text: ``str`` (NFC, stripped, inner whitespace collapsed; *not* HTML-escaped)
- month: ``"YYYY-MM"``;  phone: ``"+84XXXXXXXXX"``;  commune: ward code ``str``
- trade: ``list[dict]`` of ``{"rank", "code", "raw", "score", "source"}`` (see :func:`add_trade`)

Nothing here reads the clock: rules relative to "now" use the ``today`` argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.survey.model import MATCHER_TYPES, SINGLE_CHOICE_TYPES, Option, Question, Survey
from bot.survey.parsing import (
    MAX_INPUT_CHARS,
    Month,
    MonthError,
    clean_text,
    fold,
    parse_month,
    parse_phone,
    split_list,
    typed_number,
)
from bot.survey.skip_logic import Answers, applicable
from bot.survey.texts import localized, text

DEFAULT_TRADE_MAX = 3
TRADE_SOURCES = ("typed", "quiz")


@dataclass(frozen=True)
class Parsed:
    """Result of reading one answer.

    ``ok``: the answer is valid and ``value`` is what to store. Otherwise ``error_key`` names the
    message (e.g. ``"impossible_month"``) and ``error`` is its text in the asked language (None when
    the function had no survey to look texts up in). ``needs_matcher`` is True for commune/trade
    questions: the handler must run ``bot.matching`` on ``value`` (the cleaned typed text).
    """

    ok: bool
    value: Any = None
    error: str | None = None
    error_key: str | None = None
    needs_matcher: bool = False


def _fail(survey: Survey | None, key: str, lang: str, **fmt: Any) -> Parsed:
    """A failed Parsed with the message for ``key``."""
    message = text(survey, key, lang, **fmt) if survey is not None else None
    return Parsed(ok=False, error=message, error_key=key)


def recheck(survey: Survey, answers: Answers, today: date) -> list[str]:
    """Ids of stored answers that no longer pass their rules (e.g. discharge after an edit of
    enlistment, or an option removed from the YAML). The handler drops and re-asks them."""
    bad = []
    for question in applicable(survey, answers):
        value = answers.get(question.id)
        if value is not None and check_stored(survey, question, value, answers, today) is not None:
            bad.append(question.id)
    return bad


def check_stored(
    survey: Survey, question: Question, value: Any, answers: Answers, today: date
) -> str | None:
    """The error key for a stored value that breaks its rules, or None if it is fine."""
    kind = question.type
    if kind in SINGLE_CHOICE_TYPES:
        return None if isinstance(value, str) and question.option(value) else "not_a_choice"
    if kind == "multi_choice":
        ok = isinstance(value, list) and all(question.option(v) for v in value)
        return None if ok else "not_a_choice"
    if kind == "month":
        try:
            month = Month.from_stored(value)
        except (TypeError, ValueError):
            return "bad_month_format"
        failure = _month_rules(survey, question, month, answers, today, "vi")
        return failure.error_key if failure else None
    if kind == "text" and isinstance(value, str):
        failure = _text_rules(survey, question, value, "vi")
        return failure.error_key if failure else None
    if kind == "phone":
        return None if isinstance(value, str) and parse_phone(value) == value else "bad_phone"
    return None


def parse_text_answer(
    survey: Survey,
    question: Question,
    text: str | None,
    lang: str,
    answers: Answers,
    today: date,
) -> Parsed:
    """Read a typed message as the answer to ``question``.

    ``text`` is None when the soldier sent something without text (sticker, photo): error
    ``text_expected``. Choices may be typed as label (any language, with or without diacritics),
    value or number. For commune/trade the result has ``needs_matcher=True`` and ``value`` = the
    cleaned text: run the matcher, then store its code. A Telegram shared contact's
    ``phone_number`` is passed here as text for phone questions.
    """
    if text is None:
        return _fail(survey, "text_expected", lang)
    if len(text) > MAX_INPUT_CHARS:
        return _fail(survey, "too_long", lang, max=_max_length(question))
    cleaned = clean_text(text)
    if not cleaned:
        return _fail(survey, "required", lang)
    kind = question.type
    if kind in MATCHER_TYPES:
        return Parsed(ok=False, value=cleaned, needs_matcher=True)
    if kind == "text":
        return _text_rules(survey, question, cleaned, lang) or Parsed(ok=True, value=cleaned)
    if kind == "month":
        return _parse_month_answer(survey, question, cleaned, lang, answers, today)
    if kind == "phone":
        phone = parse_phone(cleaned)
        return Parsed(ok=True, value=phone) if phone else _fail(survey, "bad_phone", lang)
    if kind == "multi_choice":
        return _parse_multi(survey, question, cleaned, lang)
    option = match_option(question, cleaned)
    if option is None:
        return _fail(survey, "not_a_choice", lang)
    return Parsed(ok=True, value=option.value)


def parse_choice(
    question: Question, value: str, survey: Survey | None = None, lang: str = "vi"
) -> Parsed:
    """Check a pressed button's value against the options (``not_a_choice`` if unknown).

    Pass ``survey`` to get the error text in ``lang``; without it only ``error_key`` is set.
    For multi_choice this checks one value; use :func:`toggle_choice` to build the list.
    """
    if question.option(value) is None:
        return _fail(survey, "not_a_choice", lang)
    return Parsed(ok=True, value=value)


def parse_skip(survey: Survey, question: Question, lang: str) -> Parsed:
    """The skip button: stores None for an optional question, ``required`` error otherwise."""
    if question.required:
        return _fail(survey, "required", lang)
    return Parsed(ok=True, value=None)


def toggle_choice(
    survey: Survey, question: Question, current: list[str] | None, value: str, lang: str
) -> Parsed:
    """Add or remove ``value`` in a multi_choice answer being built; value = the new list."""
    checked = parse_choice(question, value, survey, lang)
    if not checked.ok:
        return checked
    chosen = list(current or [])
    if value in chosen:
        chosen.remove(value)
        return Parsed(ok=True, value=chosen)
    limit = question.max_choices
    if limit is not None and len(chosen) >= limit:
        return _fail(survey, "too_many_choices", lang, max=limit)
    return Parsed(ok=True, value=[*chosen, value])


def finish_list(survey: Survey, question: Question, current: list[Any] | None, lang: str) -> Parsed:
    """The "done" button of multi_choice/trade: the list, or ``required`` if empty and required."""
    chosen = list(current or [])
    if not chosen:
        return _fail(survey, "required", lang) if question.required else Parsed(ok=True)
    return Parsed(ok=True, value=chosen)


def trade_limit(question: Question) -> int:
    """How many trades may be chosen (``max_choices``, default 3)."""
    return question.max_choices or DEFAULT_TRADE_MAX


def add_trade(
    survey: Survey,
    question: Question,
    current: list[dict[str, Any]] | None,
    *,
    code: str,
    raw: str,
    score: float,
    source: str,
    lang: str,
) -> Parsed:
    """Append a matched trade with the next rank; errors ``trade_duplicate``/``too_many_choices``.

    ``code`` comes from the trade matcher or the quiz, ``raw`` is what the soldier typed (or the
    quiz result name), ``score`` the matcher score (100 for a button/quiz), ``source`` typed|quiz.
    """
    if source not in TRADE_SOURCES:
        raise ValueError(f"source must be one of {TRADE_SOURCES}, not {source!r}")
    chosen = list(current or [])
    if any(entry.get("code") == code for entry in chosen):
        return _fail(survey, "trade_duplicate", lang)
    if len(chosen) >= trade_limit(question):
        return _fail(survey, "too_many_choices", lang, max=trade_limit(question))
    entry = {"rank": len(chosen) + 1, "code": code, "raw": raw, "score": score, "source": source}
    return Parsed(ok=True, value=[*chosen, entry])


def match_option(question: Question, typed: str) -> Option | None:
    """The option a typed text means: number, exact label/value/alias, or a unique word match."""
    folded = fold(typed)
    if not folded or not question.options:
        return None
    number = typed_number(folded)
    if number is not None and 1 <= number <= len(question.options):
        return question.options[number - 1]
    exact = [o for o in question.options if folded in option_keys(o)]
    if exact:
        return exact[0] if len(exact) == 1 else None
    padded = f" {folded} "
    inside = [
        o
        for o in question.options
        if len(folded) >= 3 and any(padded in f" {k} " for k in option_keys(o))
    ]
    if len(inside) == 1:
        return inside[0]
    containing = [
        o for o in question.options if any(f" {k} " in padded for k in option_keys(o) if " " in k)
    ]
    return containing[0] if len(containing) == 1 else None


def option_keys(option: Option) -> set[str]:
    """Folded forms a soldier may type for an option: labels, value, aliases."""
    keys = {fold(option.label.vi), fold(option.label.en)}
    keys |= {fold(option.value), fold(option.value.replace("_", " "))}
    keys |= {fold(a) for a in option.aliases}
    return {k for k in keys if k}


def _parse_multi(survey: Survey, question: Question, cleaned: str, lang: str) -> Parsed:
    """Read '1, 3' or 'label và label' for a multi_choice question."""
    chosen: list[str] = []
    for part in split_list(cleaned):
        option = match_option(question, part)
        if option is None:
            return _fail(survey, "not_a_choice", lang)
        if option.value not in chosen:
            chosen.append(option.value)
    limit = question.max_choices
    if limit is not None and len(chosen) > limit:
        return _fail(survey, "too_many_choices", lang, max=limit)
    return Parsed(ok=True, value=chosen)


def _max_length(question: Question) -> int:
    """The max_length rule of a text question, else the global input cap."""
    rule = question.validation.max_length
    return int(rule.value) if rule else MAX_INPUT_CHARS


def _rule_fail(
    survey: Survey, question: Question, rule_name: str, key: str, lang: str, **fmt: Any
) -> Parsed:
    """A failure using the rule's own ``error`` text if the YAML gives one."""
    rule = question.validation.rules().get(rule_name)
    if rule is not None and rule.error:
        return Parsed(ok=False, error=localized(rule.error, lang, **fmt), error_key=key)
    return _fail(survey, key, lang, **fmt)


def _text_rules(survey: Survey, question: Question, value: str, lang: str) -> Parsed | None:
    """Check min/max length and pattern; None when the text passes."""
    rules = question.validation
    if rules.max_length and len(value) > rules.max_length.value:
        return _rule_fail(
            survey, question, "max_length", "too_long", lang, max=_max_length(question)
        )
    if rules.min_length and len(value) < rules.min_length.value:
        minimum = rules.min_length.value
        return _rule_fail(survey, question, "min_length", "too_short", lang, min=minimum)
    if rules.pattern and not re.fullmatch(rules.pattern.value, value):
        return _rule_fail(survey, question, "pattern", "pattern_mismatch", lang)
    return None


def _parse_month_answer(
    survey: Survey, question: Question, cleaned: str, lang: str, answers: Answers, today: date
) -> Parsed:
    """Read a month and apply its relative rules."""
    try:
        month = parse_month(cleaned)
    except MonthError as exc:
        return _fail(survey, exc.key, lang, example=text(survey, "month_example", lang))
    failure = _month_rules(survey, question, month, answers, today, lang)
    return failure or Parsed(ok=True, value=str(month))


def _stored_month(answers: Answers, question_id: str) -> Month | None:
    """The stored month answer of another question, if any and well-formed."""
    try:
        return Month.from_stored(answers[question_id])
    except (KeyError, TypeError, ValueError):
        return None


def _month_rules(
    survey: Survey,
    question: Question,
    month: Month,
    answers: Answers,
    today: date,
    lang: str,
) -> Parsed | None:
    """Check not_in_future, not_before_months_ago, after, max_months_after; None if all pass."""
    rules = question.validation
    now = Month.of(today)
    if rules.not_in_future and rules.not_in_future.value and month > now:
        return _rule_fail(survey, question, "not_in_future", "month_in_future", lang)
    if rules.not_before_months_ago is not None:
        earliest = now.plus(-int(rules.not_before_months_ago.value))
        if month < earliest:
            limit = earliest.display()
            return _rule_fail(
                survey, question, "not_before_months_ago", "month_too_old", lang, limit=limit
            )
    if rules.after is not None:
        other = _stored_month(answers, rules.after.value)
        if other is not None and month < other:
            shown = other.display()
            return _rule_fail(survey, question, "after", "month_before", lang, month=shown)
    if rules.max_months_after is not None:
        param = rules.max_months_after.value
        other = _stored_month(answers, param.question)
        if other is not None and month > other.plus(param.months):
            latest = other.plus(param.months).display()
            return _rule_fail(
                survey,
                question,
                "max_months_after",
                "month_too_far",
                lang,
                months=param.months,
                limit=latest,
            )
    return None
