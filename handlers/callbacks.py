"""Typed callback data for every inline button the bot sends (at most 64 bytes each)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LangCb(CallbackData, prefix="lang"):
    code: str


class EraseCb(CallbackData, prefix="erase"):
    confirm: bool


class SharingCb(CallbackData, prefix="share"):
    """/sharing: let schools and the Employment Service Centre see one's details, or stop."""

    share: bool


class SurveyCb(CallbackData, prefix="survey"):
    """Entry points: ``survey:start`` and ``survey:review`` (also sent by reminders)."""

    action: str


class AnswerCb(CallbackData, prefix="a"):
    """A tapped option: question id and option value (or ``_skip`` / ``_done`` for multi-choice)."""

    q: str
    v: str


class CommuneCb(CallbackData, prefix="c"):
    """A commune picked among close matches; ``code`` empty means "none of these"."""

    code: str


class TradeCb(CallbackData, prefix="t"):
    """Trade step: ``ok`` (confirm), ``pick`` (a candidate), ``retype``, ``quiz``, ``done``."""

    act: str
    code: str = ""


class QuizCb(CallbackData, prefix="qz"):
    """An answer to interest-quiz statement number ``i``."""

    i: int
    v: str


class EditCb(CallbackData, prefix="e"):
    """Edit one answer from the summary."""

    q: str


class ConfirmCb(CallbackData, prefix="ok"):
    """Confirm the summary."""

    v: str = "1"


class AskCb(CallbackData, prefix="ask"):
    """Questions to counsellors: ``start`` (the "Hỏi cán bộ" button), and under an FAQ answer
    ``yes`` (it helped) or ``no`` (send the question to a counsellor)."""

    act: str
