"""Match a typed commune/ward name to the wards of one province (vietnam-provinces data, 2025).

Names match with or without diacritics and with or without "xã", "phường", "thị trấn", "p.",
"x." in front. A name that fits a ward or province elsewhere but nothing here gives "outside".

Names from before the 2025 merger are accepted too, through ``vietnamadminunits`` (its legacy
table, ``database.get_data``, and ``convert_address`` for the unit each became): "thị trấn Cao
Lộc" (old) is now phường Kỳ Lừa. A name that is also a unit of today means today's unit ("xã Cao
Lộc", "Cao Lộc": the new xã Cao Lộc), unless the type word fits only the old one ("phường Hoàng
Văn Thụ" was a ward of the city, now Kỳ Lừa; today's Hoàng Văn Thụ is a xã) or an old district is
named after a comma ("Hồng Phong, Cao Lộc"). One old name that became several units asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from rapidfuzz import fuzz, process
from vietnam_provinces import Province, ProvinceCode, Ward
from vietnamadminunits import convert_address
from vietnamadminunits.database import get_data

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
# Type words (folded) → the unit type they name; "thị trấn" exists only before 2025.
_KINDS: dict[tuple[str, ...], str] = {
    ("thi", "tran"): "thi tran",
    ("tt",): "thi tran",
    ("phuong",): "phuong",
    ("p",): "phuong",
    ("xa",): "xa",
    ("x",): "xa",
}
_DISTRICT_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("thanh", "pho"),
    ("thi", "xa"),
    ("huyen",),
    ("quan",),
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
    former_name: str | None = None  # the pre-2025 unit the text named ("Thị trấn Cao Lộc")


@dataclass(frozen=True)
class _Entry:
    code: str
    name: str
    key: str  # folded name without the ward-type word
    province_code: int


@dataclass(frozen=True)
class _Former:
    """A unit from before 2025 and the unit of today it became."""

    key: str  # folded name without its type word
    kind: str  # "thi tran" | "phuong" | "xa"
    district: str  # folded district name without its type word
    name: str  # "Thị trấn Cao Lộc (Huyện Cao Lộc)"
    code: str  # today's unit


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
        self._formers = self._former_units()

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
        former = self._former(text)
        if former is not None:
            return former
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

    # ------------------------------------------------------------------ former names

    def _former_units(self) -> list[_Former]:
        """This province's units before 2025, each with the unit it became."""
        today = {fold(e.name): e for e in self._own}
        fields = ["ward", "wardType", "district", "province", "provinceCode"]
        formers: list[_Former] = []
        for row in get_data(fields, table="admin_units_legacy"):
            if int(row["provinceCode"]) != self.province_code or not row["ward"]:
                continue
            unit = convert_address(f"{row['ward']}, {row['district']}, {row['province']}")
            entry = today.get(fold(unit.ward or ""))
            if entry is None:
                continue
            formers.append(
                _Former(
                    _ward_key(row["ward"]),
                    fold(row["wardType"]),
                    " ".join(_strip_prefix(fold(row["district"]).split(), _DISTRICT_PREFIXES)),
                    f"{row['ward']} ({row['district']})",
                    entry.code,
                )
            )
        return formers

    def _former(self, text: str) -> CommuneResult | None:
        """The unit(s) of today an old name became; None when the text is today's name or
        names no old unit. See the module's docstring for which reading wins."""
        name, _, rest = (text or "").partition(",")
        words = fold(name).split()
        kind = next((k for p, k in _KINDS.items() if tuple(words[: len(p)]) == p), None)
        key = self._query_key(name).replace(" ", "")
        found = [f for f in self._formers if f.key.replace(" ", "") == key]
        districts = {
            " ".join(_strip_prefix(fold(part).split(), _DISTRICT_PREFIXES))
            for part in rest.split(",")
        }
        named = [f for f in found if f.district in districts]
        if named:
            found = named
        elif kind is not None and kind != "thi tran":
            if any(e.key.replace(" ", "") == key and _kind(e.name) == kind for e in self._own):
                return None  # "xã Cao Lộc": today's xã
            found = [f for f in found if f.kind == kind]
        elif kind is None and any(e.key.replace(" ", "") == key for e in self._own):
            return None  # "Cao Lộc": today's unit of that name
        codes = list(dict.fromkeys(f.code for f in found))
        if not codes:
            return None
        candidates = [CommuneCandidate(c, self._by_code[c].name, 100.0) for c in codes]
        former = found[0].name if len(found) == 1 else None
        if len(codes) == 1:
            return CommuneResult("accept", candidates, former_name=former)
        return CommuneResult("ask", candidates[:MAX_ASK], former_name=former)

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


def _kind(name: str) -> str | None:
    """The type word of an official name ("Xã Cao Lộc" → "xa")."""
    words = tuple(fold(name).split())
    return next((k for p, k in _KINDS.items() if words[: len(p)] == p), None)


def _drop_province_prefix(key: str) -> str:
    """Folded name without "thành phố"/"tỉnh"/"tp" in front."""
    return " ".join(_strip_prefix(key.split(), _PROVINCE_PREFIXES))
