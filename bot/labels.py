"""Human names for stored codes (trades, communes, survey options), for exports and admin pages."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _trade_names() -> dict[str, dict[str, str]]:
    from bot.matching.trades import load_trades

    return {t.code: {"vi": t.name.vi, "en": t.name.en} for t in load_trades()}


@lru_cache(maxsize=1)
def _options() -> dict[str, dict[str, dict[str, str]]]:
    from bot.survey import load_survey

    return {q.id: {o.value: dict(o.label) for o in q.options} for q in load_survey().questions}


@lru_cache(maxsize=4)
def _communes(province_code: int) -> dict[str, str]:
    from vietnam_provinces import ProvinceCode, Ward

    return {str(int(w.code)): w.name for w in Ward.iter_by_province(ProvinceCode(province_code))}


def trade_name(code: str | None, lang: str = "vi") -> str:
    """The trade's name in ``lang`` (Vietnamese fallback); the code itself if unknown."""
    if not code:
        return ""
    names = _trade_names().get(code)
    if not names:
        return code
    return names.get(lang) or names.get("vi") or code


def trades() -> list[tuple[str, str]]:
    """(code, Vietnamese name) of every catalog trade, in catalog order."""
    return [(code, names.get("vi", code)) for code, names in _trade_names().items()]


def commune_name(code: str | None, province_code: int = 20) -> str:
    """The ward/commune name for a stored code; empty for none."""
    if not code:
        return ""
    return _communes(province_code).get(str(code), str(code))


def communes(province_code: int = 20) -> list[tuple[str, str]]:
    """(code, name) of every commune and ward of the province, sorted by name."""
    return sorted(_communes(province_code).items(), key=lambda kv: kv[1])


def option_label(question_id: str, value: Any, lang: str = "vi") -> str:
    """The label of a survey option value (``yes`` → ``Có``); the value itself if unknown."""
    if value is None or value == "":
        return ""
    labels = _options().get(question_id, {}).get(str(value))
    if not labels:
        return str(value)
    return labels.get(lang) or labels.get("vi") or str(value)
