"""Keyboards and small renderers shared by handlers (no business rules, no storage)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import AskCb, EraseCb, LangCb, SharingCb, SurveyCb


def inline(rows: Iterable[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Build an inline keyboard from rows of (text, callback_data)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


# Keyboards depend only on their (short, finite) texts; aiogram's types are frozen, so one
# instance can be shared by every message that shows it.


@lru_cache(maxsize=1)
def language_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="🇻🇳 Tiếng Việt", callback_data=LangCb(code="vi"))
    kb.button(text="🇬🇧 English", callback_data=LangCb(code="en"))
    return kb.as_markup()


@lru_cache(maxsize=8)
def erase_keyboard(yes: str, no: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=yes, callback_data=EraseCb(confirm=True))
    kb.button(text=no, callback_data=EraseCb(confirm=False))
    kb.adjust(1)
    return kb.as_markup()


@lru_cache(maxsize=8)
def sharing_keyboard(label: str, share: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=label, callback_data=SharingCb(share=share))
    return kb.as_markup()


@lru_cache(maxsize=16)
def start_keyboard(survey_label: str, survey_action: str, ask_label: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=survey_label, callback_data=SurveyCb(action=survey_action))
    kb.button(text=ask_label, callback_data=AskCb(act="start"))
    kb.adjust(1)
    return kb.as_markup()


@lru_cache(maxsize=8)
def ask_keyboard(ask_label: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=ask_label, callback_data=AskCb(act="start"))
    return kb.as_markup()


@lru_cache(maxsize=8)
def faq_keyboard(yes: str, no: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=yes, callback_data=AskCb(act="yes"))
    kb.button(text=no, callback_data=AskCb(act="no"))
    kb.adjust(1)
    return kb.as_markup()


@lru_cache(maxsize=8)
def link_keyboard(text: str, url: str) -> InlineKeyboardMarkup:
    """One button that opens ``url`` (e.g. the private chat with the bot)."""
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, url=url)]])
