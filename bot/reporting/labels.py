"""Human names for stored codes (trades, communes, survey options), for exports and admin pages."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _trade_names() -> dict[str, dict[str, str]]:
    from bot.matching.catalog import load_trades

    return {t.code: {"vi": t.name.vi, "en": t.name.en} for t in load_trades()}


@lru_cache(maxsize=1)
def _options() -> dict[str, dict[str, dict[str, str]]]:
    from bot.survey import load_survey

    return {q.id: {o.value: dict(o.label) for o in q.options} for q in load_survey().questions}


@lru_cache(maxsize=1)
def _yes_no() -> dict[bool, dict[str, str]]:
    from bot.survey import load_survey

    messages = load_survey().messages
    return {True: dict(messages["yes"]), False: dict(messages["no"])}


@lru_cache(maxsize=1)
def _all_wards() -> dict[str, tuple[str, int]]:
    """Every commune and ward of Vietnam: code → (name, province code); codes are unique."""
    from vietnam_provinces import Ward

    return {str(int(w.code)): (w.name, int(w.province_code)) for w in Ward.iter_all()}


@lru_cache(maxsize=4)
def _communes(province_code: int) -> dict[str, str]:
    return {code: name for code, (name, p) in _all_wards().items() if p == province_code}


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


def commune_name(code: str | None) -> str:
    """The ward/commune name for a stored code (any province); empty for none."""
    if not code:
        return ""
    found = _all_wards().get(str(code))
    return found[0] if found else str(code)


def communes(province_code: int | None = None) -> list[tuple[str, str]]:
    """(code, name) of every commune and ward of the province (default: the configured one)."""
    if province_code is None:
        from bot.config import get_settings

        province_code = get_settings().province_code
    return sorted(_communes(province_code).items(), key=lambda kv: kv[1])


def option_label(question_id: str, value: Any, lang: str = "vi") -> str:
    """The label of a survey option value (``yes`` → ``Có``); the value itself if unknown."""
    if value is None or value == "":
        return ""
    labels = _options().get(question_id, {}).get(str(value))
    if not labels:
        return str(value)
    return labels.get(lang) or labels.get("vi") or str(value)


def yes_no(value: bool, lang: str = "vi") -> str:
    """``Có``/``Không`` (``Yes``/``No`` in English), the words of the survey's own buttons."""
    names = _yes_no()[bool(value)]
    return names.get(lang) or names["vi"]
