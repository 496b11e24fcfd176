"""Vietnamese text folding for matching: no diacritics, lower case, single spaces, no punctuation.

Folding removes the tone and vowel marks, so the old and new tone placements (``hoà``/``hòa``,
``thuý``/``thúy``) and text typed without diacritics all fold to the same string.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that NFD does not decompose into a base letter plus combining marks.
_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ø": "o", "Ø": "o"})
# Anything that is not a letter or a digit after folding becomes a word break.
_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Fold Vietnamese text: strip diacritics, đ→d, lower case, drop punctuation, one space."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA_FOLDS))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = unicodedata.normalize("NFKC", bare).translate(_EXTRA_FOLDS).lower()
    return _NON_WORD.sub(" ", bare).strip()


def tokens(text: str) -> list[str]:
    """Split text into folded words."""
    folded = fold(text)
    return folded.split() if folded else []


# Folded Vietnamese syllable: onset, vowel group, coda. Vowel groups are the ones Vietnamese
# spelling allows once diacritics are gone (ươ → uo, ưu → uu, ...).
_ONSETS = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx]"
_VOWELS = (
    "uyeu|uyen|uoi|uou|uay|uya|uye|uyu|oai|oao|oay|oeo|ieu|yeu|uoi|"
    "ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|ye|yu|a|e|i|o|u|y"
)
_SYLLABLE = re.compile(rf"^(?:{_ONSETS})?(?:{_VOWELS})(?:ch|ng|nh|[cmnpt])?$")


def is_syllable(word: str) -> bool:
    """True if a folded word could be one Vietnamese syllable ("bay" yes, "hanf"/"dug" no)."""
    return bool(_SYLLABLE.match(word))
