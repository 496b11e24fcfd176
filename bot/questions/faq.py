"""Frequently asked questions (``content/faq.yaml``) and the matcher that finds one for a question.

Matching folds the question like the trade matcher does (:func:`bot.matching.spelling.canon_tokens`
over :mod:`bot.textnorm`: no diacritics, spelling variants such as "ko" → "không"), repairs a
word of four letters or more that cannot be Vietnamese and is not a keyword word (Telex leftovers
as the trade matcher undoes them, "trowj" → "tro"; else one typo with rapidfuzz, "loann" →
"loan"), then finds every keyword phrase as whole words. An entry qualifies when a phrase of two
or more words, or a one-word phrase of :data:`MIN_SINGLE` letters or more, matched; among those,
the entry whose phrases cover most words of the question wins (ties: the longer phrase, then
file order).
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.content_check import html_problems
from bot.content_loading import (
    CONTENT_DIR,
    ContentError,
    ContentProblem,
    Localized,
    first_duplicate,
    line_for,
    load_yaml,
    validate_model,
    words_that_fold,
)
from bot.matching.spelling import FILLERS, canon_tokens, variants
from bot.textnorm import is_syllable

FAQ_PATH = CONTENT_DIR / "faq.yaml"
FAQ_TAGS = frozenset({"b", "i"})
MIN_SINGLE = 4  # letters a one-word keyword needs to count on its own
REPAIR_MIN = 4  # shorter words are never repaired


class FaqEntry(BaseModel):
    """One frequently asked question with its answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    title: Localized
    answer: Localized
    keywords: list[str] = Field(min_length=1)

    @field_validator("keywords")
    @classmethod
    def _keywords_fold(cls, values: list[str]) -> list[str]:
        return words_that_fold(values)


class Faq(BaseModel):
    """All entries, in file order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entries: list[FaqEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Faq:
        duplicate = first_duplicate(e.id for e in self.entries)
        if duplicate is not None:
            raise ValueError(f"duplicate entry id {duplicate!r}")
        return self

    def get(self, entry_id: str) -> FaqEntry | None:
        """The entry with this id, or None."""
        return next((e for e in self.entries if e.id == entry_id), None)


@lru_cache(maxsize=1)
def load_faq(path: Path | None = None) -> Faq:
    """Load and validate the FAQ; problems raise ContentError naming file:line."""
    path = path or FAQ_PATH
    data = load_yaml(path)
    faq = validate_model(Faq, data, path)
    problems = []
    for i, entry in enumerate(faq.entries):
        for part in ("title", "answer"):
            for lang, text in getattr(entry, part):
                for _, problem in html_problems(text, FAQ_TAGS):
                    line = line_for(data, ("entries", i, part, lang))
                    where = f"{entry.id}.{part}.{lang}"
                    problems.append(ContentProblem(path, line, f"{where}: {problem}"))
    if problems:
        raise ContentError(problems)
    return faq


class FaqMatcher:
    """Find the entry that answers a question; build once, call :meth:`match` many times."""

    def __init__(self, faq: Faq):
        self.faq = faq
        self._phrases: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for idx, entry in enumerate(faq.entries):
            for keyword in entry.keywords:
                phrase = tuple(canon_tokens(keyword))
                if phrase and idx not in self._phrases[phrase]:
                    self._phrases[phrase].append(idx)
        self._max_len = max(len(p) for p in self._phrases)
        self._vocab = sorted({tok for phrase in self._phrases for tok in phrase})
        self._known = frozenset(self._vocab) | FILLERS

    def match(self, text: str) -> FaqEntry | None:
        """The best entry for the question, or None when no entry qualifies."""
        toks = [self._repair(tok) for tok in canon_tokens(text)]
        covered: dict[int, set[int]] = defaultdict(set)
        longest: dict[int, int] = defaultdict(int)
        qualified: set[int] = set()
        for n in range(1, min(self._max_len, len(toks)) + 1):
            for i in range(len(toks) - n + 1):
                for idx in self._phrases.get(tuple(toks[i : i + n]), ()):
                    covered[idx].update(range(i, i + n))
                    longest[idx] = max(longest[idx], n)
                    if n >= 2 or len(toks[i]) >= MIN_SINGLE:
                        qualified.add(idx)
        if not qualified:
            return None
        best = max(qualified, key=lambda i: (len(covered[i]), longest[i], -i))
        return self.faq.entries[best]

    def _repair(self, tok: str) -> str:
        """The keyword word a word that cannot be Vietnamese was meant to be, else the word."""
        if tok in self._known or len(tok) < REPAIR_MIN or is_syllable(tok):
            return tok
        for variant in variants(tok):  # Telex leftovers: "trowj" → "tro"
            if variant in self._known:
                return variant
        found = process.extractOne(tok, self._vocab, scorer=Levenshtein.distance, score_cutoff=1)
        return str(found[0]) if found else tok


@lru_cache(maxsize=1)
def faq_matcher() -> FaqMatcher:
    """The matcher over the shipped FAQ (built on first use)."""
    return FaqMatcher(load_faq())
