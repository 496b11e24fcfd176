"""How one catalog cell is read: text, dates, money in đồng, counts, yes/no, comma-separated
lists, codes of a vocabulary or of the trade catalog, and ward codes of the province.

Each reader takes what a spreadsheet or a form gives (text, a number, a date) and returns the
stored value, or raises :class:`PydanticCustomError` whose ``type`` is a key of
:data:`bot.catalog.problems.MESSAGES` (the officer reads it in their language). Empty means
unknown (None), never 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import ValidationInfo
from pydantic_core import PydanticCustomError

from bot.catalog.vocab import vocabularies
from bot.config import LANG_SON_CODE
from bot.matching.catalog import load_trades
from bot.matching.communes import CommuneMatcher
from bot.matching.places import normal_code, place

MAX_COUNT = 2**31 - 1  # what an integer column holds
MAX_MONEY = 10**15  # đồng: far above any fee or pay
YES = frozenset({"1", "x", "yes", "y", "true", "có", "co", "c"})
NO = frozenset({"0", "no", "n", "false", "không", "khong", "k"})
SEXES = {"male": "male", "nam": "male", "female": "female", "nữ": "female", "nu": "female"}
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
DATETIME_FORMATS = ("%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S")
T = TypeVar("T")
_MONEY_UNITS = re.compile(r"\s*(đồng|dong|vnd|vnđ|đ|d)\.?$", re.IGNORECASE)


def problem(key: str, value: Any = "", **ctx: Any) -> PydanticCustomError:
    """The error for one cell: ``key`` names the message, ``value`` is what was written."""
    return PydanticCustomError(key, key, {"value": shown(value), **ctx})


def shown(value: Any) -> str:
    """A cell's value as the officer typed it (dates as dd/mm/yyyy)."""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def text(value: Any) -> str | None:
    """Trimmed text; empty → None."""
    out = shown(value)
    return out or None


def to_date(value: Any) -> date | None:
    """A date: a spreadsheet date, ``dd/mm/yyyy`` or ISO ``yyyy-mm-dd``; empty → None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if raw is None:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise problem("not_a_date", raw)


def to_datetime(value: Any) -> datetime | None:
    """A local date and time (``dd/mm/yyyy HH:MM`` or ISO); a date alone means 00:00."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    raw = text(value)
    if raw is None:
        return None
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    try:
        day = to_date(raw)
    except PydanticCustomError:
        raise problem("not_a_datetime", raw) from None
    return datetime.combine(day, time()) if day else None


def to_count(value: Any) -> int | None:
    """A whole number ≥ 0; empty → None."""
    if isinstance(value, bool):
        raise problem("not_a_number", value)
    if isinstance(value, int | float):
        if value < 0 or not float(value).is_integer():
            raise problem("not_a_number", value)
        number = int(value)
    else:
        raw = text(value)
        if raw is None:
            return None
        if not raw.isdigit():
            raise problem("not_a_number", raw)
        number = int(raw)
    if number > MAX_COUNT:
        raise problem("too_big", number)
    return number


def to_money(value: Any) -> int | None:
    """Whole đồng ≥ 0 ("4.500.000", "4,500,000 đ", 4500000); empty → None (unknown)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0 or not float(value).is_integer():
            raise problem("not_money", value)
        amount = int(value)
    else:
        raw = text(value)
        if raw is None:
            return None
        digits = _MONEY_UNITS.sub("", raw).replace(".", "").replace(",", "").replace(" ", "")
        if not digits.isdigit():
            raise problem("not_money", raw)
        amount = int(digits)
    if amount > MAX_MONEY:
        raise problem("too_big", value)
    return amount


def to_bool(value: Any) -> bool:
    """Yes/no (có/không, x, 1/0); empty → no."""
    if isinstance(value, bool):
        return value
    raw = (text(value) or "").lower()
    if not raw or raw in NO:
        return False
    if raw in YES:
        return True
    raise problem("not_yes_no", raw)


def to_list(value: Any) -> list[str]:
    """Comma-separated items, trimmed, empty ones dropped."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in (text(value) or "").split(",") if part.strip()]


def to_sex(value: Any) -> str | None:
    """``male``/``female`` (or nam/nữ); empty → anyone."""
    raw = text(value)
    if raw is None:
        return None
    found = SEXES.get(raw.lower())
    if found is None:
        raise problem("bad_code", raw, allowed="male, female")
    return found


def to_country(value: Any) -> str | None:
    """A two-letter country code (VN, KR, JP…), upper case; empty → None."""
    raw = text(value)
    if raw is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{2}", raw):
        raise problem("bad_country", raw)
    return raw.upper()


def one_of(allowed: tuple[str, ...] | Callable[[], list[str]]) -> Callable[[Any], str | None]:
    """A reader of one code of a fixed list (or of a list given by a function)."""

    def read(value: Any) -> str | None:
        raw = text(value)
        if raw is None:
            return None
        codes = list(allowed) if isinstance(allowed, tuple) else allowed()
        if raw not in codes:
            raise problem("bad_code", raw, allowed=", ".join(codes))
        return raw

    return read


def required(read: Callable[[Any], T | None]) -> Callable[[Any], T]:
    """``read``, but an empty cell is an error."""

    def read_required(value: Any) -> T:
        out = read(value)
        if out is None:
            raise problem("required")
        return out

    return read_required


def or_default(read: Callable[[Any], str | None], default: str) -> Callable[[Any], str]:
    """``read``, but an empty cell means ``default``."""

    def read_or_default(value: Any) -> str:
        return read(value) or default

    return read_or_default


required_text = required(text)


def vocab_list(name: str) -> Callable[[Any], list[str]]:
    """A reader of comma-separated codes of one vocabulary."""
    read = vocab(name)

    def read_list(value: Any) -> list[str]:
        return [code for code in map(read, to_list(value)) if code]

    return read_list


def vocab(name: str) -> Callable[[Any], str | None]:
    """A reader of one code of a ``content/catalog.yaml`` vocabulary (``levels``…)."""
    return one_of(lambda: vocabularies().codes(name))


@lru_cache(maxsize=1)
def trade_codes() -> frozenset[str]:
    """The codes of ``content/trades.yaml``."""
    return frozenset(load_trades().codes())


def trade(value: Any) -> str | None:
    """One trade code of ``content/trades.yaml``."""
    raw = text(value)
    if raw is not None and raw not in trade_codes():
        raise problem("bad_trade", raw)
    return raw


def trade_list(value: Any) -> list[str]:
    """Comma-separated trade codes."""
    return [code for code in (trade(part) for part in to_list(value)) if code]


@lru_cache(maxsize=4)
def commune_matcher(province: int) -> CommuneMatcher:
    """The matcher of one province's wards, built once."""
    return CommuneMatcher(province)


def ward(value: Any, info: ValidationInfo) -> str | None:
    """A ward of the province: its 2025 code ("06187", 6187) or its name ("Phường Kỳ Lừa",
    "Kỳ Lừa"); stored as the code without leading zeros."""
    raw = text(value)
    if raw is None:
        return None
    province = int((info.context or {}).get("province", LANG_SON_CODE))
    matcher = commune_matcher(province)
    if raw.isdigit():
        code = normal_code(raw)
        found = place(code)
        if code is None or found is None or found.province_code != province:
            raise problem("bad_place", raw)
        return code
    result = matcher.match(raw)
    if result.decision != "accept":
        raise problem("bad_place", raw)
    return result.candidates[0].code
