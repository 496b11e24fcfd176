"""Outer middlewares on every update: repeated-update guard, one DB session, the person."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import people
from storage import people as repo
from storage.fsm import current_session

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OncePerUpdateMiddleware(BaseMiddleware):
    """Handle a Telegram update once, even when it is delivered again.

    The update id is recorded in its own short transaction before handling: a crash while
    handling does not replay the update (at most once), which is what a person expects of
    a survey answer or a button press.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]):
        self._sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        bot = data["bot"]
        async with self._sessionmaker() as session:
            fresh = await repo.claim_update(session, bot_id=bot.id, update_id=event.update_id)
            await session.commit()
        if not fresh:
            log.info("update %s was handled before; skipped", event.update_id)
            return UNHANDLED
        return await handler(event, data)


class DbSessionMiddleware(BaseMiddleware):
    """One AsyncSession per update; committed when the handler succeeds, else rolled back."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]):
        self._sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self._sessionmaker() as session:
            data["session"] = session
            token = current_session.set(session)
            try:
                result = await handler(event, data)
            except Exception:
                await session.rollback()
                raise
            finally:
                current_session.reset(token)
            await session.commit()
            return result


class PersonMiddleware(BaseMiddleware):
    """Put the person behind a private-chat update in ``data['person']`` (new on first contact)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        if user is not None and not user.is_bot and (chat is None or chat.type == "private"):
            session: AsyncSession = data["session"]
            person = await people.ensure_person(
                session,
                telegram_user_id=user.id,
                chat_id=chat.id if chat else user.id,
                language_code=user.language_code,
            )
            data["person"] = person
            # a plain copy: the locale is still known in the error handler, after a rollback
            data["person_language"] = person.language
        return await handler(event, data)
