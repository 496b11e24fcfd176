"""The error handler: log the failure, tell the person, keep their state."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import Chat, ErrorEvent, User
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import people

log = logging.getLogger(__name__)


async def blocked_handler(
    event: ErrorEvent, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The person blocked the bot while we answered: mark them unreachable."""
    chat = event.update.event.chat if hasattr(event.update.event, "chat") else None
    chat_id = getattr(chat, "id", None)
    if chat_id is None and event.update.callback_query is not None:
        chat_id = event.update.callback_query.from_user.id
    if chat_id is not None:
        async with sessionmaker() as session:
            await people.mark_blocked(session, chat_id)
            await session.commit()
    log.info("chat %s blocked the bot", chat_id)


async def error_handler(
    event: ErrorEvent,
    bot: Bot,
    event_chat: Chat | None = None,
    event_from_user: User | None = None,
    person_stored: bool = False,
) -> None:
    """Anything else: log it and, in a private chat with a person, say sorry (the FSM state is
    left as it was). Nothing goes to anyone's private chat for an update from elsewhere."""
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    user = event_from_user
    if user is None or user.is_bot or event_chat is None or event_chat.type != ChatType.PRIVATE:
        return
    if person_stored:
        text = _(
            "Xin lỗi, mình vừa gặp lỗi. Các câu trả lời trước của bạn vẫn được giữ. "
            "Bạn thử lại nhé, hoặc gõ /survey để tiếp tục."
        )
    else:
        text = _("Xin lỗi, mình vừa gặp lỗi. Bạn thử lại nhé, hoặc gõ /help để xem các lệnh.")
    try:
        await bot.send_message(event_chat.id, text)
    except TelegramAPIError:  # the apology itself failed (network, blocked): nothing more to do
        log.warning("could not tell user %s about the error", user.id)


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.error.register(blocked_handler, ExceptionTypeFilter(TelegramForbiddenError))
    router.error.register(error_handler)
    return router
