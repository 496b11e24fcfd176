"""The career-counselling survey: turns updates into survey-flow calls and replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AnswerCb, CommuneCb, ConfirmCb, EditCb, QuizCb, SurveyCb, TradeCb
from bot.config import Settings
from bot.survey_flow import SurveyFlow, SurveyStates, open_flow
from bot.survey_views import Reply, merge_replies
from storage.models import Person

# ---------------------------------------------------------------- entry points


async def command_survey_handler(
    message: Message, person: Person, session: AsyncSession, state: FSMContext, settings: Settings
) -> None:
    """Start, resume, or (once done) review the survey."""
    await _enter(message, person, session, state, settings)


async def survey_button_handler(
    query: CallbackQuery,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
) -> None:
    """ "Bắt đầu khảo sát" / "Xem lại" buttons (also sent by reminders)."""
    await query.answer()
    if isinstance(query.message, Message):
        await _enter(query.message, person, session, state, settings)


async def _enter(
    message: Message, person: Person, session: AsyncSession, state: FSMContext, settings: Settings
) -> None:
    flow = await open_flow(session, person, state, settings.province_code)
    await _send_all(message, await flow.enter())


# ---------------------------------------------------------------- typed answers


async def contact_handler(
    message: Message, person: Person, session: AsyncSession, state: FSMContext, settings: Settings
) -> None:
    """A shared contact answers the phone question (only the sender's own number)."""
    assert message.contact is not None
    flow = await open_flow(session, person, state, settings.province_code)
    own = message.contact.user_id in (None, message.from_user.id if message.from_user else None)
    typed = message.contact.phone_number if own else ""
    await _send_all(message, await flow.typed(typed, today=_today(settings)))


async def text_answer_handler(
    message: Message, person: Person, session: AsyncSession, state: FSMContext, settings: Settings
) -> None:
    """Typed answer to the current question."""
    flow = await open_flow(session, person, state, settings.province_code)
    await _send_all(message, await flow.typed(message.text or "", today=_today(settings)))


async def summary_text_handler(
    message: Message, person: Person, session: AsyncSession, state: FSMContext, settings: Settings
) -> None:
    """Text while the summary is shown: show it again with its buttons."""
    flow = await open_flow(session, person, state, settings.province_code)
    await _send_all(message, await flow.enter())


async def non_text_handler(
    message: Message, person: Person, session: AsyncSession, state: FSMContext, settings: Settings
) -> None:
    """A sticker, photo or voice where text was asked: say so and ask again."""
    flow = await open_flow(session, person, state, settings.province_code)
    await _send_all(message, await flow.not_text())


# ---------------------------------------------------------------- buttons


async def answer_button_handler(
    query: CallbackQuery,
    callback_data: AnswerCb,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
) -> None:
    """A tapped option (or skip / done)."""
    flow = await open_flow(session, person, state, settings.province_code)
    replies = await flow.pressed(callback_data.q, callback_data.v)
    await _answer_query(query, flow)
    await _send_all(query.message, replies)


async def commune_button_handler(
    query: CallbackQuery,
    callback_data: CommuneCb,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
) -> None:
    """A commune chosen among close matches, or "type again"."""
    flow = await open_flow(session, person, state, settings.province_code)
    replies = await flow.commune_picked(callback_data.code)
    await _answer_query(query, flow)
    await _send_all(query.message, replies)


async def trade_button_handler(
    query: CallbackQuery,
    callback_data: TradeCb,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
) -> None:
    """Trade step buttons: confirm, pick, type again, quiz, done."""
    flow = await open_flow(session, person, state, settings.province_code)
    replies = await flow.trade_action(callback_data.act, callback_data.code)
    await _answer_query(query, flow)
    await _send_all(query.message, replies)


async def quiz_button_handler(
    query: CallbackQuery,
    callback_data: QuizCb,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
) -> None:
    """An interest-quiz answer."""
    flow = await open_flow(session, person, state, settings.province_code)
    replies = await flow.quiz_answer(callback_data.i, callback_data.v)
    await _answer_query(query, flow)
    await _send_all(query.message, replies)


async def edit_button_handler(
    query: CallbackQuery,
    callback_data: EditCb,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
) -> None:
    """Change one answer from the summary."""
    flow = await open_flow(session, person, state, settings.province_code)
    replies = await flow.edit(callback_data.q)
    await _answer_query(query, flow)
    await _send_all(query.message, replies)


async def confirm_button_handler(
    query: CallbackQuery,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
) -> None:
    """Confirm the summary."""
    flow = await open_flow(session, person, state, settings.province_code)
    replies = await flow.confirm()
    await _answer_query(query, flow)
    await _send_all(query.message, replies)


async def unknown_button_handler(
    query: CallbackQuery,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
) -> None:
    """Forged or unknown callback data during the survey: refuse it and ask again."""
    flow = await open_flow(session, person, state, settings.province_code)
    replies = await flow.stale()
    await _answer_query(query, flow)
    await _send_all(query.message, replies)


# ---------------------------------------------------------------- helpers


def _today(settings: Settings) -> Any:
    return datetime.now(settings.tz).date()


async def _answer_query(query: CallbackQuery, flow: SurveyFlow) -> None:
    await query.answer(flow.toast or None)


async def _send_all(target: Any, replies: list[Reply]) -> None:
    if not isinstance(target, Message):
        return
    for reply in merge_replies(replies):
        await target.answer(reply.text, reply_markup=reply.markup)


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(command_survey_handler, Command("survey"))
    router.callback_query.register(survey_button_handler, SurveyCb.filter())
    router.message.register(contact_handler, StateFilter(SurveyStates.answering), F.contact)
    router.message.register(text_answer_handler, StateFilter(SurveyStates.answering), F.text)
    router.message.register(summary_text_handler, StateFilter(SurveyStates.summary), F.text)
    router.message.register(
        non_text_handler, StateFilter(SurveyStates.answering, SurveyStates.summary)
    )
    router.callback_query.register(answer_button_handler, AnswerCb.filter())
    router.callback_query.register(commune_button_handler, CommuneCb.filter())
    router.callback_query.register(trade_button_handler, TradeCb.filter())
    router.callback_query.register(quiz_button_handler, QuizCb.filter())
    router.callback_query.register(edit_button_handler, EditCb.filter())
    router.callback_query.register(confirm_button_handler, ConfirmCb.filter())
    router.callback_query.register(
        unknown_button_handler, StateFilter(SurveyStates.answering, SurveyStates.summary)
    )
    return router
