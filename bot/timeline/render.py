"""Turning a schedule entry into the text and buttons one person receives."""

from __future__ import annotations

import html
from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.reporting import labels
from bot.timeline.dates import format_month
from bot.timeline.schedule import HomeOption, Reminder, Schedule, StatusOption
from storage.models import Person


class TimelineCb(CallbackData, prefix="tl"):
    """Buttons of the timeline: kind h (home since), s (status), t (trade), p (pause/resume)."""

    kind: str
    value: str


def language_of(person: Person) -> str:
    """The person's language, Vietnamese unless English was chosen."""
    return "en" if person.language == "en" else "vi"


def _given_name(person: Person) -> str:
    """Telegram first name, else the given name (last word) of the surveyed full name."""
    first = (person.tg_first_name or "").strip()
    if first:
        return first
    words = (person.full_name or "").split()
    return words[-1] if words else ""


def person_values(schedule: Schedule, person: Person, lang: str) -> dict[str, str]:
    """Placeholder values for one person (HTML-escaped) plus the facts."""
    name = _given_name(person) or schedule.text("default_name", lang)
    values = {k: html.escape(v, quote=False) for k, v in schedule.fact_values(lang).items()}
    values.update(
        name=html.escape(name, quote=False),
        discharge_month=format_month(person.discharge_month),
        return_month=format_month(person.return_date),
    )
    return values


def fill(schedule: Schedule, text: str, person: Person, lang: str, **extra: str) -> str:
    """``text`` with its placeholders filled for ``person``."""
    values = person_values(schedule, person, lang)
    values.update({k: html.escape(v, quote=False) for k, v in extra.items()})
    return text.format_map(values)


def render_text(schedule: Schedule, entry: Reminder, person: Person) -> str:
    """The message of ``entry`` for ``person`` in their language."""
    lang = language_of(person)
    return fill(schedule, entry.message.get(lang), person, lang)


def _rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out ``per_row`` to a row."""
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def _options_keyboard(
    kind: str, choices: Sequence[StatusOption | HomeOption], lang: str, *, per_row: int
) -> InlineKeyboardMarkup:
    """One button per option (its label, ``TimelineCb(kind, value)``), ``per_row`` to a row."""
    buttons = [
        InlineKeyboardButton(
            text=o.label.get(lang), callback_data=TimelineCb(kind=kind, value=o.value).pack()
        )
        for o in choices
    ]
    return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, per_row))


def status_keyboard(schedule: Schedule, lang: str) -> InlineKeyboardMarkup:
    """The "what are you doing now?" buttons."""
    return _options_keyboard("s", schedule.statuses, lang, per_row=2)


def home_keyboard(schedule: Schedule, lang: str) -> InlineKeyboardMarkup:
    """The "are you home? since when?" buttons."""
    return _options_keyboard("h", schedule.home_answers, lang, per_row=1)


def trade_keyboard(
    schedule: Schedule, choices: list[tuple[str, str]], lang: str
) -> InlineKeyboardMarkup:
    """The person's chosen trades (code, name) as buttons, plus "another trade"."""
    buttons = [
        InlineKeyboardButton(text=name, callback_data=TimelineCb(kind="t", value=code).pack())
        for code, name in choices
    ]
    buttons.append(
        InlineKeyboardButton(
            text=schedule.text("trade_other", lang),
            callback_data=TimelineCb(kind="t", value="other").pack(),
        )
    )
    return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 1))


def pause_keyboard(schedule: Schedule, paused: bool, lang: str) -> InlineKeyboardMarkup:
    """One button that flips the pause."""
    key, value = ("button_resume", "resume") if paused else ("button_pause", "pause")
    button = InlineKeyboardButton(
        text=schedule.text(key, lang), callback_data=TimelineCb(kind="p", value=value).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def entry_keyboard(schedule: Schedule, entry: Reminder, lang: str) -> InlineKeyboardMarkup | None:
    """The buttons under a reminder: its own buttons, then its button set."""
    rows = [
        [InlineKeyboardButton(text=b.label.get(lang), callback_data=b.callback)]
        for b in entry.buttons
    ]
    if entry.button_set == "status":
        rows.extend(status_keyboard(schedule, lang).inline_keyboard)
    elif entry.button_set == "home":
        rows.extend(home_keyboard(schedule, lang).inline_keyboard)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def reply_text(schedule: Schedule, key: str, person: Person, **extra: str) -> str:
    """A handler text from ``texts:`` in the person's language, placeholders filled."""
    lang = language_of(person)
    return fill(schedule, schedule.text(key, lang), person, lang, **extra)


def trade_label(code: str, lang: str) -> str:
    """A trade's name from the catalog; the code itself when the catalog lacks it."""
    return labels.trade_name(code, lang)
