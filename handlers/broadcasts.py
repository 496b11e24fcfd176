"""Opting out of broadcasts: ``/stop`` or the button under every broadcast; the offer to stop
the reminders too; ``/start`` subscribes again (called from ``handlers/common.py``)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from bot.broadcasts import optout
from bot.broadcasts.message import BroadcastCb
from bot.timeline import service as timeline
from bot.timeline.render import reply_text
from bot.timeline.schedule import get_schedule
from handlers.keyboards import inline
from storage.models import Person


def _stopped_text(person: Person) -> str:
    if person.reminders_paused:
        return _(
            "Đã xong: bạn sẽ không nhận thông báo chung từ cán bộ nữa. Gõ /start nếu muốn nhận lại."
        )
    return _(
        "Đã xong: bạn sẽ không nhận thông báo chung từ cán bộ nữa. Lời nhắc về các mốc "
        "nghĩa vụ của chính bạn vẫn được gửi; muốn tắt cả lời nhắc thì bấm nút dưới đây. "
        "Gõ /start nếu muốn nhận lại thông báo."
    )


def _reminders_button(person: Person) -> InlineKeyboardMarkup | None:
    if person.reminders_paused or not people.is_stored(person):
        return None
    return inline([[(_("🔕 Tắt cả lời nhắc"), BroadcastCb(act="rem").pack())]])


async def command_stop_handler(message: Message, person: Person, session: AsyncSession) -> None:
    """/stop: no more broadcasts."""
    await optout.opt_out(session, person)
    await message.answer(_stopped_text(person), reply_markup=_reminders_button(person))


async def stop_button_handler(
    query: CallbackQuery, callback_data: BroadcastCb, person: Person, session: AsyncSession
) -> None:
    """The button under a broadcast: no more broadcasts; the button goes away."""
    await optout.opt_out(session, person, callback_data.m or None)
    await query.answer()
    if isinstance(query.message, Message):
        if query.message.reply_markup is not None:
            await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_stopped_text(person), reply_markup=_reminders_button(person))


async def reminders_too_handler(
    query: CallbackQuery, person: Person, session: AsyncSession
) -> None:
    """Stop the reminders too (``/reminders resume`` turns them on again)."""
    await timeline.set_reminders_paused(session, person, True)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(reply_text(get_schedule(), "paused", person))


async def resubscribe_on_start(message: Message, session: AsyncSession, person: Person) -> None:
    """/start: broadcasts again for someone who had opted out (and a word saying so)."""
    if await optout.resubscribe(session, person):
        await message.answer(_("Bạn sẽ lại nhận thông báo chung từ cán bộ."))


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(command_stop_handler, Command("stop"))
    router.callback_query.register(stop_button_handler, BroadcastCb.filter(F.act == "stop"))
    router.callback_query.register(reminders_too_handler, BroadcastCb.filter(F.act == "rem"))
    return router
