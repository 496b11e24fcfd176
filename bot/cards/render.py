"""What a person reads about their training card (``/card`` and the expiry reminder), in their
language: Telegram HTML, values escaped, words in the gettext catalogs (domain ``messages``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.alerts.render import day, esc, money
from bot.cards.cards import entitled
from bot.cards.rules import SupportRules
from bot.catalog.vocab import vocabularies
from bot.i18n import N_, translator
from storage.models.cards import TrainingCard

STATUS = {
    "issued": N_("còn hiệu lực, chưa sử dụng"),
    "redeemed": N_("đã dùng để đăng ký học"),
    "settled": N_("đã dùng (đã quyết toán)"),
    "expired": N_("đã hết hạn"),
    "revoked": N_("đã bị thu hồi"),
}
ISSUER = {"military": N_("Quân đội"), "police": N_("Công an")}


@dataclass(frozen=True)
class NearbyCourse:
    """A course that accepts the card: title, institution, start date."""

    title: str
    institution: str
    start_date: date | None


def card_text(
    card: TrainingCard,
    rules: SupportRules,
    today: date,
    courses: Sequence[NearbyCourse],
    lang: str,
) -> str:
    """The card, what it pays for under today's rule, and the courses nearby that accept it."""
    _ = translator(lang)
    lines = [
        _("🎫 <b>Thẻ học nghề của bạn</b>"),
        _("Số thẻ: <b>%(number)s</b>", number=esc(card.number)),
        _(
            "Đơn vị cấp: %(unit)s (%(kind)s), ngày %(day)s",
            unit=esc(card.issuer_unit),
            kind=_(ISSUER.get(card.issuer_kind, ISSUER["military"])),
            day=day(card.issue_date),
        ),
        _("Có giá trị đến hết ngày: <b>%(day)s</b>", day=day(card.valid_until))
        if card.valid_until
        else _("Có giá trị: không thời hạn"),
        _("Trạng thái: %(status)s", status=_(STATUS.get(card.status, STATUS["issued"]))),
    ]
    if card.status == "revoked" and card.revoked_reason:
        lines.append(_("Lý do thu hồi: %(reason)s", reason=esc(card.revoked_reason)))
    if not entitled(card):
        lines += [
            "",
            _(
                "⚠️ Theo danh sách của đơn vị, bạn không thuộc diện được hỗ trợ (chưa hoàn thành "
                "nghĩa vụ, hoặc đã được Nhà nước hỗ trợ đào tạo khác). Nếu không đúng, hỏi cán "
                "bộ: /ask"
            ),
        ]
    if card.status == "issued" and entitled(card):
        lines += ["", *pays_for(rules, today, lang), "", *_courses(courses, lang)]
    return "\n".join(lines)


def pays_for(rules: SupportRules, today: date, lang: str) -> list[str]:
    """What the support pays under the rule in force ``today``, up to its cap."""
    _ = translator(lang)
    rule = rules.support_on(today)
    salary = rules.base_salary_on(today).amount
    levels = ", ".join(vocabularies().label("levels", code, lang) for code in rule.levels)
    out = [_("Thẻ hỗ trợ một khóa học (%(levels)s):", levels=esc(levels))]
    out.append(_("• học phí theo mức thu thực tế của cơ sở đào tạo"))
    if rule.meal_per_day:
        out.append(_("• tiền ăn %(amount)s mỗi ngày học", amount=money(rule.meal_per_day, lang)))
    if rule.travel_per_course:
        out.append(
            _("• tiền đi lại %(amount)s mỗi khóa", amount=money(rule.travel_per_course, lang))
        )
    out.append(
        _(
            "Tổng cộng tối đa <b>%(cap)s</b> (%(months)s tháng lương cơ sở). Học phí vượt mức "
            "này do bạn tự trả.",
            cap=money(rule.cap_base_salary_months * salary, lang),
            months=rule.cap_base_salary_months,
        )
    )
    out.append(_("Khi đăng ký học, mang theo thẻ (bản gốc) và bản sao quyết định xuất ngũ."))
    return out


def _courses(courses: Sequence[NearbyCourse], lang: str) -> list[str]:
    _ = translator(lang)
    if not courses:
        return [
            _("Hiện chưa có khóa học nào đang tuyển sinh nhận thẻ này gần bạn. Xem thêm: /courses")
        ]
    out = [_("Khóa học gần bạn nhận thẻ này:")]
    for course in courses:
        start = _(", khai giảng %(day)s", day=day(course.start_date)) if course.start_date else ""
        out.append(f"🎓 <b>{esc(course.title)}</b> · {esc(course.institution)}{start}")
    out.append(_("Xem chi tiết và đăng ký quan tâm: /courses"))
    return out


def no_card(lang: str) -> str:
    """Someone with no card found: who issues it, what to bring, who can help."""
    _ = translator(lang)
    return _(
        "Mình chưa tìm thấy thẻ học nghề của bạn.\n\n"
        "Thẻ học nghề do đơn vị Quân đội hoặc Công an nơi bạn phục vụ cấp khi bạn xuất ngũ "
        "(hoàn thành nghĩa vụ). Thẻ giúp bạn học miễn phí một khóa sơ cấp hoặc dưới 3 tháng.\n"
        "• Đã có thẻ: kiểm tra họ tên và số điện thoại bạn trả lời trong khảo sát có giống "
        "trên danh sách của đơn vị không.\n"
        "• Khi đăng ký học, mang theo thẻ (bản gốc) và bản sao quyết định xuất ngũ.\n"
        "• Chưa có thẻ hoặc bị mất: UBND xã/phường nơi bạn ở hoặc đơn vị cũ có thể giúp. "
        "Hỏi cán bộ: /ask"
    )


def before_consent(lang: str) -> str:
    """Someone who has not consented: nothing is looked up or stored before the survey."""
    _ = translator(lang)
    return _(
        "Để tìm thẻ học nghề của bạn, mình cần họ tên và số điện thoại của bạn trong khảo "
        "sát. Làm khảo sát ngắn (khoảng 5 phút) trước nhé.\n\n"
        "Thẻ học nghề do đơn vị Quân đội hoặc Công an cấp khi bạn xuất ngũ; nó giúp bạn học "
        "miễn phí một khóa sơ cấp hoặc dưới 3 tháng."
    )


def expiry_reminder(card: TrainingCard, lang: str) -> str:
    """A month before the card expires, unused."""
    _ = translator(lang)
    return _(
        "⏰ Thẻ học nghề số <b>%(number)s</b> của bạn chỉ còn giá trị đến hết ngày "
        "<b>%(day)s</b> và bạn chưa dùng thẻ. Hãy đăng ký một khóa sơ cấp hoặc dưới 3 tháng "
        "trước ngày đó để được hỗ trợ học phí, tiền ăn và đi lại. Xem thẻ và các khóa học gần "
        "bạn: /card",
        number=esc(card.number),
        day=day(card.valid_until),
    )
