"""/courses and /fairs (and the reminders' buttons that open them): the person's best three
with their reasons, details on a tap, "Đăng ký quan tâm", "Nhắc tôi", "Không quan tâm";
/alerts and the button under every alert turn catalog alerts off or on."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from bot.alerts import actions, render
from bot.alerts.render import AlertsCb, ItemCb, MatchesCb
from bot.config import Settings
from bot.timeline import service as timeline
from handlers import catalog_views as views
from storage import catalog
from storage.models import Person
from storage.models.base import utcnow

log = logging.getLogger(__name__)
RESPONSES: dict[str, actions.Response] = {
    "i": "interested",
    "r": "remind",
    "n": "not_interested",
}


async def _show(
    target: Message, person: Person, kind: str, session: AsyncSession, settings: Settings
) -> None:
    """The person's best three of ``kind``, one message each, or what to do first (courses
    need a chosen trade; a job fair may suit anyone)."""
    if not people.is_stored(person):
        text, markup = views.no_consent()
        await target.answer(text, reply_markup=markup)
        return
    if kind == "course" and not await catalog.trade_choices(session, person.id):
        text, markup = views.no_trades(person.survey_completed_at is not None)
        await target.answer(text, reply_markup=markup)
        return
    today = utcnow().astimezone(settings.tz).date()
    shown = await actions.best(session, person, kind, today, settings.tz)
    if not shown:
        await target.answer(views.nothing(kind))
        return
    await target.answer(views.heading(kind))
    lang = actions.language_of(person)
    for item in shown:
        markup = render.item_keyboard(item.kind, item.item_id, lang)
        await target.answer(item.card, reply_markup=markup)


async def command_courses_handler(
    message: Message, person: Person, session: AsyncSession, settings: Settings
) -> None:
    await _show(message, person, "course", session, settings)


async def command_fairs_handler(
    message: Message, person: Person, session: AsyncSession, settings: Settings
) -> None:
    await _show(message, person, "fair", session, settings)


async def matches_button_handler(
    query: CallbackQuery,
    callback_data: MatchesCb,
    person: Person,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """A reminder's "see matching courses / job fairs" button."""
    await query.answer()
    if isinstance(query.message, Message):
        kind = "fair" if callback_data.kind == "fair" else "course"
        await _show(query.message, person, kind, session, settings)


async def _edit(message: Message, text: str | None, markup: object = None) -> None:
    """Edit the card in place (text and buttons, or only the buttons)."""
    try:
        if text is None:
            await message.edit_reply_markup(reply_markup=markup)  # type: ignore[arg-type]
        else:
            await message.edit_text(text, reply_markup=markup)  # type: ignore[arg-type]
    except TelegramBadRequest as exc:  # deleted or unchanged: what was stored stays
        log.info("could not edit message %s: %s", message.message_id, exc)


async def item_button_handler(
    query: CallbackQuery,
    callback_data: ItemCb,
    person: Person,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Details, register interest, remind me, not interested."""
    kind = render.KINDS.get(callback_data.k)
    message = query.message if isinstance(query.message, Message) else None
    if kind is None or message is None or not people.is_stored(person):
        await query.answer(views.gone())
        return
    lang = actions.language_of(person)
    if callback_data.act == "d":
        text = await actions.details(session, kind, callback_data.i, lang, settings.tz)
        await query.answer(None if text else views.gone())
        if text is not None:
            await _edit(
                message, text, render.item_keyboard(kind, callback_data.i, lang, details=False)
            )
        return
    response = RESPONSES.get(callback_data.act)
    if response is None:
        await query.answer(views.gone())
        return
    scheduled = await actions.respond(
        session, person, kind, callback_data.i, response, now=utcnow(), settings=settings
    )
    if scheduled is None:
        await query.answer(views.gone())
        await _edit(message, None)
        return
    await query.answer(views.toast(response))
    await _edit(
        message, views.with_line(message, views.confirmation(response, kind, len(scheduled)))
    )


async def command_alerts_handler(
    message: Message, command: CommandObject, person: Person, session: AsyncSession
) -> None:
    """/alerts: the state and a toggle; /alerts off|on."""
    if not people.is_stored(person):
        await message.answer(views.alerts_no_consent())
        return
    wanted = timeline.parse_pause_argument(command.args)  # pause/off → True
    if wanted is not None:
        await actions.set_alerts(session, person, not wanted, utcnow())
        await message.answer(views.alerts_changed(not wanted))
        return
    text, markup = views.alerts_state(await actions.alerts_on(session, person))
    await message.answer(text, reply_markup=markup)


async def alerts_button_handler(
    query: CallbackQuery, callback_data: AlertsCb, person: Person, session: AsyncSession
) -> None:
    """The button under an alert (off) or under /alerts (off or on)."""
    if not await actions.set_alerts(session, person, callback_data.on, utcnow()):
        await query.answer(views.alerts_no_consent(), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _edit(query.message, None)
        await query.message.answer(views.alerts_changed(callback_data.on))


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(command_courses_handler, Command("courses"))
    router.message.register(command_fairs_handler, Command("fairs"))
    router.message.register(command_alerts_handler, Command("alerts"))
    router.callback_query.register(matches_button_handler, MatchesCb.filter())
    router.callback_query.register(item_button_handler, ItemCb.filter())
    router.callback_query.register(alerts_button_handler, AlertsCb.filter())
    return router
