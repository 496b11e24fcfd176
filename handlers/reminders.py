"""/reminders pause|resume and the buttons under reminders: home since…, status, trade."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from bot.config import Settings
from bot.timeline import service
from bot.timeline.dates import format_month
from bot.timeline.render import (
    TimelineCb,
    fill,
    language_of,
    pause_keyboard,
    reply_text,
    trade_keyboard,
    trade_label,
)
from bot.timeline.schedule import get_schedule
from handlers.filters import Consented
from storage.models import Person
from storage.models.base import utcnow


async def command_reminders_handler(
    message: Message, command: CommandObject, person: Person, session: AsyncSession
) -> None:
    """Pause or resume with an argument; without one, show the state and a toggle button."""
    if not people.is_stored(person):
        await message.answer(
            _(
                "Bạn chưa đồng ý cho mình lưu thông tin nên mình chưa nhắc bạn được. "
                "Gõ /survey để bắt đầu khảo sát."
            )
        )
        return
    schedule = get_schedule()
    paused = service.parse_pause_argument(command.args)
    if paused is not None:
        await service.set_reminders_paused(session, person, paused)
        await message.answer(reply_text(schedule, "paused" if paused else "resumed", person))
        return
    key = "reminders_off" if person.reminders_paused else "reminders_on"
    await message.answer(
        reply_text(schedule, key, person),
        reply_markup=pause_keyboard(schedule, person.reminders_paused, language_of(person)),
    )


async def _close_buttons(query: CallbackQuery) -> None:
    """Remove the keyboard of the pressed message so an answer is given once."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)


async def _say(query: CallbackQuery, text: str, **kwargs: object) -> None:
    """Answer the button press with a new message in the chat."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, **kwargs)  # type: ignore[arg-type]


async def pause_button_handler(
    query: CallbackQuery, callback_data: TimelineCb, person: Person, session: AsyncSession
) -> None:
    """The pause/resume toggle under /reminders."""
    paused = callback_data.value == "pause"
    await service.set_reminders_paused(session, person, paused)
    await _close_buttons(query)
    await _say(query, reply_text(get_schedule(), "paused" if paused else "resumed", person))


async def home_button_handler(
    query: CallbackQuery,
    callback_data: TimelineCb,
    person: Person,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """ "Home since this month / last month / not yet" → Person.return_date."""
    schedule = get_schedule()
    answer = service.home_answer(callback_data.value)
    if answer is None:
        await query.answer(reply_text(schedule, "expired_button", person))
        return
    returned = await service.answer_home(session, person, answer, tz=settings.tz, now=utcnow())
    await _close_buttons(query)
    if returned is None:
        await _say(query, reply_text(schedule, "home_not_yet", person))
    else:
        await _say(query, reply_text(schedule, "home_thanks", person, month=format_month(returned)))


async def status_button_handler(
    query: CallbackQuery,
    callback_data: TimelineCb,
    person: Person,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """A status-check answer → an Outcome; "in training" then asks which trade."""
    schedule = get_schedule()
    option = schedule.status(callback_data.value)
    if option is None:
        await query.answer(reply_text(schedule, "expired_button", person))
        return
    today = utcnow().astimezone(settings.tz).date()
    await service.record_outcome(session, person, option.value, status_date=today)
    await _close_buttons(query)
    lang = language_of(person)
    if option.ask_trade:
        codes = await service.trade_choices(session, person)
        choices = [(code, trade_label(code, lang)) for code in codes]
        markup = trade_keyboard(schedule, choices, lang)
        await _say(query, reply_text(schedule, "ask_trade", person), reply_markup=markup)
        return
    text = option.reply.get(lang) if option.reply else schedule.text("status_thanks", lang)
    await _say(query, fill(schedule, text, person, lang))


async def trade_button_handler(
    query: CallbackQuery, callback_data: TimelineCb, person: Person, session: AsyncSession
) -> None:
    """Which trade the person trains in (one of their choices, or "other")."""
    schedule = get_schedule()
    asking = tuple(s.value for s in schedule.statuses if s.ask_trade)
    outcome = await service.set_outcome_trade(session, person, callback_data.value, statuses=asking)
    if outcome is None:
        await query.answer(reply_text(schedule, "expired_button", person))
        return
    await _close_buttons(query)
    lang = language_of(person)
    name = (
        schedule.text("trade_other", lang)
        if callback_data.value == "other"
        else trade_label(callback_data.value, lang)
    )
    await _say(query, reply_text(schedule, "trade_thanks", person, trade=name))


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    # the buttons under reminders act on a stored person; anyone else's tap is an old button
    # (handlers/fallback.py)
    router.callback_query.filter(Consented())
    router.message.register(command_reminders_handler, Command("reminders"))
    router.callback_query.register(pause_button_handler, TimelineCb.filter(F.kind == "p"))
    router.callback_query.register(home_button_handler, TimelineCb.filter(F.kind == "h"))
    router.callback_query.register(status_button_handler, TimelineCb.filter(F.kind == "s"))
    router.callback_query.register(trade_button_handler, TimelineCb.filter(F.kind == "t"))
    return router
