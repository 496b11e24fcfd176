"""Validate every file in ``content/`` (``xuatngu content check`` and start-up).

:func:`html_problems` is the one check of Telegram HTML in content texts.
"""

from __future__ import annotations

import html
import importlib
import re
from collections.abc import Callable
from html.parser import HTMLParser

from bot.content_loading import ContentError, ContentProblem

# (module, function) loading one content file each; every loader raises ContentError.
LOADERS: tuple[tuple[str, str], ...] = (
    ("bot.survey", "reload_survey"),
    ("bot.matching.catalog", "load_trades"),
    ("bot.quiz", "load_quiz"),
    ("bot.timeline", "check_content"),
    ("bot.questions.faq", "load_faq"),
    ("bot.catalog.vocab", "load_vocabularies"),
    ("bot.cards.rules", "load_rules"),
    ("bot.cards.importer", "load_card_sheets"),
    ("bot.catalog.sheets", "load_workbook_spec"),
    ("bot.catalog.sample", "check_sample"),
)

# Tags Telegram's HTML parse mode accepts.
TELEGRAM_TAGS: frozenset[str] = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "blockquote",
        "span",
    }
)

_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?>")


class _TagChecker(HTMLParser):
    """Collects problems with Telegram HTML, each with its line in the text (1-based)."""

    def __init__(self, tags: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.tags = tags
        self.stack: list[tuple[str, int]] = []
        self.problems: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        if tag not in self.tags:
            self.problems.append((line, f"tag <{tag}> is not allowed here"))
        self.stack.append((tag, line))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append((self.getpos()[0], f"closing </{tag}> does not match"))
            return
        self.stack.pop()


def html_problems(text: str, tags: frozenset[str] = TELEGRAM_TAGS) -> list[tuple[int, str]]:
    """(line in text, problem) for what would make Telegram refuse ``text`` as HTML.

    ``tags`` narrows the allowed tags (survey texts allow only ``<b>`` and ``<i>``).
    """
    checker = _TagChecker(tags)
    checker.feed(text)
    checker.close()
    problems = list(checker.problems)
    problems.extend((line, f"unclosed <{tag}>") for tag, line in checker.stack)
    for number, line_text in enumerate(text.splitlines(), 1):
        bare = re.sub(r"&(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);", "", line_text)
        if "&" in bare:
            problems.append((number, "a bare '&' must be written &amp;"))
        if "<" in _TAG.sub("", line_text):
            problems.append((number, "a bare '<' must be written &lt;"))
    return problems


def visible_text(text: str) -> str:
    """What the phone shows of a Telegram HTML text: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", text))


def check_all() -> list[ContentProblem]:
    """Run every loader afresh; return all problems found (empty when the content is good)."""
    problems: list[ContentProblem] = []
    for module_name, func_name in LOADERS:
        func: Callable[[], object] = getattr(importlib.import_module(module_name), func_name)
        cache_clear = getattr(func, "cache_clear", None)
        if cache_clear is not None:
            cache_clear()
        try:
            func()
        except ContentError as exc:
            problems.extend(exc.problems)
    return problems
