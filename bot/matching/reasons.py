"""A match's one-line reason in the person's language: "Gần nhà ~12 km · đúng nghề hàn · được
hỗ trợ học phí". The words live in the gettext catalogs (domain ``messages``); country names come
from Babel's locale data."""

from __future__ import annotations

import re
from datetime import date

from babel import Locale

from bot.i18n import N_, translator
from bot.matching.catalog import TradeCatalog
from bot.matching.items import Match, Reason

SEPARATOR = " · "
WORDS: dict[str, str] = {
    "home": N_("Ngay tại xã/phường của bạn"),
    "near": N_("Gần nhà ~%(km)s km"),
    "far": N_("cách nhà ~%(km)s km"),
    "online": N_("Trực tuyến, không phải đi xa"),
    "abroad": N_("Làm việc tại %(country)s"),
    "chosen_trade": N_("đúng nghề %(trade)s"),
    "fair_trade": N_("có tuyển nghề %(trade)s"),
    "related_trade": N_("nghề %(trade)s, gần với nghề %(chosen)s bạn chọn"),
    "free": N_("học miễn phí"),
    "tuition_supported": N_("được hỗ trợ học phí"),
    "supported": N_("được hỗ trợ chi phí học"),
    "starts": N_("khai giảng %(date)s"),
    "starts_after_discharge": N_("khai giảng %(date)s, sau khi bạn xuất ngũ"),
    "deadline": N_("hạn đăng ký %(date)s"),
    "fair_day": N_("ngày %(date)s"),
    "pay": N_("lương từ %(pay)s triệu đồng"),
}
_PARENTHESES = re.compile(r"\s*\([^)]*\)")


def _day(value: object) -> str:
    return date.fromisoformat(str(value)).strftime("%d/%m")


def trade_words(code: str, lang: str, trades: TradeCatalog) -> str:
    """A trade's name inside a sentence: without the part in brackets, and in Vietnamese with a
    small first letter ("Hàn" → "hàn", "Tiếng Trung" → "tiếng Trung")."""
    trade = trades.get(code)
    if trade is None:
        return code
    name = _PARENTHESES.sub("", trade.name_in(lang)).strip()
    return name[:1].lower() + name[1:] if lang == "vi" else name


def country_name(code: str, lang: str) -> str:
    """A country's name in the language ("KR" → "Hàn Quốc" / "South Korea")."""
    territories = Locale.parse("vi" if lang == "vi" else "en").territories
    return str(territories.get(code.upper(), code))


def reason_part(reason: Reason, lang: str, trades: TradeCatalog) -> str:
    """One reason in words."""
    _ = translator(lang)
    msgid = WORDS[reason.key]
    if reason.key in ("near", "far"):
        return _(msgid, km=reason.value("km"))
    if reason.key in ("chosen_trade", "fair_trade"):
        return _(msgid, trade=trade_words(str(reason.value("trade")), lang, trades))
    if reason.key == "related_trade":
        return _(
            msgid,
            trade=trade_words(str(reason.value("trade")), lang, trades),
            chosen=trade_words(str(reason.value("chosen")), lang, trades),
        )
    if reason.key in ("starts", "starts_after_discharge", "deadline", "fair_day"):
        return _(msgid, date=_day(reason.value("date")))
    if reason.key == "abroad":
        return _(msgid, country=country_name(str(reason.value("country")), lang))
    if reason.key == "pay":
        millions = int(reason.value("min") or 0) / 1_000_000
        return _(msgid, pay=f"{millions:g}".replace(".", "," if lang == "vi" else "."))
    return _(msgid)


def reason_line(match: Match, lang: str, trades: TradeCatalog) -> str:
    """The whole line, its first letter in capitals."""
    line = SEPARATOR.join(reason_part(r, lang, trades) for r in match.reasons)
    return line[:1].upper() + line[1:]
