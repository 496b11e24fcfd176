"""Human names for stored codes (trades, communes, survey options), for exports and admin pages."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.content_loading import CONTENT_DIR, load_yaml


@lru_cache(maxsize=1)
def _trade_names() -> dict[str, dict[str, str]]:
    data: Any = load_yaml(CONTENT_DIR / "trades.yaml")
    items = data.get("trades", []) if isinstance(data, dict) else data
    return {str(t["code"]): dict(t["name"]) for t in items}


@lru_cache(maxsize=1)
def _options() -> dict[str, dict[str, dict[str, str]]]:
    data: Any = load_yaml(CONTENT_DIR / "survey.yaml")
    out: dict[str, dict[str, dict[str, str]]] = {}
    for q in data.get("questions", []):
        opts = q.get("options") or []
        out[str(q["id"])] = {str(o["value"]): dict(o.get("label", {})) for o in opts}
    return out


@lru_cache(maxsize=4)
def _communes(province_code: int) -> dict[str, str]:
    from vietnam_provinces import ProvinceCode, Ward

    return {
        str(int(w.code)): w.name for w in Ward.iter_by_province(ProvinceCode(province_code))
    }


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
