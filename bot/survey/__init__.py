"""The career-counselling survey: content model, loader and a pure engine (no aiogram, no DB).

The engine: skip logic and progress (``skip_logic``), reading and checking answers
(``answers``), texts and the summary (``texts``).

Typical handler loop::

    survey = load_survey()
    question = next_question(survey, answers)          # None -> show summary_lines(...)
    n, total = progress(survey, answers, question)     # "Câu n/total" via text(survey, "progress")
    result = parse_text_answer(survey, question, message.text, lang, answers, today)
    if result.needs_matcher: ...                        # commune/trade: run bot.matching
    elif result.ok: answers[question.id] = result.value
    else: reply(result.error)
"""

from bot.survey.answers import (
    DEFAULT_TRADE_MAX,
    Parsed,
    add_trade,
    check_stored,
    finish_list,
    match_option,
    parse_choice,
    parse_skip,
    parse_text_answer,
    recheck,
    toggle_choice,
    trade_limit,
)
from bot.survey.loading import MESSAGE_KEYS, SURVEY_PATH, load_survey, reload_survey
from bot.survey.model import Condition, Option, Question, QuestionType, Survey
from bot.survey.parsing import Month, MonthError, display_phone, fold, parse_month, parse_phone
from bot.survey.skip_logic import (
    applicable,
    holds,
    is_complete,
    next_question,
    progress,
    prune,
    stopped,
)
from bot.survey.texts import (
    format_answer,
    help_text,
    localized,
    option_label,
    options,
    prompt,
    question_label,
    summary_lines,
    text,
)

__all__ = [
    "DEFAULT_TRADE_MAX",
    "MESSAGE_KEYS",
    "SURVEY_PATH",
    "Condition",
    "Month",
    "MonthError",
    "Option",
    "Parsed",
    "Question",
    "QuestionType",
    "Survey",
    "add_trade",
    "applicable",
    "check_stored",
    "display_phone",
    "finish_list",
    "fold",
    "format_answer",
    "help_text",
    "holds",
    "is_complete",
    "load_survey",
    "localized",
    "match_option",
    "next_question",
    "option_label",
    "options",
    "parse_choice",
    "parse_month",
    "parse_phone",
    "parse_skip",
    "parse_text_answer",
    "progress",
    "prompt",
    "prune",
    "question_label",
    "recheck",
    "reload_survey",
    "stopped",
    "summary_lines",
    "text",
    "toggle_choice",
    "trade_limit",
]
