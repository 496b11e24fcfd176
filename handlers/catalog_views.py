"""The messages of ``/courses``, ``/fairs`` and ``/alerts`` (the cards and details themselves
are ``bot/alerts/render.py``, shared with the alerts)."""

from __future__ import annotations

import html

from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.alerts.render import AlertsCb
from handlers.callbacks import SurveyCb
from handlers.keyboards import inline

MAX_MESSAGE = 4096


def heading(kind: str) -> str:
    """Above the cards."""
    if kind == "course":
        return _("Các khóa học hợp với bạn nhất. Bấm «Xem chi tiết» để biết thêm:")
    return _("Các phiên giao dịch việc làm sắp tới hợp với bạn. Bấm «Xem chi tiết» để biết thêm:")


def nothing(kind: str) -> str:
    """No match now: a kind word and what happens next."""
    if kind == "course":
        return _(
            "Hiện chưa có khóa học nào đang tuyển sinh hợp với nghề bạn chọn. Khi có khóa mới "
            "phù hợp, mình sẽ báo bạn. Bạn cũng có thể hỏi cán bộ tư vấn: /ask"
        )
    return _(
        "Hiện chưa có phiên giao dịch việc làm nào sắp tới hợp với bạn. Khi có phiên mới, "
        "mình sẽ báo bạn. Bạn cũng có thể hỏi cán bộ tư vấn: /ask"
    )


def no_consent() -> tuple[str, InlineKeyboardMarkup]:
    """Someone who has not consented yet: the survey first."""
    text = _(
        "Để tìm khóa học và phiên việc làm hợp với bạn, mình cần biết bạn muốn học nghề gì và "
        "ở đâu. Làm khảo sát ngắn (khoảng 5 phút) trước nhé."
    )
    return text, inline([[(_("📝 Bắt đầu khảo sát"), SurveyCb(action="start").pack())]])


def no_trades(survey_done: bool) -> tuple[str, InlineKeyboardMarkup]:
    """Someone who chose no trade yet: choose (the survey has an interest quiz too)."""
    text = _(
        "Bạn chưa chọn nghề muốn học nên mình chưa tìm được khóa học hợp với bạn. Chọn nghề "
        "trong khảo sát nhé; chưa biết chọn nghề gì thì làm bài trắc nghiệm sở thích ngay "
        "trong câu hỏi chọn nghề."
    )
    label = _("📝 Chọn nghề") if survey_done else _("📝 Làm tiếp khảo sát")
    action = "review" if survey_done else "start"
    return text, inline([[(label, SurveyCb(action=action).pack())]])


def confirmation(response: str, kind: str, reminders: int) -> str:
    """What a tap did (added below the card)."""
    if response == "interested":
        return _(
            "✅ Đã ghi bạn quan tâm khóa này. Cơ sở đào tạo sẽ thấy tên bạn và liên hệ với bạn."
        )
    if response == "remind":
        if reminders == 2:
            return _("⏰ Mình sẽ nhắc bạn hôm trước và sáng hôm diễn ra phiên.")
        if reminders == 1:
            return _("⏰ Mình sẽ nhắc bạn trước khi phiên diễn ra.")
        return _("⏰ Đã ghi. Phiên sắp diễn ra nên không kịp nhắc nữa, bạn nhớ đi nhé!")
    if kind == "course":
        return _("🚫 Đã ẩn khóa học này, mình sẽ không giới thiệu lại nữa.")
    return _("🚫 Đã ẩn phiên này, mình sẽ không giới thiệu lại nữa.")


def toast(response: str) -> str:
    """The short answer to the tap itself."""
    if response == "interested":
        return _("Đã đăng ký quan tâm")
    if response == "remind":
        return _("Sẽ nhắc bạn")
    return _("Đã ẩn")


def gone() -> str:
    """A button of an item no longer open."""
    return _("Khóa học hoặc phiên này không còn nhận đăng ký nữa.")


def with_line(message: Message, line: str) -> str | None:
    """The message's text (HTML) with a line below it; None when too long."""
    text = f"{message.html_text}\n\n{html.escape(line, quote=False)}"
    return text if len(text) <= MAX_MESSAGE else None


def alerts_state(on: bool) -> tuple[str, InlineKeyboardMarkup]:
    """/alerts: the state and a button that flips it."""
    if on:
        text = _(
            "Thông báo khóa học và phiên việc làm mới hợp với bạn đang <b>bật</b> (nhiều nhất "
            "2 tin một tuần). Muốn tắt, bấm nút dưới đây hoặc gõ /alerts off."
        )
        button = (_("🔕 Tắt thông báo khóa học, việc làm"), AlertsCb(on=False).pack())
    else:
        text = _(
            "Thông báo khóa học và phiên việc làm mới đang <b>tắt</b>. Muốn nhận lại, bấm nút "
            "dưới đây hoặc gõ /alerts on."
        )
        button = (_("🔔 Bật lại thông báo"), AlertsCb(on=True).pack())
    return text, inline([[button]])


def alerts_changed(on: bool) -> str:
    """After turning alerts on or off."""
    if on:
        return _("Đã bật thông báo khóa học và phiên việc làm mới hợp với bạn.")
    return _(
        "Đã tắt thông báo khóa học và phiên việc làm mới. Thông báo chung của cán bộ và lời "
        "nhắc của bạn vẫn được gửi. Gõ /alerts on khi muốn nhận lại."
    )


def alerts_no_consent() -> str:
    """/alerts before consent."""
    return _(
        "Bạn chưa đồng ý cho mình lưu thông tin nên mình chưa gửi thông báo cho bạn. "
        "Gõ /survey để bắt đầu khảo sát."
    )
