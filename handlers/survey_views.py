"""How survey questions, matches, the quiz and the summary look (texts from content/)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.reporting import labels
from bot.survey import (
    Question,
    Survey,
    format_answer,
    help_text,
    options,
    progress,
    prompt,
    summary_lines,
    text,
)
from handlers.callbacks import AnswerCb, CommuneCb, ConfirmCb, EditCb, QuizCb, TradeCb

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


@dataclass
class Reply:
    """One message to send: HTML text and an optional keyboard."""

    text: str
    markup: Markup = None


MAX_MESSAGE = 4096


def merge_replies(replies: list[Reply]) -> list[Reply]:
    """Join a text without keyboard onto the next message: fewer messages on a slow phone."""
    merged: list[Reply] = []
    for reply in replies:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.markup is None
            and len(last.text) + len(reply.text) + 2 <= MAX_MESSAGE
        ):
            merged[-1] = Reply(f"{last.text}\n\n{reply.text}", reply.markup)
        else:
            merged.append(reply)
    return merged


def question_reply(
    survey: Survey, question: Question, answers: dict[str, Any], lang: str, *, chosen: Any = None
) -> Reply:
    """The question with its progress line, help and buttons."""
    n, total = progress(survey, answers, question)
    # the consent screen says what /privacy says, then asks
    parts = [text(survey, "privacy", lang)] if question.type == "consent" else []
    if n:
        parts.append(f"<i>{text(survey, 'progress', lang, n=n, total=total)}</i>")
    parts.append(prompt(question, lang))
    extra = help_text(question, lang)
    if extra:
        parts.append(f"<i>{extra}</i>")
    if question.type == "trade" and chosen:
        parts.append(_trade_list(chosen, lang))
    return Reply("\n\n".join(parts), _cached_question_markup(survey, question, lang, chosen))


# Keyboards are immutable (frozen aiogram types), so one built keyboard serves every person who
# sees the same question in the same language with the same picks.
_MARKUPS: dict[tuple[int, str, str, Any], tuple[Survey, Markup]] = {}
_MARKUPS_MAX = 1024


def _cached_question_markup(survey: Survey, question: Question, lang: str, chosen: Any) -> Markup:
    """:func:`_question_markup`, built once per survey, question, language and picks."""
    if question.type == "multi_choice":
        picks: Any = frozenset(chosen or [])
    else:
        picks = bool(chosen) if question.type == "trade" else None
    key = (id(survey), question.id, lang, picks)
    hit = _MARKUPS.get(key)
    if hit is not None and hit[0] is survey:
        return hit[1]
    markup = _question_markup(survey, question, lang, chosen)
    if len(_MARKUPS) >= _MARKUPS_MAX:
        _MARKUPS.clear()
    _MARKUPS[key] = (survey, markup)
    return markup


def _question_markup(survey: Survey, question: Question, lang: str, chosen: Any) -> Markup:
    kb = InlineKeyboardBuilder()
    if question.type in ("choice", "consent", "yes_no"):
        for value, label in options(question, lang):
            kb.button(text=label, callback_data=AnswerCb(q=question.id, v=value))
    elif question.type == "multi_choice":
        picked = set(chosen or [])
        for value, label in options(question, lang):
            mark = "✅ " if value in picked else ""
            kb.button(text=mark + label, callback_data=AnswerCb(q=question.id, v=value))
        kb.button(text=text(survey, "done", lang), callback_data=AnswerCb(q=question.id, v="_done"))
    elif question.type == "phone":
        rows = [[KeyboardButton(text=text(survey, "share_phone", lang), request_contact=True)]]
        if question.optional:
            rows.append([KeyboardButton(text=text(survey, "skip", lang))])
        return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, one_time_keyboard=True)
    elif question.type == "trade":
        kb.button(text=text(survey, "trade_quiz", lang), callback_data=TradeCb(act="quiz"))
        if chosen:
            kb.button(text=text(survey, "trade_done", lang), callback_data=TradeCb(act="done"))
    if question.optional and question.type != "phone":
        kb.button(text=text(survey, "skip", lang), callback_data=AnswerCb(q=question.id, v="_skip"))
    kb.adjust(1)
    markup = kb.as_markup()
    return markup if markup.inline_keyboard else None


def _trade_list(chosen: Sequence[dict[str, Any]], lang: str) -> str:
    return "\n".join(
        f"{entry['rank']}. {html.escape(labels.trade_name(entry['code'], lang))}"
        for entry in chosen
    )


def echo_replies(survey: Survey, question: Question, value: Any, lang: str) -> list[Reply]:
    """A typed answer as understood ("✅ 02/2027", "✅ Phường Kỳ Lừa"); the phone's share/skip
    keyboard goes with it. Free text is not echoed: it is what was typed."""
    if question.type == "text":
        return []
    if value is None:  # skipped: the button's own word
        shown = text(survey, "skip", lang)
    else:
        shown = format_answer(survey, question, value, lang, commune_name=labels.commune_name)
    markup = ReplyKeyboardRemove() if question.type == "phone" else None
    return [Reply(f"✅ {html.escape(shown)}", markup)]


def answered_text(shown: str, markup: InlineKeyboardMarkup, data: str | None) -> str | None:
    """A question message (its HTML ``shown``) with the pressed button's text below it, as the
    soldier sees it once answered; None when that button is not found or the text would be too
    long (then only the keyboard goes)."""
    label = next(
        (b.text for row in markup.inline_keyboard for b in row if b.callback_data == data), None
    )
    if not label:
        return None
    mark = f"✅ {label}" if label[0].isalnum() else label  # "👍 Thích", "✅ …" keep their sign
    answered = f"{shown}\n\n{html.escape(mark)}"
    return answered if len(answered) <= MAX_MESSAGE else None


def error_reply(message: str) -> Reply:
    """A validation error (texts from survey.yaml are HTML-safe)."""
    return Reply(f"⚠️ {message}")


def trade_confirm_reply(survey: Survey, lang: str, code: str) -> Reply:
    kb = InlineKeyboardBuilder()
    kb.button(
        text="✅ " + labels.trade_name(code, lang), callback_data=TradeCb(act="ok", code=code)
    )
    kb.button(text=text(survey, "trade_retype", lang), callback_data=TradeCb(act="retype"))
    kb.adjust(1)
    name = html.escape(labels.trade_name(code, lang))
    return Reply(text(survey, "trade_confirm", lang, name=name), kb.as_markup())


def trade_ask_reply(
    survey: Survey, lang: str, codes: Sequence[str], *, key: str = "trade_ask"
) -> Reply:
    kb = InlineKeyboardBuilder()
    for code in codes:
        kb.button(text=labels.trade_name(code, lang), callback_data=TradeCb(act="pick", code=code))
    kb.button(text=text(survey, "trade_retype", lang), callback_data=TradeCb(act="retype"))
    kb.adjust(1)
    return Reply(text(survey, key, lang), kb.as_markup())


def trade_none_reply(survey: Survey, lang: str, typed: str) -> Reply:
    kb = InlineKeyboardBuilder()
    kb.button(text=text(survey, "trade_quiz", lang), callback_data=TradeCb(act="quiz"))
    return Reply(text(survey, "trade_none", lang, text=html.escape(typed[:60])), kb.as_markup())


def commune_ask_reply(survey: Survey, lang: str, candidates: Sequence[tuple[str, str]]) -> Reply:
    kb = InlineKeyboardBuilder()
    for code, name in candidates:
        kb.button(text=name, callback_data=CommuneCb(code=code))
    kb.button(text=text(survey, "commune_retype", lang), callback_data=CommuneCb(code=""))
    kb.adjust(1)
    return Reply(text(survey, "commune_ask", lang), kb.as_markup())


def quiz_reply(quiz: Any, index: int, lang: str) -> Reply:
    """Interest-quiz statement number ``index`` (0-based) with its answer scale."""
    item = quiz.items[index]
    kb = InlineKeyboardBuilder()
    for option in quiz.scale:
        kb.button(text=option.label.get(lang), callback_data=QuizCb(i=index, v=option.value))
    kb.adjust(3)
    intro = quiz.intro.get(lang) + "\n\n" if index == 0 else ""
    header = f"<i>{index + 1}/{len(quiz.items)}</i> {quiz.question.get(lang)}"
    return Reply(f"{intro}{header}\n<b>{item.text.get(lang)}</b>", kb.as_markup())


def quiz_result_reply(survey: Survey, message: str, lang: str, codes: Sequence[str]) -> Reply:
    """The quiz result with the suggested trades as buttons, and "none of these"."""
    kb = InlineKeyboardBuilder()
    for code in codes:
        kb.button(text=labels.trade_name(code, lang), callback_data=TradeCb(act="pick", code=code))
    kb.button(text=text(survey, "trade_retype", lang), callback_data=TradeCb(act="retype"))
    kb.adjust(1)
    return Reply(html.escape(message), kb.as_markup())


def summary_reply(survey: Survey, answers: dict[str, Any], lang: str) -> Reply:
    """All answers, an edit button per answer and Confirm."""
    lines = summary_lines(
        survey, answers, lang, commune_name=labels.commune_name, trade_name=labels.trade_name
    )
    body = [text(survey, "summary_title", lang)]
    kb = InlineKeyboardBuilder()
    edit = text(survey, "edit", lang)
    for qid, label, shown in lines:
        question = survey.question(qid)
        if question is None or not question.editable:
            continue
        body.append(f"<b>{html.escape(label)}:</b> {html.escape(shown)}")
        kb.button(text=f"✏️ {edit}: {label}", callback_data=EditCb(q=qid))
    body.append("")
    body.append(text(survey, "review", lang))
    kb.button(text="✅ " + text(survey, "confirm", lang), callback_data=ConfirmCb())
    kb.adjust(2)
    return Reply("\n".join(body), kb.as_markup())
