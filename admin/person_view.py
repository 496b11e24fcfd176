"""The person page in words: answers as the soldier gave them, trades by name, outcomes with who
recorded them, and the profile form's current values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.reporting import labels
from bot.survey import Question, Survey, display_phone, fold, format_answer, load_survey
from storage.models import Answer, Person, TradePreference
from storage.models.timeline import Outcome

EMPTY = "—"  # a skipped or missing answer
Translate = Callable[..., str]


@dataclass(frozen=True)
class Shown:
    """One value as people read it, and what the soldier typed where that helps to check it."""

    text: str
    typed: str = ""
    note: str = ""


@dataclass(frozen=True)
class AnswerRow:
    """A survey answer: the question's short label and its value(s) (one per chosen trade)."""

    label: str
    values: list[Shown] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryRow:
    """An outcome: when, what, the trade, who recorded it and when they did."""

    day: date
    status: str
    trade: str
    who: str
    recorded_at: datetime


def _typed(raw: str | None, shown: str, code: str) -> str:
    """What the soldier typed, when it says more than the name it was matched to (never the
    stored code itself)."""
    return raw if raw and raw != code and fold(raw) != fold(shown) else ""


def trade_shown(code: str, raw: str | None, source: str | None, lang: str, _: Translate) -> Shown:
    """A chosen trade by name, with the typed words or a word on the quiz that suggested it."""
    name = labels.trade_name(code, lang)
    if source == "quiz":
        return Shown(name, note=_("suggested by the interest quiz"))
    return Shown(name, typed=_typed(raw, name, code))


def preference_rows(prefs: Sequence[TradePreference], lang: str, _: Translate) -> list[Shown]:
    """The ranked trade choices."""
    return [trade_shown(tp.trade_code, tp.raw_text, tp.source, lang, _) for tp in prefs]


def _answer_values(
    survey: Survey, question: Question, answer: Answer, lang: str, _: Translate
) -> list[Shown]:
    value = answer.value
    if value is None or value in ("", []):
        return [Shown(EMPTY)]
    if question.type == "trade" and isinstance(value, list):
        entries = sorted((e for e in value if isinstance(e, dict)), key=lambda e: e.get("rank", 0))
        return [
            trade_shown(str(e.get("code")), e.get("raw"), e.get("source"), lang, _) for e in entries
        ]
    shown = format_answer(survey, question, value, lang, commune_name=labels.commune_name)
    if question.type == "commune":
        return [Shown(shown, typed=_typed(answer.raw_text, shown, str(value)))]
    return [Shown(shown)]


def answer_rows(answers: Sequence[Answer], lang: str, _: Translate) -> list[AnswerRow]:
    """Each answer under its question's label; a question no longer in the survey by its id."""
    survey = load_survey()
    rows = []
    for answer in answers:
        if not survey.has_question(answer.question_id):
            value = answer.value
            plain = ", ".join(map(str, value)) if isinstance(value, list) else value
            rows.append(AnswerRow(answer.question_id, [Shown(str(plain or EMPTY))]))
            continue
        question = survey.question(answer.question_id)
        values = _answer_values(survey, question, answer, lang, _)
        rows.append(AnswerRow(question.label.get(lang), values))
    return rows


def recorder(outcome: Outcome, _: Translate) -> str:
    """Who recorded an outcome: the person with the bot's buttons, or the officer's name."""
    if outcome.source == "bot":
        return _("the person (bot buttons)")
    kind, _sep, name = (outcome.recorded_by or "").partition(":")
    if kind == "user" and name:
        return name
    if kind == "api" and name:
        return _("API client %(name)s", name=name)
    return _("an officer")


def history_rows(outcomes: Sequence[Outcome], lang: str, _: Translate) -> list[HistoryRow]:
    """The outcome history, oldest first, in words."""
    return [
        HistoryRow(
            day=o.status_date,
            status=_("status_" + o.status),
            trade=labels.trade_name(o.trade_code, lang),
            who=recorder(o, _),
            recorded_at=o.recorded_at,
        )
        for o in outcomes
    ]


def _month_text(value: date | None) -> str:
    return f"{value.month:02d}/{value.year}" if value else ""


def profile_form(person: Person, typed: dict[str, str] | None = None) -> dict[str, Any]:
    """The profile form's values: what the officer typed (after an error), else the stored
    values as people write them (months MM/YYYY, phone 0912 345 678)."""
    current = {
        "full_name": person.full_name or "",
        "phone": display_phone(person.phone) if person.phone else "",
        "branch": person.branch or "",
        "enlistment_month": _month_text(person.enlistment_month),
        "discharge_month": _month_text(person.discharge_month),
        "home_commune": person.home_commune_code or "",
    }
    return {**current, **(typed or {})}
