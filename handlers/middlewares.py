"""Outer middlewares on every update: handled-once guard, one DB session, the person."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.context import FSMContext
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import people
from bot.survey import service as survey_service
from handlers.survey_flow import SURVEY_STATES
from storage import updates as inbox
from storage.fsm import current_session, has_staged_writes
from storage.models.base import utcnow

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """One AsyncSession and one transaction per update; a stored update is handled once.

    The update, stored in the inbox before it was confirmed to Telegram
    (``handlers/polling.py``), is marked handled in the same transaction as the handling, so a
    handling cut short by a crash is done again after the restart and a committed one never is.
    Replies are sent after a commit (see :class:`CommitBeforeSendMiddleware`).
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]):
        self._sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        # closed explicitly rather than with ``async with``, whose exit runs close() as a
        # separate shielded task: an extra trip through the event loop on every update
        session = self._sessionmaker()
        try:
            if not await inbox.claim_update(
                session, bot_id=data["bot"].id, update_id=event.update_id
            ):
                log.info("update %s was handled before; skipped", event.update_id)
                return UNHANDLED
            data["session"] = session
            token = current_session.set(session)
            try:
                result = await handler(event, data)
            except Exception:
                await session.rollback()
                raise
            finally:
                current_session.reset(token)
            if _has_work(session):
                await session.commit()
            return result
        finally:
            await session.close()


def _has_work(session: AsyncSession) -> bool:
    """True when a commit would write something (an open transaction, changes, staged writes)."""
    return bool(
        session.in_transaction()
        or session.new
        or session.dirty
        or session.deleted
        or has_staged_writes(session)
    )


class CommitBeforeSendMiddleware(BaseRequestMiddleware):
    """Commit the update's transaction before any Bot API call made while handling it.

    The answer is safe in the database before the reply leaves, and SQLite's write lock is never
    held across a network round trip.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        session = current_session.get()
        if session is not None and _has_work(session):
            await session.commit()
        return await make_request(bot, method)


class PersonMiddleware(BaseMiddleware):
    """Put the person behind an update from a person in a private chat in ``data['person']``,
    and mid-survey their survey state in ``data['survey_state']``.

    Someone with no row (not consented yet, refused or erased) gets a :class:`Person` that is
    stored only when they consent (``bot/people.py``); nothing is written for them here. Updates
    from groups, from bots or without a sender get no person: the routers that need one take
    private chats only (``handlers/__init__.py``).
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is not None and not user.is_bot and chat is not None and chat.type == "private":
            session: AsyncSession = data["session"]
            survey_state = None
            if data.get("raw_state") in SURVEY_STATES:
                # mid-survey, the survey state comes with the person: one query, not two
                person, survey_state = await survey_service.person_with_state(session, user.id)
            else:
                person = await people.find_person(session, user.id)
            if person is None:
                fsm: FSMContext | None = data.get("state")
                person = people.newcomer(
                    telegram_user_id=user.id,
                    chat_id=chat.id,
                    language_code=user.language_code,
                    conversation=await fsm.get_data() if fsm is not None else {},
                )
            else:
                await people.seen(session, person, utcnow())
            data["person"] = person
            data["survey_state"] = survey_state
            # plain copies: still known in the error handler, after a rollback
            data["person_language"] = person.language
            data["person_stored"] = people.is_stored(person)
        return await handler(event, data)
