"""The career-counselling survey: turns updates into survey-flow calls and replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.config import Settings
from handlers.callbacks import AnswerCb, CommuneCb, ConfirmCb, EditCb, QuizCb, SurveyCb, TradeCb
from handlers.filters import Magic
from handlers.survey_flow import SurveyFlow, SurveyStates, open_flow
from handlers.survey_views import Reply, answered_text, merge_replies

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- the flow of this update


class FlowMiddleware(BaseMiddleware):
    """Build the survey flow for an update a handler of this router takes: ``data['flow']``.

    From the person, the stored answers (``survey_state`` when the person middleware read them
    with the person) and the FSM data.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        settings: Settings = data["settings"]
        data["flow"] = await open_flow(
            data["session"],
            data["person"],
            data["state"],
            settings.province_code,
            data.get("survey_state"),
        )
        return await handler(event, data)


# ---------------------------------------------------------------- entry points


async def command_survey_handler(message: Message, flow: SurveyFlow) -> None:
    """Start, resume, or (once done) review the survey."""
    await _send_all(message, await flow.enter())


async def survey_button_handler(query: CallbackQuery, flow: SurveyFlow) -> None:
    """ "Bắt đầu khảo sát" / "Xem lại" buttons (also sent by reminders)."""
    await query.answer()
    await _send_all(query.message, await flow.enter())


# ---------------------------------------------------------------- typed answers


async def contact_handler(message: Message, flow: SurveyFlow, settings: Settings) -> None:
    """A shared contact answers the phone question (only the sender's own number)."""
    assert message.contact is not None
    own = message.contact.user_id in (None, message.from_user.id if message.from_user else None)
    typed = message.contact.phone_number if own else ""
    await _send_all(message, await flow.typed(typed, today=_today(settings)))


async def text_answer_handler(message: Message, flow: SurveyFlow, settings: Settings) -> None:
    """Typed answer to the current question."""
    await _send_all(message, await flow.typed(message.text or "", today=_today(settings)))


async def summary_text_handler(message: Message, flow: SurveyFlow) -> None:
    """Text while the summary is shown: show it again with its buttons."""
    await _send_all(message, await flow.enter())


async def non_text_handler(message: Message, flow: SurveyFlow) -> None:
    """A sticker, photo or voice where text was asked: say so and ask again."""
    await _send_all(message, await flow.not_text())


# ---------------------------------------------------------------- buttons


# what each kind of survey button asks of the flow
_BUTTON_ACTIONS: dict[type[CallbackData], Callable[[SurveyFlow, Any], Awaitable[list[Reply]]]] = {
    AnswerCb: lambda flow, cb: flow.pressed(cb.q, cb.v),
    CommuneCb: lambda flow, cb: flow.commune_picked(cb.code),
    TradeCb: lambda flow, cb: flow.trade_action(cb.act, cb.code),
    QuizCb: lambda flow, cb: flow.quiz_answer(cb.i, cb.v),
    EditCb: lambda flow, cb: flow.edit(cb.q),
    ConfirmCb: lambda flow, cb: flow.confirm(),
}


async def flow_button_handler(
    query: CallbackQuery, flow: SurveyFlow, callback_data: CallbackData | None = None
) -> None:
    """A survey button: an option, a commune or trade pick, the quiz, edit, confirm.

    Unknown or forged callback data during the survey (no ``callback_data``) is refused and
    the current question asked again.
    """
    action = _BUTTON_ACTIONS.get(type(callback_data)) if callback_data is not None else None
    replies = await (action(flow, callback_data) if action else flow.stale())
    await query.answer(flow.toast or None)
    if flow.answered:
        await _show_answer(query)
    await _send_all(query.message, replies)


async def _show_answer(query: CallbackQuery) -> None:
    """The pressed message shows the chosen button and loses its keyboard (one edit)."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    text = answered_text(message.html_text, message.reply_markup, query.data)
    try:
        if text is None:
            await message.edit_reply_markup(reply_markup=None)
        else:
            await message.edit_text(text)  # no reply_markup: the inline keyboard goes
    except TelegramBadRequest as exc:  # deleted or no longer editable: the answer is stored
        log.info("could not mark message %s answered: %s", message.message_id, exc)


# ---------------------------------------------------------------- helpers


def _today(settings: Settings) -> Any:
    return datetime.now(settings.tz).date()


async def _send_all(target: Any, replies: list[Reply]) -> None:
    if not isinstance(target, Message):
        return
    for reply in merge_replies(replies):
        await target.answer(reply.text, reply_markup=reply.markup)


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.middleware(FlowMiddleware())
    router.callback_query.middleware(FlowMiddleware())
    router.message.register(command_survey_handler, Command("survey"))
    router.callback_query.register(survey_button_handler, SurveyCb.filter())
    router.message.register(contact_handler, StateFilter(SurveyStates.answering), Magic(F.contact))
    router.message.register(text_answer_handler, StateFilter(SurveyStates.answering), Magic(F.text))
    router.message.register(summary_text_handler, StateFilter(SurveyStates.summary), Magic(F.text))
    router.message.register(
        non_text_handler, StateFilter(SurveyStates.answering, SurveyStates.summary)
    )
    for kind in _BUTTON_ACTIONS:
        router.callback_query.register(flow_button_handler, kind.filter())
    router.callback_query.register(
        flow_button_handler, StateFilter(SurveyStates.answering, SurveyStates.summary)
    )
    return router
