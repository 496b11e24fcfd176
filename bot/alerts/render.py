"""What a person reads about a course or a job fair: the short card (with their reason line),
the details shown on a tap, the buttons under them, an alert and a fair reminder. Shared by
``/courses``, ``/fairs`` (``handlers/catalog.py``) and the outbox (alerts, reminders).

Texts are Telegram HTML; catalog values are escaped. Words live in the gettext catalogs.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog.vocab import vocabularies
from bot.i18n import N_, translator
from bot.reporting import labels
from storage.models.catalog import Course, Institution, JobFair, SupportPolicy

KINDS = {"c": "course", "f": "fair"}
LETTER = {kind: letter for letter, kind in KINDS.items()}


class ItemCb(CallbackData, prefix="it"):
    """A button under a course or fair: ``act`` d (details), i (register interest), r (remind
    me, fairs), n (not interested); ``k`` c (course) or f (fair); ``i`` the item id."""

    act: str
    k: str
    i: int


class MatchesCb(CallbackData, prefix="match"):
    """Show one's best ``kind`` (course or fair): the reminders' buttons, and /courses,
    /fairs."""

    kind: str


class AlertsCb(CallbackData, prefix="alerts"):
    """Turn catalog alerts off (the button under every alert) or on again."""

    on: bool


HEADERS = {
    "course": N_("🔔 <b>Khóa học mới hợp với bạn</b>"),
    "fair": N_("🔔 <b>Phiên giao dịch việc làm mới hợp với bạn</b>"),
}
UNKNOWN = N_("chưa rõ")


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def moment(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%H:%M %d/%m/%Y")


def money(vnd: int, lang: str) -> str:
    """12.500.000 đ in Vietnamese, VND 12,500,000 in English."""
    if lang == "en":
        return f"VND {vnd:,}"
    return f"{vnd:,}".replace(",", ".") + " đ"


def venue(code: str | None, text: str | None) -> str:
    """The venue as written, else the commune's name, else nothing."""
    if text:
        return text
    return labels.commune_name(code) if code else ""


def course_card(course: Course, institution: str, reason: str, lang: str) -> str:
    """Title, institution, the reason line."""
    _ = translator(lang)
    level = vocabularies().label("levels", course.level, lang)
    lines = [f"🎓 <b>{esc(course.title)}</b>", f"{esc(institution)} · {esc(level)}"]
    if reason:
        lines.append(f"<i>{esc(reason)}</i>")
    if course.sample:
        lines.append(_("(dữ liệu mẫu, không có thật)"))
    return "\n".join(lines)


def fair_card(fair: JobFair, reason: str, lang: str, tz: ZoneInfo) -> str:
    """Title, when and where, the reason line."""
    _ = translator(lang)
    place = fair.online_link if fair.mode == "online" else venue(fair.venue_code, fair.venue_text)
    lines = [f"🤝 <b>{esc(fair.title)}</b>", f"{moment(fair.starts_at, tz)} · {esc(place or '')}"]
    if reason:
        lines.append(f"<i>{esc(reason)}</i>")
    if fair.sample:
        lines.append(_("(dữ liệu mẫu, không có thật)"))
    return "\n".join(lines)


def _field(lines: list[str], label: str, value: object) -> None:
    if value not in (None, "", [], ()):
        lines.append(f"<b>{label}:</b> {esc(value)}")


def course_details(
    course: Course, institution: Institution, supports: Sequence[SupportPolicy], lang: str
) -> str:
    """Everything a person needs to decide about a course."""
    _ = translator(lang)
    vocab = vocabularies()
    lines = [f"🎓 <b>{esc(course.title)}</b>"]
    _field(lines, _("Cơ sở đào tạo"), institution.name)
    _field(lines, _("Trình độ"), vocab.label("levels", course.level, lang))
    _field(lines, _("Nghề"), labels.trade_name(course.trade_code, lang))
    _field(lines, _("Khai giảng"), day(course.start_date))
    if course.duration_days:
        _field(lines, _("Thời gian học"), _("%(n)s ngày", n=course.duration_days))
    _field(lines, _("Hạn đăng ký"), day(course.enrol_deadline))
    _field(lines, _("Lịch học"), course.schedule_text)
    fee = money(course.fee_vnd, lang) if course.fee_vnd is not None else _(UNKNOWN)
    _field(lines, _("Học phí"), " · ".join(x for x in (fee, course.fee_note or "") if x))
    names = [(p.name_en if lang == "en" and p.name_en else p.name_vi) for p in supports]
    _field(lines, _("Hỗ trợ"), "; ".join(names))
    _field(lines, _("Số chỗ còn lại"), course.seats_left)
    place = venue(course.venue_code, course.venue_text)
    if course.is_mobile:
        place = " · ".join(x for x in (place, _("lớp lưu động")) if x)
    _field(lines, _("Địa điểm"), place)
    _field(lines, _("Giấy tờ cần nộp"), course.documents_text)
    _field(lines, _("Sức khỏe"), course.health_note)
    _field(lines, _("Liên hệ"), course.contact or institution.phone)
    if course.sample:
        lines.append(_("(dữ liệu mẫu, không có thật)"))
    return "\n".join(lines)


def fair_details(fair: JobFair, lang: str, tz: ZoneInfo) -> str:
    """Everything a person needs to go to a fair."""
    _ = translator(lang)
    vocab = vocabularies()
    lines = [f"🤝 <b>{esc(fair.title)}</b>"]
    when = moment(fair.starts_at, tz)
    if fair.ends_at is not None:
        when += " – " + fair.ends_at.astimezone(tz).strftime("%H:%M")
    _field(lines, _("Thời gian"), when)
    _field(lines, _("Hình thức"), vocab.label("fair_modes", fair.mode, lang))
    if fair.mode != "online":
        _field(lines, _("Địa điểm"), venue(fair.venue_code, fair.venue_text))
    _field(lines, _("Đường dẫn"), fair.online_link)
    _field(lines, _("Đơn vị tổ chức"), ", ".join([fair.organiser, *(fair.co_organisers or [])]))
    _field(lines, _("Doanh nghiệp dự kiến"), fair.expected_employers)
    _field(lines, _("Vị trí việc làm dự kiến"), fair.expected_vacancies)
    _field(lines, _("Ngoài ra còn có"), "; ".join(fair.also_offers or []))
    _field(lines, _("Đăng ký"), fair.registration_text)
    if fair.sample:
        lines.append(_("(dữ liệu mẫu, không có thật)"))
    return "\n".join(lines)


def item_keyboard(
    kind: str, item_id: int, lang: str, *, details: bool = True, alert: bool = False
) -> InlineKeyboardMarkup:
    """Details (unless shown), register interest or remind me, not interested; under an
    alert also "turn alerts off"."""
    _ = translator(lang)
    k = LETTER[kind]
    rows: list[list[tuple[str, str]]] = []
    if details:
        rows.append([(_("ℹ️ Xem chi tiết"), ItemCb(act="d", k=k, i=item_id).pack())])
    yes = (
        (_("✅ Đăng ký quan tâm"), ItemCb(act="i", k=k, i=item_id).pack())
        if kind == "course"
        else (_("⏰ Nhắc tôi"), ItemCb(act="r", k=k, i=item_id).pack())
    )
    rows.append([yes, (_("🚫 Không quan tâm"), ItemCb(act="n", k=k, i=item_id).pack())])
    if alert:
        rows.append([(_("🔕 Tắt thông báo khóa học, việc làm"), AlertsCb(on=False).pack())])
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows
        ]
    )


def alert_text(kind: str, card: str, lang: str) -> str:
    """An alert: the header, then the person's card."""
    return translator(lang)(HEADERS[kind]) + "\n\n" + card


REMINDER_HEADERS = {
    "fair_eve": N_("⏰ <b>Ngày mai có phiên giao dịch việc làm bạn muốn đi</b>"),
    "fair_day": N_("⏰ <b>Hôm nay có phiên giao dịch việc làm bạn muốn đi</b>"),
}


def fair_reminder(slot: str, fair: JobFair, lang: str, tz: ZoneInfo) -> str:
    """A fair reminder (``slot``: fair_eve or fair_day) with the fair's details as they are."""
    return translator(lang)(REMINDER_HEADERS[slot]) + "\n\n" + fair_details(fair, lang, tz)
