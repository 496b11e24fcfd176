"""/ask and the "Hỏi cán bộ" button: a question is answered from the FAQ when it can be, else it
goes to the counsellors of the person's commune (admin inbox, and the counsellors' Telegram group
when COUNSELLOR_CHAT_ID is set). A reply to the copy in that group goes back to the person.

Two routers: :func:`create_router` (the person, under the ``private`` router) and
:func:`create_group_router` (the counsellors' group).
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from bot import people, questions
from bot.config import Settings
from bot.questions import MAX_ANSWER, MAX_QUESTION, FaqEntry
from bot.sending import SenderProtocol
from handlers.callbacks import AskCb
from handlers.filters import Magic
from handlers.keyboards import faq_keyboard
from storage import questions as repo
from storage.models import Person


class AskStates(StatesGroup):
    """State names are a schema: they are stored in the database, do not rename them."""

    writing = State()  # waiting for the question
    offered = State()  # an FAQ answer is shown; FSM data: the entry id, the question if consented


def _number(value: int, i18n: I18n) -> str:
    return format_decimal(value, locale=i18n.current_locale)


def _where(person: Person) -> str:
    """Whose counsellors get the person's questions, as said after "cán bộ"."""
    commune = questions.commune_label(person.home_commune_code)
    return _("của %(commune)s") % {"commune": commune} if commune else _("của tỉnh")


async def _step(state: FSMContext, person: Person, step: State | None, **data: Any) -> None:
    """Move the conversation to ``step`` with ``data``. Someone with no row keeps what the
    conversation remembers for them (language, deep-link source: ``bot/people.py``)."""
    kept: dict[str, Any] = {}
    if not people.is_stored(person):
        old = await state.get_data()
        kept = {key: old[key] for key in people.CONVERSATION_KEYS if key in old}
    await state.set_state(step)
    await state.set_data({**kept, **data})


class CounsellorGroup(Filter):
    """A message in the counsellors' group (COUNSELLOR_CHAT_ID)."""

    async def __call__(self, event: TelegramObject, settings: Settings) -> bool:
        chat_id = settings.counsellor_chat_id
        return chat_id is not None and isinstance(event, Message) and event.chat.id == chat_id


# ---------------------------------------------------------------- the person asks


async def ask_handler(message: Message, person: Person, state: FSMContext, i18n: I18n) -> None:
    """/ask: ask for the question."""
    await _step(state, person, AskStates.writing)
    text = _(
        "✍️ Bạn muốn hỏi gì? Bạn viết câu hỏi trong một tin nhắn (tối đa %(max)s ký tự).\n"
        "Mình tìm câu trả lời có sẵn trước; nếu chưa có, mình chuyển câu hỏi tới cán bộ "
        "%(where)s."
    ) % {
        "max": _number(MAX_QUESTION, i18n),
        "where": _where(person),
    }
    if person.consent_at is None:
        text += "\n\n" + _(
            "<i>Lưu ý: mình chỉ chuyển được câu hỏi tới cán bộ khi bạn đã đồng ý cho lưu "
            "thông tin. Gõ /survey để đọc và đồng ý.</i>"
        )
    await message.answer(text)


async def ask_button_handler(
    query: CallbackQuery, person: Person, state: FSMContext, i18n: I18n
) -> None:
    """The "Hỏi cán bộ" button under /start and /help."""
    await query.answer()
    if isinstance(query.message, Message):
        await ask_handler(query.message, person, state, i18n)


async def question_handler(
    message: Message,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
    sender: SenderProtocol,
    i18n: I18n,
) -> None:
    """The question: offer an FAQ answer when one fits, else send it to a counsellor."""
    text, problem = questions.check_text(message.text or "", MAX_QUESTION)
    if problem == "empty":
        await message.answer(
            _("Câu hỏi đang trống. Bạn viết câu hỏi bằng chữ trong một tin nhắn nhé.")
        )
        return
    if problem == "too_long":
        await message.answer(
            _(
                "Câu hỏi dài %(length)s ký tự, quá giới hạn %(max)s ký tự. Bạn viết ngắn lại, "
                "chỉ nêu điều cần hỏi, rồi gửi lại nhé."
            )
            % {"length": _number(len(text), i18n), "max": _number(MAX_QUESTION, i18n)}
        )
        return
    entry = questions.faq_matcher().match(text)
    if entry is None:
        await _send_to_counsellor(message, person, session, state, settings, sender, text, None)
        return
    # the question is kept for "Không" only when it may be stored: after consent
    kept = {"q": text} if person.consent_at is not None else {}
    await _step(state, person, AskStates.offered, faq=entry.id, **kept)
    await message.answer(
        _offer_text(entry, person.language),
        reply_markup=faq_keyboard(_("✅ Có, cảm ơn"), _("✉️ Không, gửi cho cán bộ")),
    )


def _offer_text(entry: FaqEntry, language: str) -> str:
    return (
        f"<b>{entry.title.get(language)}</b>\n\n{entry.answer.get(language)}\n\n"
        + _(
            "<i>Số tiền và điều kiện có thể thay đổi theo quy định mới; cán bộ xã/phường "
            "sẽ xác nhận cho bạn.</i>"
        )
        + "\n\n"
        + _("Câu trả lời này có giúp bạn không?")
    )


async def not_text_handler(message: Message) -> None:
    """A sticker, photo or voice where the question was expected: ask again."""
    await message.answer(
        _("Mình chỉ nhận câu hỏi bằng chữ. Bạn gõ câu hỏi thành một tin nhắn nhé.")
    )


async def faq_helped_handler(query: CallbackQuery, person: Person, state: FSMContext) -> None:
    """ "Có": the FAQ answer was enough; nothing is kept."""
    if await state.get_state() != AskStates.offered.state:
        await query.answer(_("Nút này đã cũ. Gõ /ask để đặt câu hỏi mới."))
        return
    await _step(state, person, None)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_("Rất vui vì đã giúp được bạn! Khi cần hỏi thêm, gõ /ask."))


async def faq_declined_handler(
    query: CallbackQuery,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
    sender: SenderProtocol,
) -> None:
    """ "Không": the question goes to a counsellor after all."""
    data = await state.get_data()
    text = data.get("q")
    offered = await state.get_state() == AskStates.offered.state
    if not offered or (not isinstance(text, str) and person.consent_at is not None):
        await query.answer(_("Nút này đã cũ. Gõ /ask để đặt câu hỏi mới."))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        faq = data.get("faq")
        await _send_to_counsellor(
            query.message, person, session, state, settings, sender, str(text or ""), faq
        )


async def _send_to_counsellor(
    message: Message,
    person: Person,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
    sender: SenderProtocol,
    text: str,
    faq_declined: str | None,
) -> None:
    """Store the question (consent given), confirm, forward it to the counsellors' group."""
    asked = await questions.ask(session, person, text, faq_declined=faq_declined)
    await _step(state, person, None)
    if asked.refused == "no_consent":
        await message.answer(
            _(
                "Mình chưa gửi được câu hỏi vì bạn chưa đồng ý cho lưu thông tin. Gõ /survey, "
                "đọc và chọn «Đồng ý tất cả» hoặc «Chỉ nhận tư vấn», rồi gõ /ask để hỏi lại."
            )
        )
        return
    if asked.refused == "too_many" or asked.question is None:
        await message.answer(
            _(
                "Bạn đang có %(count)s câu hỏi chờ cán bộ trả lời. Bạn đợi cán bộ trả lời "
                "rồi hỏi tiếp nhé."
            )
            % {"count": questions.MAX_OPEN}
        )
        return
    question = asked.question
    await message.answer(
        _(
            "✅ Đã gửi câu hỏi số %(id)s tới cán bộ %(where)s. Cán bộ sẽ trả lời bạn ngay "
            "trong cuộc trò chuyện này."
        )
        % {"id": question.id, "where": _where(person)}
    )
    if settings.counsellor_chat_id is not None:
        faq = questions.load_faq().get(faq_declined) if faq_declined else None
        title = faq.title.get("vi") if faq else None
        await questions.forward(
            session, sender, settings.counsellor_chat_id, question, person, title
        )


# ---------------------------------------------------------------- a counsellor replies in the group


async def group_reply_handler(
    message: Message, target: Message, session: AsyncSession, sender: SenderProtocol, i18n: I18n
) -> None:
    """A reply (to ``target``) in the counsellors' group: to a question's copy, it answers the
    person; to anything else, it is the counsellors talking among themselves."""
    question = await repo.by_group_message(
        session, chat_id=message.chat.id, message_id=target.message_id
    )
    if question is None:
        return
    if question.answered_at is not None:
        await message.answer(_("Câu hỏi số %(id)s đã được trả lời rồi.") % {"id": question.id})
        return
    if message.text is None:
        await message.answer(_("Câu trả lời phải là chữ. Bạn trả lời lại tin nhắn câu hỏi nhé."))
        return
    answer, problem = questions.check_text(message.text, MAX_ANSWER)
    if problem is not None:
        await message.answer(
            _(
                "Câu trả lời phải có chữ và dài không quá %(max)s ký tự. Bạn trả lời lại tin "
                "nhắn câu hỏi nhé."
            )
            % {"max": _number(MAX_ANSWER, i18n)}
        )
        return
    user = message.from_user
    status = await questions.deliver_reply(
        session,
        sender,
        question,
        answer,
        by=f"{user.full_name} (Telegram)" if user else "Telegram",
        actor=f"tg:{user.id}" if user else "tg:unknown",
        via="group",
    )
    await message.answer(_group_result(status) % {"id": question.id})


def _group_result(status: str) -> str:
    if status == "sent":
        return _("✅ Đã gửi câu trả lời cho câu hỏi số %(id)s.")
    if status == "blocked":
        return _("⚠️ Người hỏi câu số %(id)s đã chặn bot, câu trả lời chưa tới được.")
    if status == "failed":
        return _(
            "⚠️ Chưa gửi được câu trả lời cho câu hỏi số %(id)s (lỗi kết nối). Bạn trả lời "
            "lại tin nhắn câu hỏi để thử lại."
        )
    return _("Câu hỏi số %(id)s đã được trả lời rồi.")


def create_group_router() -> Router:
    """A fresh router for the counsellors' group: replies from people there (not from bots)."""
    router = Router(name=f"{__name__}.group")
    router.message.register(
        group_reply_handler,
        CounsellorGroup(),
        Magic(F.reply_to_message.as_("target")),
        Magic(~F.from_user.is_bot),
    )
    return router


def create_router() -> Router:
    """A fresh router with the person's handlers (one per dispatcher; private chats only, see
    ``handlers/__init__.py``)."""
    router = Router(name=__name__)
    router.message.register(ask_handler, Command("ask"))
    router.callback_query.register(ask_button_handler, AskCb.filter(F.act == "start"))
    router.callback_query.register(faq_helped_handler, AskCb.filter(F.act == "yes"))
    router.callback_query.register(faq_declined_handler, AskCb.filter(F.act == "no"))
    writing = StateFilter(AskStates.writing, AskStates.offered)
    router.message.register(
        question_handler, writing, Magic(F.text), Magic(~F.text.startswith("/"))
    )
    router.message.register(not_text_handler, writing, Magic(~F.text))
    return router
