"""/privacy (what the consent screen says) and /sharing (let schools and the Employment
Service Centre see one's details, or stop)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.survey import service as svc
from bot.survey import text
from handlers.callbacks import SharingCb
from handlers.keyboards import sharing_keyboard
from storage.models import Person


async def command_privacy_handler(message: Message, i18n: I18n) -> None:
    """What is recorded, why, who sees it, how long, how to correct, stop sharing or erase."""
    await message.answer(text(svc.survey(), "privacy", i18n.current_locale))


def _state_text(sharing: bool) -> str:
    """Whether schools and the Centre see the person's details, and what the button does."""
    if sharing:
        return _(
            "Bạn đang <b>đồng ý chia sẻ</b>: các trường, cơ sở dạy nghề và Trung tâm Dịch vụ "
            "việc làm được xem thông tin của bạn để liên hệ bạn. Muốn thôi, bấm nút dưới đây; "
            "Công an, Ban Chỉ huy quân sự xã/phường, Công an tỉnh và Sở Giáo dục và Đào tạo "
            "vẫn tư vấn cho bạn."
        )
    return _(
        "Bạn đang chọn <b>chỉ nhận tư vấn</b>: thông tin của bạn không được gửi cho trường hay "
        "Trung tâm Dịch vụ việc làm. Muốn họ liên hệ bạn, bấm nút dưới đây."
    )


def _button(share: bool) -> str:
    if share:
        return _("Cho trường và Trung tâm liên hệ tôi")
    return _("Thôi chia sẻ với trường và Trung tâm")


async def command_sharing_handler(message: Message, person: Person) -> None:
    """Show whether the person shares their details beyond the state offices, with a toggle."""
    if person.consent_at is None:
        await message.answer(
            _(
                "Mình chưa lưu thông tin nào của bạn, nên không có gì được chia sẻ. "
                "Gõ /survey để bắt đầu."
            )
        )
        return
    share = not person.consent_sharing
    await message.answer(
        _state_text(person.consent_sharing),
        reply_markup=sharing_keyboard(_button(share), share),
    )


async def sharing_button_handler(
    query: CallbackQuery, callback_data: SharingCb, person: Person, session: AsyncSession
) -> None:
    """Change the sharing; the message says what now holds and loses its button."""
    if person.consent_at is None:
        await query.answer(_("Nút này đã cũ. Gõ /sharing để xem lại."))
        return
    changed = await svc.set_sharing(session, person, callback_data.share)
    await query.answer()
    if not changed or not isinstance(query.message, Message):
        return  # a second tap: the first one already said so
    if callback_data.share:
        done = _(
            "Đã bật chia sẻ: các trường, cơ sở dạy nghề và Trung tâm Dịch vụ việc làm có thể "
            "xem thông tin của bạn để liên hệ bạn. Muốn thôi, gõ /sharing."
        )
    else:
        done = _(
            "Đã thôi chia sẻ: từ nay thông tin của bạn không được gửi cho trường hay Trung tâm "
            "Dịch vụ việc làm nữa; các cơ quan nhà nước vẫn tư vấn cho bạn. Muốn chia sẻ lại, "
            "gõ /sharing."
        )
    await query.message.edit_text(done)


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(command_privacy_handler, Command("privacy"))
    router.message.register(command_sharing_handler, Command("sharing"))
    router.callback_query.register(sharing_button_handler, SharingCb.filter())
    return router
