"""Texts shown to the soldier: messages, prompts, labels and the summary of answers.

Every text returned here is raw: callers sending HTML must escape user data (names, typed text)
before putting it in a message. Texts from survey.yaml are already HTML-safe (may contain <b>).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.survey.model import SINGLE_CHOICE_TYPES, Localized, Question, Survey
from bot.survey.parsing import Month, display_phone
from bot.survey.skip_logic import Answers, applicable


class _KeepMissing(dict[str, Any]):
    """format_map helper: unknown placeholders stay as ``{name}`` instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def localized(texts: Localized, lang: str, **fmt: Any) -> str:
    """The text in ``lang`` (fallback vi) with ``{placeholders}`` filled from ``fmt``."""
    return texts.get(lang).format_map(_KeepMissing(fmt)) if fmt else texts.get(lang)


def text(survey: Survey, key: str, lang: str, **fmt: Any) -> str:
    """A message from ``messages:`` in ``lang`` (fallback vi), placeholders filled from ``fmt``.

    Raises KeyError for an unknown key. Values in ``fmt`` are inserted as-is (escape user data).
    """
    return localized(survey.messages[key], lang, **fmt)


def prompt(question: Question, lang: str) -> str:
    """The question's prompt in ``lang`` (fallback vi)."""
    return question.prompt.get(lang)


def help_text(question: Question, lang: str) -> str | None:
    """The question's optional help text in ``lang`` (fallback vi), or None."""
    return question.help.get(lang) if question.help else None


def question_label(question: Question, lang: str) -> str:
    """The short label used in the summary."""
    return question.label.get(lang)


def option_label(question: Question, value: str, lang: str) -> str:
    """The button label of ``value``; the value itself if the option is unknown."""
    option = question.option(value)
    return option.label.get(lang) if option else value


def options(question: Question, lang: str) -> list[tuple[str, str]]:
    """``(value, label)`` pairs for building buttons, in YAML order."""
    return [(o.value, o.label.get(lang)) for o in question.options]


CommuneName = Callable[[str], str]
TradeName = Callable[[str, str], str]


def format_answer(
    survey: Survey,
    question: Question,
    value: Any,
    lang: str,
    *,
    commune_name: CommuneName | None = None,
    trade_name: TradeName | None = None,
) -> str:
    """A stored value as the soldier should read it in the summary (raw text: escape for HTML).

    Month -> MM/YYYY, phone -> 0912 345 678, options -> labels, trades -> "1. name" lines.
    ``commune_name(code)`` and ``trade_name(code, lang)`` turn codes into names (else the code).
    """
    if value is None or value == []:
        return text(survey, "not_answered", lang)
    kind = question.type
    if kind in SINGLE_CHOICE_TYPES:
        return option_label(question, str(value), lang)
    if kind == "multi_choice":
        return ", ".join(option_label(question, str(v), lang) for v in value)
    if kind == "month":
        try:
            return Month.from_stored(str(value)).display()
        except ValueError:
            return str(value)
    if kind == "phone":
        return display_phone(str(value))
    if kind == "commune":
        return commune_name(str(value)) if commune_name else str(value)
    if kind == "trade":
        return _format_trades(value, lang, trade_name)
    return str(value)


def _format_trades(entries: list[dict[str, Any]], lang: str, trade_name: TradeName | None) -> str:
    """Ranked trades as '1. name' lines."""
    lines = []
    for entry in sorted(entries, key=lambda e: e.get("rank", 0)):
        code = entry.get("code")
        name = trade_name(code, lang) if code and trade_name else (entry.get("raw") or code)
        lines.append(f"{entry.get('rank')}. {name}")
    return "\n".join(lines)


def summary_lines(
    survey: Survey,
    answers: Answers,
    lang: str,
    *,
    commune_name: CommuneName | None = None,
    trade_name: TradeName | None = None,
) -> list[tuple[str, str, str]]:
    """``(question_id, short label, formatted answer)`` for each applicable answered question.

    Raw text: escape before sending as HTML. Offer a "Sửa" button only where
    ``survey.question(id).editable``.
    """
    lines = []
    for question in applicable(survey, answers):
        if question.id not in answers:
            continue
        shown = format_answer(
            survey,
            question,
            answers[question.id],
            lang,
            commune_name=commune_name,
            trade_name=trade_name,
        )
        lines.append((question.id, question_label(question, lang), shown))
    return lines
