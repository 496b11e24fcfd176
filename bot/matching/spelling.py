"""How people write trade words: spelling variants, filler words, "don't know" phrases and the
repairs :class:`bot.matching.trades.TradeMatcher` tries on words it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from bot.textnorm import fold

# Spelling variants rewritten to one form, in answers and in catalog phrases alike.
_TOKEN_MAP: dict[str, tuple[str, ...]] = {
    "sy": ("si",),
    "ky": ("ki",),
    "ly": ("li",),
    "my": ("mi",),
    "ty": ("ti",),
    "ko": ("khong",),
    "k": ("khong",),
    "kh": ("khong",),
    "khg": ("khong",),
    "hk": ("khong",),
    "bit": ("biet",),
    "dc": ("duoc",),
    "j": ("gi",),
    "ji": ("gi",),
    "cx": ("cung",),
    "e": ("em",),
    "onl": ("online",),
    "cafe": ("ca", "phe"),
    "coffee": ("ca", "phe"),
    "otto": ("oto",),
    "xkld": ("xuat", "khau", "lao", "dong"),
    "tmdt": ("thuong", "mai", "dien", "tu"),
}
_PHRASE_MAP: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("o", "to"), ("oto",)),
    (("xe", "hoi"), ("oto",)),
    (("xe", "oto"), ("oto",)),
    (("mo", "to"), ("moto",)),
    (("ti", "vi"), ("tivi",)),
    (("lap", "top"), ("laptop",)),
    (("cong", "te", "no"), ("container",)),
    (("cong", "ten", "no"), ("container",)),
    (("don", "t"), ("dont",)),
    (("do", "not"), ("dont",)),
    (("ca", "fe"), ("ca", "phe")),
]

# Words that say nothing about the trade; they neither help nor hurt a match.
FILLERS = frozenset(
    """
    em anh toi tui minh to tao chi ban bac chu co
    muon thich dinh se dang da can nen phai chac tam hoi xin cho giup
    hoc nghe nganh lam di ve o de tai tren voi va hoac hay la thi duoc the nao gi gi
    ah a a oi nhe nha nhi day nay kia roi xong sau khi nua con rat lam luon ma
    nhu kieu mot cai cac nhung viec cong job khoa khoa hoc truong lop dao tao
    i want to learn study be a an the as work in like would become my me please course
    training of for and or job jobs do doing get
    """.split()
)
# Phrases meaning "I don't know"; the caller then offers the interest quiz.
_UNKNOWN_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.split())
    for p in (
        "chua biet",
        "khong biet",
        "hok biet",
        "hong biet",
        "hem biet",
        "chang biet",
        "cha biet",
        "kb",
        "chua ro",
        "khong ro",
        "chua nghi",
        "chua nghi ra",
        "chua co y",
        "chua co dinh huong",
        "chua dinh huong",
        "chua xac dinh",
        "chua chon",
        "chua chac",
        "khong chac",
        "gi cung duoc",
        "nao cung duoc",
        "sao cung duoc",
        "cung duoc",
        "tuy",
        "tu van",
        "goi y",
        "chiu",
        "bo tay",
        "idk",
        "dunno",
        "dont know",
        "not sure",
        "no idea",
        "unsure",
        "anything",
        "whatever",
    )
)
# Words that turn the next trade words into a dislike ("không thích hàn"), fillers in between.
_NEGATORS = frozenset({"khong", "chang", "cha", "ghet", "dont", "not", "never", "hate"})
UNKNOWN_WORDS = frozenset(w for p in _UNKNOWN_PHRASES for w in p)
ONLY_QUESTION_MARKS = re.compile(r"^[\s?？¿.…]*\?[\s?？¿.…]*$")

# Sounds people mix up when typing without diacritics or with a regional accent.
_Swaps = tuple[tuple[str, str], ...]
_ONSET_SWAPS: _Swaps = (("l", "n"), ("n", "l"), ("s", "x"), ("x", "s"), ("tr", "ch"), ("ch", "tr"))
_ONSET_SWAPS += (("d", "gi"), ("gi", "d"), ("r", "d"), ("d", "r"), ("v", "d"))
_CODA_SWAPS: _Swaps = (("ng", "nh"), ("nh", "ng"), ("n", "ng"), ("ng", "n"), ("nh", "n"))
_CODA_SWAPS += (("n", "nh"), ("t", "c"), ("c", "t"), ("ch", "t"), ("k", "c"))
_TELEX_DOUBLES: _Swaps = (("dd", "d"), ("aa", "a"), ("ee", "e"), ("oo", "o"), ("uw", "u"))
_TELEX_DOUBLES += (("ow", "o"), ("aw", "a"))


def canon_tokens(text: str) -> list[str]:
    """Fold text and rewrite spelling variants to the catalog's form."""
    mapped: list[str] = []
    for tok in fold(text).split():
        mapped.extend(_TOKEN_MAP.get(tok, (tok,)))
    while True:
        rewritten = _rewrite_phrases(mapped)
        if rewritten == mapped:
            return mapped
        mapped = rewritten


def _rewrite_phrases(words: list[str]) -> list[str]:
    """One left-to-right pass of the phrase rewrites ("xe o to" → "xe oto" → "oto")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for src, dst in _PHRASE_MAP:
            if tuple(words[i : i + len(src)]) == src:
                out.extend(dst)
                i += len(src)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def variants(tok: str) -> Iterator[str]:
    """Spellings the word might have meant: Telex leftovers, swapped sounds."""
    if len(tok) > 2 and tok[-1] in "sfrxj":
        yield tok[:-1]
    plain = tok
    for src, dst in _TELEX_DOUBLES:
        plain = plain.replace(src, dst)
    if plain != tok:
        yield plain
        if len(plain) > 2 and plain[-1] in "sfrxj":
            yield plain[:-1]
    for src, dst in _ONSET_SWAPS:
        if tok.startswith(src):
            yield dst + tok[len(src) :]
    for src, dst in _CODA_SWAPS:
        if tok.endswith(src):
            yield tok[: -len(src)] + dst


def negated(toks: Sequence[str], start: int) -> bool:
    """True if a negating word comes right before position start (fillers may sit between)."""
    for tok in reversed(toks[:start]):
        if tok in _NEGATORS:
            return True
        if tok not in FILLERS:
            return False
    return False


def says_unknown(toks: list[str]) -> bool:
    """True if the answer contains a "don't know" phrase."""
    for phrase in _UNKNOWN_PHRASES:
        n = len(phrase)
        if any(tuple(toks[i : i + n]) == phrase for i in range(len(toks) - n + 1)):
            return True
    return False
