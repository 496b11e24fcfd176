"""Match a typed commune/ward name to the wards of one province (vietnam-provinces data, 2025).

Names match with or without diacritics and with or without "xã", "phường", "thị trấn", "p.",
"x." in front. A name that fits a ward or province elsewhere but nothing here gives "outside".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from rapidfuzz import fuzz, process
from vietnam_provinces import Province, ProvinceCode, Ward

from bot.textnorm import fold

# Ward-type words people put in front of a name (folded); longest first.
_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("thi", "tran"),
    ("dac", "khu"),
    ("phuong",),
    ("xa",),
    ("tt",),
    ("p",),
    ("x",),
)
_PROVINCE_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("thanh", "pho"),
    ("tinh",),
    ("tp",),
)
# Other names people use for a province (folded) → province code.
_PROVINCE_ALIASES: dict[str, int] = {
    "hn": 1,
    "sai gon": 79,
    "sg": 79,
    "hcm": 79,
    "tphcm": 79,
    "ho chi minh": 79,
}

# Thresholds (scores 0-100, rapidfuzz ratio on folded names without the ward-type word).
# Accept when the best ward scores this much and beats the next by ACCEPT_MARGIN.
ACCEPT_SCORE = 90.0
ACCEPT_MARGIN = 5.0
# Wards scoring at least this are offered in an "ask"; fewer than this → maybe "outside"/"none".
ASK_SCORE = 72.0
# A ward or province of another province must score this much to say "outside".
OUTSIDE_SCORE = 92.0
# Score given when the typed words are the start of a ward name ("Thiện" → Thiện Hòa, ...)
# or all appear in it ("Hòa" → Quý Hòa, Nhất Hòa, ...): enough to ask, never to accept.
PREFIX_SCORE = 84.0
WORDS_SCORE = 80.0
MAX_ASK = 5

CommuneDecision = Literal["accept", "ask", "none", "outside"]


class CommuneCandidate(NamedTuple):
    """A ward: its code (string of the WardCode value), official name and match score."""

    code: str
    name: str
    score: float


@dataclass(frozen=True)
class CommuneResult:
    """The decision, ward candidates (best first) and, for "outside", the other province."""

    decision: CommuneDecision
    candidates: list[CommuneCandidate] = field(default_factory=list)
    outside_province_name: str | None = None


@dataclass(frozen=True)
class _Entry:
    code: str
    name: str
    key: str  # folded name without the ward-type word
    province_code: int


def _strip_prefix(words: list[str], prefixes: tuple[tuple[str, ...], ...]) -> list[str]:
    """Drop one leading ward-type (or province-type) word group."""
    for prefix in prefixes:
        if tuple(words[: len(prefix)]) == prefix and len(words) > len(prefix):
            return words[len(prefix) :]
    return words


def _ward_key(name: str) -> str:
    """Folded ward name without its type word."""
    return " ".join(_strip_prefix(fold(name).split(), _PREFIXES))


def province_short_name(province: Province) -> str:
    """Province name without "Thành phố"/"Tỉnh" ("Thành phố Hà Nội" → "Hà Nội")."""
    for prefix in ("Thành phố ", "Tỉnh "):
        if province.name.startswith(prefix):
            return province.name[len(prefix) :]
    return province.name


class CommuneMatcher:
    """Match typed names to the wards of one province; build once, reuse."""

    def __init__(self, province_code: int = 20):
        self.province_code = int(province_code)
        self.province = Province.from_code(ProvinceCode(self.province_code))
        self._own: list[_Entry] = []
        self._other: list[_Entry] = []
        for ward in Ward.iter_all():
            entry = _Entry(
                str(int(ward.code)), ward.name, _ward_key(ward.name), int(ward.province_code)
            )
            (self._own if entry.province_code == self.province_code else self._other).append(entry)
        self._own.sort(key=lambda e: (e.key, e.code))
        self._by_code = {e.code: e for e in self._own}
        self._own_keys = [e.key for e in self._own]
        self._other_keys = [e.key for e in self._other]
        self._provinces = {int(p.code): province_short_name(p) for p in Province.iter_all()}
        self._province_keys: dict[str, int] = {fold(n): c for c, n in self._provinces.items()}
        self._province_keys.update(_PROVINCE_ALIASES)
        self._own_province_key = fold(province_short_name(self.province))

    # ------------------------------------------------------------------ public

    def name_for(self, code: str) -> str | None:
        """Official name of a ward of this province, or None."""
        entry = self._by_code.get(str(code).lstrip("0") or "0")
        return entry.name if entry else None

    def all(self) -> list[tuple[str, str]]:
        """All wards of the province as (code, name), sorted by name without diacritics."""
        return [(e.code, e.name) for e in self._own]

    def match(self, text: str) -> CommuneResult:
        """Decide which ward the text names."""
        if _drop_province_prefix(fold(text or "")) == self._own_province_key:
            return self._province_wards()
        key = self._query_key(text or "")
        if not key:
            return CommuneResult("none")
        if key.isdigit() and self.name_for(key):
            entry = self._by_code[key.lstrip("0")]
            return CommuneResult("accept", [CommuneCandidate(entry.code, entry.name, 100.0)])
        ranked = self._rank_own(key)
        top = ranked[0].score if ranked else 0.0
        if top >= ACCEPT_SCORE:
            runner_up = ranked[1].score if len(ranked) > 1 else 0.0
            if top - runner_up >= ACCEPT_MARGIN:
                return CommuneResult("accept", ranked[:1])
            return CommuneResult("ask", ranked[:MAX_ASK])
        elsewhere = self._outside(key)
        if elsewhere is not None:
            return CommuneResult("outside", [], elsewhere)
        if top >= ASK_SCORE:
            return CommuneResult("ask", ranked[:MAX_ASK])
        return CommuneResult("none")

    # ------------------------------------------------------------------ internals

    def _query_key(self, text: str) -> str:
        """Folded query without ward-type word and without this province's name at the end."""
        words = fold(text).split()
        own = self._own_province_key.split()
        for tail in (["tinh", *own], own):
            if len(words) > len(tail) and words[-len(tail) :] == tail:
                words = words[: -len(tail)]
                break
        words = _strip_prefix(words, _PREFIXES)
        return " ".join(words)

    def _score(self, key: str, entry_key: str) -> float:
        """How well a query fits one ward name (0-100)."""
        if key == entry_key or key.replace(" ", "") == entry_key.replace(" ", ""):
            return 100.0
        score = fuzz.ratio(key, entry_key)
        q_words, e_words = key.split(), entry_key.split()
        if e_words[: len(q_words)] == q_words:
            score = max(score, PREFIX_SCORE)
        elif set(q_words) <= set(e_words):
            score = max(score, WORDS_SCORE)
        return float(score)

    def _rank_own(self, key: str) -> list[CommuneCandidate]:
        """Wards of this province scoring at least ASK_SCORE, best first."""
        scored = [
            CommuneCandidate(e.code, e.name, round(self._score(key, e.key), 1)) for e in self._own
        ]
        scored = [c for c in scored if c.score >= ASK_SCORE]
        return sorted(scored, key=lambda c: (-c.score, fold(c.name)))

    def _outside(self, key: str) -> str | None:
        """Name of another province whose ward or own name fits the query well."""
        province = self._province_keys.get(_drop_province_prefix(key))
        if province is not None and province != self.province_code:
            return self._provinces[province]
        found = process.extractOne(
            key, self._other_keys, scorer=fuzz.ratio, score_cutoff=OUTSIDE_SCORE
        )
        if found is None:
            return None
        return self._provinces[self._other[found[2]].province_code]

    def _province_wards(self) -> CommuneResult:
        """The answer was just this province's name: ask among its urban wards (phường)."""
        wards = [e for e in self._own if fold(e.name).startswith("phuong ")] or self._own
        return CommuneResult(
            "ask", [CommuneCandidate(e.code, e.name, float(ASK_SCORE)) for e in wards[:MAX_ASK]]
        )


def _drop_province_prefix(key: str) -> str:
    """Folded name without "thành phố"/"tỉnh"/"tp" in front."""
    return " ".join(_strip_prefix(key.split(), _PROVINCE_PREFIXES))
