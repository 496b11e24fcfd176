"""Validate every file in ``content/`` (``xuatngu content check`` and start-up)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bot.content_loading import ContentError, ContentProblem

# (module, function) loading one content file each; every loader raises ContentError.
LOADERS: tuple[tuple[str, str], ...] = (
    ("bot.survey", "reload_survey"),
    ("bot.matching.trades", "load_trades"),
    ("bot.quiz", "load_quiz"),
    ("bot.timeline", "check_content"),
)


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
