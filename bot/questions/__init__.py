"""Questions people ask counsellors (``/ask``): the FAQ and its matcher (``faq``), storing,
forwarding and answering questions (``service``), working days for the overdue flag
(``workdays``)."""

from bot.questions.faq import Faq, FaqEntry, FaqMatcher, faq_matcher, load_faq
from bot.questions.service import (
    MAX_ANSWER,
    MAX_OPEN,
    MAX_QUESTION,
    Asked,
    ask,
    check_text,
    commune_label,
    deliver_reply,
    forward,
    overdue_before,
)
from bot.questions.workdays import is_working_day, working_days_before

__all__ = [
    "MAX_ANSWER",
    "MAX_OPEN",
    "MAX_QUESTION",
    "Asked",
    "Faq",
    "FaqEntry",
    "FaqMatcher",
    "ask",
    "check_text",
    "commune_label",
    "deliver_reply",
    "faq_matcher",
    "forward",
    "is_working_day",
    "load_faq",
    "overdue_before",
    "working_days_before",
]
