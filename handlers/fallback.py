"""Last router: whatever no other handler took (stray text, stickers, old or forged buttons)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.filters import Magic


async def stray_text_handler(message: Message) -> None:
    """Text outside any conversation."""
    await message.answer(
        _("Mình chưa hiểu ý bạn. Gõ /survey để làm khảo sát nghề, hoặc /help để xem các lệnh.")
    )


async def non_text_handler(message: Message) -> None:
    """Stickers, photos, voice… outside any conversation."""
    await message.answer(
        _("Mình chỉ đọc được tin nhắn chữ và các nút bấm. Gõ /help để xem các lệnh.")
    )


async def stale_button_handler(query: CallbackQuery) -> None:
    """A button from an old message, or callback data we never sent."""
    await query.answer(_("Nút này đã cũ. Gõ /survey để tiếp tục."), show_alert=False)


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(stray_text_handler, Magic(F.text))
    router.message.register(non_text_handler)
    router.callback_query.register(stale_button_handler)
    return router
