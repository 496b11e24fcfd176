"""A fuzzy matcher for the trades people type (catalog: :mod:`bot.matching.catalog`).

How :meth:`TradeMatcher.match` works, in order:

1. Fold the answer (no diacritics, lower case) and rewrite spelling variants to one form
   ("ô tô"/"oto"/"xe hơi" → ``oto``, "sỹ" → ``si``, "ko" → ``khong``...).
2. Repair words that cannot be Vietnamese and are not in the catalog: split run-together words
   ("suaxemay"), undo Telex leftovers ("hanf"), swap sounds people mix up (l/n, s/x, ch/tr,
   -n/-ng/-nh) or allow one typo, preferring the fix that completes a catalog phrase. Real
   syllables are only re-spelled when that completes a phrase ("dien lang" → "dien lanh").
   Each repaired word costs :data:`REPAIR_PENALTY` points.
3. Find every catalog phrase in the answer as whole words. A phrase inside a longer phrase of
   another trade does not count ("hàn" inside "tiếng hàn", "bảo vệ" inside "bảo vệ thực vật"),
   nor one right after "không thích"/"không muốn". A trade scores by how much of the answer its
   phrases cover; filler words ("em muốn học") are ignored. Words listed as ``exact`` in the
   catalog count only as the whole answer.
4. If no trade reached :data:`ACCEPT_SCORE` and the answer still has an impossible word, compare
   the answer without spaces to every phrase (Levenshtein-limited rapidfuzz ``ratio``), which
   catches what step 2 missed ("dienlan").
5. Decide with :data:`ACCEPT_SCORE`, :data:`ACCEPT_MARGIN` and :data:`ASK_SCORE`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.matching.catalog import TradeCatalog
from bot.matching.spelling import (
    FILLERS,
    ONLY_QUESTION_MARKS,
    UNKNOWN_WORDS,
    canon_tokens,
    negated,
    says_unknown,
    variants,
)
from bot.textnorm import is_syllable

# --------------------------------------------------------------------------- thresholds
# Tuned on tests/data/trade_inputs.csv (see bench/trade_matching.py). Scores are 0-100.
# Accept without asking when the best trade scores at least this much ...
ACCEPT_SCORE = 80.0
# ... and beats the runner-up by at least this much (else we ask "did you mean ...?").
ACCEPT_MARGIN = 8.0
# Below this score a trade is not offered at all; if nothing reaches it the answer is "none".
ASK_SCORE = 62.0
# Phrase score = 100 * (COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * share of the answer covered),
# so one trade word in a short sentence ("em muốn học hàn ở Hà Nội") still reaches ACCEPT_SCORE.
COVERAGE_FLOOR = 0.7
# Points taken off for each repaired word inside a matching phrase.
REPAIR_PENALTY = 6.0
# Whole-answer fuzzy step: rapidfuzz ratio (0-100) of the answer without spaces against each
# phrase without spaces; only phrases and answers of at least FUZZY_MIN_LEN letters take part,
# so short words never fuzzy-match everything. At most 1 typo up to 10 letters, 2 up to 16, then 3
# (see _allowed_edits); scores below FUZZY_CUTOFF are ignored. Runs only when no phrase reached
# ACCEPT_SCORE.
FUZZY_MIN_LEN = 5
FUZZY_CUTOFF = 78.0
# Fuzzy scores are lowered by this much: a near-miss of a phrase is weaker evidence than a hit.
FUZZY_PENALTY = 4.0

Decision = Literal["accept", "ask", "none", "unknown"]


@dataclass(frozen=True)
class Candidate:
    """One proposed trade with its score (0-100)."""

    code: str
    name_vi: str
    name_en: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided and the trades it proposes, best first."""

    decision: Decision
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        """The first candidate, if any."""
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    trade: int


def _beats(other: _Hit, hit: _Hit, weight: dict[_Hit, int]) -> bool:
    """True if another trade's phrase hides this one."""
    if other.trade == hit.trade or other.end <= hit.start or hit.end <= other.start:
        return False
    contains = other.start <= hit.start and hit.end <= other.end
    if contains and other.end - other.start > hit.end - hit.start:
        return True
    return weight[other] > weight[hit]


def _allowed_edits(length: int) -> int:
    """Typos allowed in the whole-answer fuzzy step for an answer of this many letters."""
    return 1 if length <= 10 else 2 if length <= 16 else 3


class TradeMatcher:
    """Match free text to catalog trades; build once, then call :meth:`match` many times."""

    def __init__(self, catalog: TradeCatalog):
        self.catalog = catalog
        self._trades = list(catalog.trades)
        self._phrases: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self._exact: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self._build_index()
        counts = Counter(tok for phrase in [*self._phrases, *self._exact] for tok in phrase)
        self._vocab_count = counts
        self._vocab = sorted(counts)
        self._known = frozenset(counts) | FILLERS | UNKNOWN_WORDS
        self._max_len = max(len(p) for p in self._phrases)
        self._fuzzy_keys: list[str] = []
        self._fuzzy_trades: list[list[int]] = []
        for phrase, trades in self._phrases.items():
            key = "".join(t for t in phrase if t not in FILLERS)
            if len(key) >= FUZZY_MIN_LEN:
                self._fuzzy_keys.append(key)
                self._fuzzy_trades.append(trades)

    def _build_index(self) -> None:
        """Index every name and synonym of every trade by its canonical word tuple."""
        for idx, trade in enumerate(self._trades):
            for text in (trade.name.vi, trade.name.en, *trade.synonyms):
                self._add(self._phrases, tuple(canon_tokens(text)), idx)
            for text in trade.exact:
                self._add(self._exact, tuple(canon_tokens(text)), idx)

    @staticmethod
    def _add(index: dict[tuple[str, ...], list[int]], key: tuple[str, ...], idx: int) -> None:
        if key and idx not in index[key]:
            index[key].append(idx)

    # ------------------------------------------------------------------ public

    def match(self, text: str, limit: int = 5) -> MatchResult:
        """Decide which trade(s) the text names: accept, ask, none or unknown."""
        if ONLY_QUESTION_MARKS.match(text or ""):
            return MatchResult("unknown")
        toks = canon_tokens(text or "")
        if not toks:
            return MatchResult("none")
        toks, repaired = self._repair(toks)
        hits = self._find_hits(toks)
        if self._repair_in_context(toks, repaired, hits):
            hits = self._find_hits(toks)
        scores = self._phrase_scores(toks, repaired, hits)
        if max(scores.values(), default=0.0) < ACCEPT_SCORE and self._has_odd_word(toks):
            for idx, score in self._fuzzy_scores(toks).items():
                scores[idx] = max(scores.get(idx, 0.0), score)
        return self._decide(scores, toks, limit)

    # ------------------------------------------------------------------ repair

    def _repair(self, toks: list[str]) -> tuple[list[str], list[bool]]:
        """Fix words that cannot be Vietnamese and are not in the catalog; mark repaired spots.

        Real syllables the catalog does not know ("bay", "tien") are left alone here; they are
        only re-spelled by :meth:`_repair_in_context` when that completes a catalog phrase.
        """
        out: list[str] = []
        repaired: list[bool] = []
        for i, tok in enumerate(toks):
            fixed = None
            if tok not in self._known and not tok.isdigit() and not is_syllable(tok):
                fixed = self._fix_word(tok, out, toks[i + 1 :])
            out.extend(fixed or [tok])
            repaired.extend([fixed is not None] * len(fixed or [tok]))
        return out, repaired

    def _fix_word(self, tok: str, before: list[str], after: list[str]) -> list[str] | None:
        """Best repair of one impossible word given the words around it, or None."""
        if len(tok) >= 4:
            split = self._segment(tok)
            if split:
                return split
        options = [v for v in variants(tok) if v in self._vocab_count]
        options += self._neighbours(tok)
        if not options:
            return None
        where = len(before)
        context = [*before, tok, *after]
        return [max(options, key=lambda o: self._longest_phrase_through(context, where, o))]

    def _neighbours(self, tok: str) -> list[str]:
        """Catalog words one typo away, most frequent first."""
        if len(tok) < 3:
            return []
        found = process.extract(
            tok, self._vocab, scorer=Levenshtein.distance, score_cutoff=1, limit=None
        )
        found.sort(key=lambda f: (f[1], f[0][0] != tok[0], -self._vocab_count[f[0]], f[0]))
        return [f[0] for f in found if f[0] != tok]

    def _repair_in_context(self, toks: list[str], repaired: list[bool], hits: list[_Hit]) -> bool:
        """Re-spell uncovered words when that completes a phrase ("dien lang" → "dien lanh").

        Only likely slips count here: swapped sounds, Telex leftovers, one letter missing or
        extra ("nghep" → "nghiep"); not a different letter ("may bay" must not become "may cay").
        """
        covered = {i for h in hits for i in range(h.start, h.end)}
        changed = False
        for i, tok in enumerate(toks):
            if i in covered or tok in FILLERS or len(tok) < 2:
                continue
            best: tuple[int, str] | None = None
            near = [n for n in self._neighbours(tok) if len(n) != len(tok)]
            for cand in [*variants(tok), *near]:
                if cand not in self._vocab_count:
                    continue
                length = self._longest_phrase_through(toks, i, cand)
                if length >= 2 and (best is None or length > best[0]):
                    best = (length, cand)
            if best is not None:
                toks[i] = best[1]
                repaired[i] = True
                changed = True
        return changed

    def _longest_phrase_through(self, toks: list[str], i: int, word: str) -> int:
        """Length of the longest catalog phrase covering position i if toks[i] were word."""
        trial = [*toks[:i], word, *toks[i + 1 :]]
        longest = 0
        for start in range(max(0, i - self._max_len + 1), i + 1):
            for end in range(i + 1, min(len(trial), start + self._max_len) + 1):
                if tuple(trial[start:end]) in self._phrases:
                    longest = max(longest, end - start)
        return longest

    def _segment(self, tok: str) -> list[str] | None:
        """Split a run-together word into known words of 2+ letters (fewest pieces)."""
        n = len(tok)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for end in range(2, n + 1):
            for start in range(max(0, end - 8), end - 1):
                prev = best[start]
                piece = tok[start:end]
                if prev is None or piece not in self._vocab_count:
                    continue
                if best[end] is None or len(prev) + 1 < len(best[end] or []):
                    best[end] = [*prev, piece]
        result = best[n]
        return result if result and len(result) > 1 else None

    # ------------------------------------------------------------------ scoring

    def _find_hits(self, toks: Sequence[str]) -> list[_Hit]:
        """Every catalog phrase found as whole words, minus those beaten by another trade's.

        A phrase loses to another trade's phrase that contains it and is longer ("hàn" inside
        "tiếng hàn"), or that overlaps it with more non-filler words ("làm điện" vs "điện lạnh").
        """
        hits: list[_Hit] = []
        for start in range(len(toks)):
            for end in range(start + 1, min(len(toks), start + self._max_len) + 1):
                for idx in self._phrases.get(tuple(toks[start:end]), ()):
                    hits.append(_Hit(start, end, idx))
        hits = [h for h in hits if not negated(toks, h.start)]
        weight = {h: sum(t not in FILLERS for t in toks[h.start : h.end]) for h in hits}
        return [h for h in hits if not any(_beats(o, h, weight) for o in hits)]

    def _phrase_scores(
        self, toks: list[str], repaired: list[bool], hits: list[_Hit]
    ) -> dict[int, float]:
        """Score trades by how much of the answer their phrases cover."""
        content = [t not in FILLERS for t in toks]
        scores: dict[int, float] = {}
        # Exact-only words: the whole answer, or what is left without fillers if no phrase hit.
        exact = self._exact.get(tuple(toks), [])
        if not exact and not hits:
            exact = self._exact.get(tuple(t for t, c in zip(toks, content, strict=True) if c), [])
        for idx in exact:
            scores[idx] = 100.0 - REPAIR_PENALTY * sum(repaired)
        covered_by: dict[int, set[int]] = defaultdict(set)
        for h in hits:
            covered_by[h.trade].update(range(h.start, h.end))
        all_covered = set().union(*covered_by.values()) if covered_by else set()
        loose = {i for i, c in enumerate(content) if c and i not in all_covered}
        for idx, mine in covered_by.items():
            others = all_covered - mine
            share = len(mine) / (len(mine) + len(loose) + len(others))
            penalty = REPAIR_PENALTY * sum(repaired[i] for i in mine)
            score = 100.0 * (COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * share) - penalty
            scores[idx] = max(scores.get(idx, 0.0), score)
        return scores

    def _has_odd_word(self, toks: list[str]) -> bool:
        """True if some word is neither known nor a possible Vietnamese syllable (a typo)."""
        return any(t not in self._known and not is_syllable(t) for t in toks)

    def _fuzzy_scores(self, toks: list[str]) -> dict[int, float]:
        """Compare the answer without spaces and fillers to every long phrase (same treatment)."""
        scores: dict[int, float] = {}
        query = "".join(t for t in toks if t not in FILLERS)
        if len(query) >= FUZZY_MIN_LEN:
            found = process.extract(
                query,
                self._fuzzy_keys,
                scorer=Levenshtein.distance,
                score_cutoff=_allowed_edits(len(query)),
                limit=12,
            )
            for key, _, pos in found:
                ratio = fuzz.ratio(query, key)
                if ratio < FUZZY_CUTOFF:
                    continue
                for idx in self._fuzzy_trades[pos]:
                    scores[idx] = max(scores.get(idx, 0.0), ratio - FUZZY_PENALTY)
        return scores

    def _decide(self, scores: dict[int, float], toks: list[str], limit: int) -> MatchResult:
        """Turn trade scores into a decision and a short ranked candidate list."""
        ranked = sorted(
            ((idx, s) for idx, s in scores.items() if s >= ASK_SCORE),
            key=lambda item: (-item[1], item[0]),
        )
        if not ranked:
            return MatchResult("unknown" if says_unknown(toks) else "none")
        if says_unknown(toks) and ranked[0][1] < ACCEPT_SCORE:
            return MatchResult("unknown")
        candidates = [self._candidate(idx, s) for idx, s in ranked[: max(1, limit)]]
        top = ranked[0][1]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= ACCEPT_SCORE and top - runner_up >= ACCEPT_MARGIN:
            return MatchResult("accept", candidates)
        return MatchResult("ask", candidates)

    def _candidate(self, idx: int, score: float) -> Candidate:
        trade = self._trades[idx]
        return Candidate(trade.code, trade.name.vi, trade.name.en, round(min(score, 100.0), 1))
