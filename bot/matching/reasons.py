"""A match's one-line reason in the person's language: "Gần nhà ~12 km · đúng nghề Hàn ·
được hỗ trợ học phí". The words live in the gettext catalogs (domain ``messages``)."""

from __future__ import annotations

from datetime import date

from bot.i18n import N_, translator
from bot.matching.catalog import TradeCatalog
from bot.matching.rank import Match, Reason

SEPARATOR = " · "
WORDS: dict[str, str] = {
    "near": N_("Gần nhà ~%(km)s km"),
    "far": N_("Cách nhà ~%(km)s km"),
    "online": N_("Trực tuyến, không phải đi xa"),
    "chosen_trade": N_("đúng nghề %(trade)s"),
    "related_trade": N_("nghề gần với nghề bạn chọn: %(trade)s"),
    "supported": N_("được hỗ trợ học phí"),
    "starts": N_("khai giảng %(date)s"),
    "fair_day": N_("ngày %(date)s"),
    "pay": N_("lương từ %(pay)s triệu đồng"),
}


def _day(value: object) -> str:
    return date.fromisoformat(str(value)).strftime("%d/%m")


def reason_part(reason: Reason, lang: str, trades: TradeCatalog) -> str:
    """One reason in words."""
    _ = translator(lang)
    msgid = WORDS[reason.key]
    if reason.key in ("near", "far"):
        return _(msgid, km=reason.value("km"))
    if reason.key in ("chosen_trade", "related_trade"):
        trade = trades.get(str(reason.value("trade")))
        name = trade.name_in(lang) if trade else str(reason.value("trade"))
        return _(msgid, trade=name)
    if reason.key in ("starts", "fair_day"):
        return _(msgid, date=_day(reason.value("date")))
    if reason.key == "pay":
        millions = int(reason.value("min") or 0) / 1_000_000
        return _(msgid, pay=f"{millions:g}".replace(".", "," if lang == "vi" else "."))
    return _(msgid)


def reason_line(match: Match, lang: str, trades: TradeCatalog) -> str:
    """The whole line, its first letter in capitals."""
    line = SEPARATOR.join(reason_part(r, lang, trades) for r in match.reasons)
    return line[:1].upper() + line[1:]
