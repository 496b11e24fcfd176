"""/card: the person's training card (Thẻ học nghề), what it pays for and the nearby courses
that accept it; without a card, who issues it and who can help; before consent, the survey
first (nothing is looked up or stored)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from bot.alerts.actions import language_of
from bot.cards import render
from bot.cards.cards import card_for
from bot.cards.service import card_screen
from bot.config import Settings
from handlers import catalog_views as views
from storage.models import Person
from storage.models.base import utcnow


async def command_card_handler(
    message: Message, person: Person, session: AsyncSession, settings: Settings
) -> None:
    lang = language_of(person)
    if not people.is_stored(person):
        _, markup = views.no_consent()
        await message.answer(render.before_consent(lang), reply_markup=markup)
        return
    card = await card_for(session, person)
    if card is None:
        await message.answer(render.no_card(lang))
        return
    await session.commit()  # a card just matched to the person stays matched
    today = utcnow().astimezone(settings.tz).date()
    await message.answer(await card_screen(session, card, person, today, settings.tz))


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(command_card_handler, Command("card"))
    return router
