"""Groups and supergroups: the bot talks with each person privately, and says so once.

A command to the bot in a group gets one reply with a button that opens the private chat;
anything else said in a group, by people or bots, and a button pressed there get no message in
the group (a button gets a short notice on the presser's screen only).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import COMMANDS
from handlers.filters import Magic, group_button, group_message
from handlers.keyboards import link_keyboard


async def group_command_handler(message: Message, bot: Bot) -> None:
    """A command in a group: one reply pointing to the private chat."""
    me = await bot.me()
    await message.answer(
        _(
            "Mình chỉ trò chuyện riêng với từng bạn, để thông tin của bạn không bị lộ trong "
            "nhóm. Bấm nút dưới đây để nhắn riêng cho mình nhé."
        ),
        reply_markup=link_keyboard(_("💬 Nhắn riêng cho mình"), f"https://t.me/{me.username}"),
    )


async def group_button_handler(query: CallbackQuery) -> None:
    """A button in a group: a notice for the one who pressed it, nothing in the group."""
    await query.answer(_("Bạn nhắn riêng cho mình nhé."))


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(group_message())
    router.callback_query.filter(group_button())
    router.message.register(
        group_command_handler, Command(*COMMANDS), Magic(F.from_user.is_bot.is_(False))
    )
    router.callback_query.register(group_button_handler)
    return router
