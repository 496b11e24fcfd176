"""Parsing typed answers: Vietnamese folding, months, phone numbers, choices. Pure functions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

MAX_INPUT_CHARS = 1000
"""Typed input longer than this is refused as ``too_long`` before any other parsing."""

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ→d), keep only [0-9a-z] words split by spaces."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("đ", "d")
    return _NON_WORD.sub(" ", bare).strip()


def clean_text(text: str) -> str:
    """NFC-normalise, strip, and collapse inner whitespace (including newlines) to one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


# --- months -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; ``str()`` is the stored form ``YYYY-MM``."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def of(cls, day: date) -> Month:
        """The month containing ``day``."""
        return cls(day.year, day.month)

    @classmethod
    def from_stored(cls, value: str) -> Month:
        """Parse the stored ``YYYY-MM`` form (ValueError if malformed)."""
        m = re.fullmatch(r"(\d{4})-(\d{2})", value)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"not a stored month: {value!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    def index(self) -> int:
        """Months since year 0, for arithmetic."""
        return self.year * 12 + self.month - 1

    def plus(self, months: int) -> Month:
        """This month shifted by ``months`` (may be negative)."""
        i = self.index() + months
        return Month(i // 12, i % 12 + 1)

    def display(self) -> str:
        """``MM/YYYY``, as soldiers write it."""
        return f"{self.month:02d}/{self.year:04d}"


MIN_YEAR, MAX_YEAR = 1950, 2100
_SEP = r"\s*[/\-.\s]\s*"
_MONTH_YEAR = re.compile(rf"(\d{{1,2}}){_SEP}(\d{{4}}|\d{{2}})")
_YEAR_MONTH = re.compile(rf"(\d{{4}}){_SEP}(\d{{1,2}})")
_DAY_MONTH_YEAR = re.compile(rf"(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}}|\d{{2}})")
_COMPACT = re.compile(r"(\d{2})(\d{4})")
_MONTH_WORDS = re.compile(r"^(?:thang|th|t|month)\s*")


class MonthError(ValueError):
    """A typed month could not be read; ``key`` is ``bad_month_format`` or ``impossible_month``."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _year(text: str) -> int:
    """A 4-digit year, or a 2-digit one read as 20YY."""
    y = int(text)
    return 2000 + y if len(text) == 2 else y


def _checked(year: int, month: int) -> Month:
    """Build a Month, refusing month 0/13+ and absurd years."""
    if not 1 <= month <= 12 or not MIN_YEAR <= year <= MAX_YEAR:
        raise MonthError("impossible_month")
    return Month(year, month)


def _prepare_month_text(text: str) -> str:
    """Fold and drop words: 'Tháng 3 năm 2025' -> '3/2025', 'T3/2025' -> '3/2025'."""
    t = unicodedata.normalize("NFD", text.casefold())
    t = "".join(c for c in t if not unicodedata.combining(c)).replace("đ", "d").strip()
    t = re.sub(r"\s*\bnam\b\s*", "/", t)  # "3 năm 2025" -> "3/2025"
    t = re.sub(r"\bngay\b\s*", "", t)  # "ngày 5/3/2025"
    t = _MONTH_WORDS.sub("", t)
    return t.strip(" ,")


def parse_month(text: str) -> Month:
    """Read a typed month such as '03/2025', '3-2025', 'T3/2025', 'tháng 3/2025', '03/25', '032025',
    '2025-03' or a full date '15/03/2025'; raise MonthError otherwise."""
    t = _prepare_month_text(text)
    if m := _DAY_MONTH_YEAR.fullmatch(t):
        day, month, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        result = _checked(year, month)
        try:
            date(year, month, day)
        except ValueError:
            raise MonthError("impossible_month") from None
        return result
    if m := _MONTH_YEAR.fullmatch(t):
        return _checked(_year(m.group(2)), int(m.group(1)))
    if m := _YEAR_MONTH.fullmatch(t):
        return _checked(int(m.group(1)), int(m.group(2)))
    if m := _COMPACT.fullmatch(t):
        return _checked(int(m.group(2)), int(m.group(1)))
    raise MonthError("bad_month_format")


# --- phones -------------------------------------------------------------------------------

_PHONE_JUNK = re.compile(r"[\s.\-()]")
# Vietnamese mobile numbers: 9 digits after the 0 / +84, first digit 3, 5, 7, 8 or 9.
_MOBILE = re.compile(r"[35789]\d{8}")


def parse_phone(text: str) -> str | None:
    """Normalise a Vietnamese mobile number to '+84XXXXXXXXX'; None if it is not one.

    Accepts '0912 345 678', '0912.345.678', '84912345678', '+84 912-345-678', '+84 0912345678',
    '0084912345678' and the bare 9 digits '912345678'. Landlines (02x) and foreign numbers fail.
    """
    digits = _PHONE_JUNK.sub("", text.strip())
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("84"):
            return None
    elif digits.startswith("0084"):
        digits = digits[2:]
    if not digits.isascii() or not digits.isdigit():
        return None
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = digits[2:]
    if len(digits) == 10 and digits.startswith("0"):
        digits = digits[1:]
    return "+84" + digits if _MOBILE.fullmatch(digits) else None


def display_phone(stored: str) -> str:
    """'+84912345678' -> '0912 345 678' (other strings are returned unchanged)."""
    if re.fullmatch(r"\+84\d{9}", stored):
        national = "0" + stored[3:]
        return f"{national[:4]} {national[4:7]} {national[7:]}"
    return stored


# --- choices ------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?:so|cau|number|no)?\s*(\d{1,2})")
_LIST_SPLIT = re.compile(r"\s*(?:,|;|\+|/|\n|\bva\b|\band\b)\s*")


def typed_number(folded: str) -> int | None:
    """'2', 'số 2', '2.' (already folded) -> 2; None if it is not just a number."""
    m = _NUMBER.fullmatch(folded)
    return int(m.group(1)) if m else None


def split_list(text: str) -> list[str]:
    """Split a typed list on commas, semicolons, 'và'/'and', '+', '/'; '1 3' splits on spaces."""
    folded_keep = unicodedata.normalize("NFD", text.casefold())
    folded_keep = "".join(c for c in folded_keep if not unicodedata.combining(c)).replace("đ", "d")
    parts = [p for p in _LIST_SPLIT.split(folded_keep) if p.strip()]
    if len(parts) == 1 and re.fullmatch(r"[\d\s]+", parts[0]):
        parts = parts[0].split()
    return parts
