"""/start, /help, /language and /delete_me."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from handlers.broadcasts import resubscribe_on_start
from handlers.callbacks import EraseCb, LangCb
from handlers.keyboards import ask_keyboard, erase_keyboard, language_keyboard, start_keyboard
from storage.models import Person


async def command_start_handler(
    message: Message,
    command: CommandObject,
    person: Person,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    """Greet, record the deep-link source, and offer the survey; subscribe to broadcasts
    again."""
    if people.record_source(person, command.args) and not people.is_stored(person):
        await state.update_data(people.remembered(person))  # kept if they consent
    await resubscribe_on_start(message, session, person)
    done = person.survey_completed_at is not None
    await message.answer(
        _(
            "Xin chào! Mình là trợ lý hướng nghiệp dành cho thanh niên sắp xuất ngũ và đã "
            "xuất ngũ của tỉnh Lạng Sơn.\n\n"
            "Mình giúp bạn chọn nghề để học, tìm khóa học và việc làm gần nhà, "
            "và nhắc bạn những mốc quan trọng.\n\n"
            "Gõ /help để xem các lệnh."
        ),
        reply_markup=start_keyboard(
            _("📝 Xem lại câu trả lời") if done else _("📝 Bắt đầu khảo sát"),
            "review" if done else "start",
            _("💬 Hỏi cán bộ"),
        ),
    )


async def command_help_handler(message: Message) -> None:
    """List the commands."""
    await message.answer(
        _(
            "Các lệnh:\n"
            "/survey — làm hoặc tiếp tục khảo sát nghề\n"
            "/courses — khóa học hợp với bạn\n"
            "/fairs — phiên giao dịch việc làm sắp tới\n"
            "/card — thẻ học nghề của bạn\n"
            "/ask — hỏi cán bộ tư vấn (học nghề, vay vốn, giấy tờ, việc làm…)\n"
            "/reminders — bật/tắt lời nhắc\n"
            "/alerts — bật/tắt tin báo khóa học, phiên việc làm mới\n"
            "/language — đổi ngôn ngữ\n"
            "/privacy — dữ liệu của bạn được dùng thế nào\n"
            "/sharing — chia sẻ hay thôi chia sẻ với trường nghề và Trung tâm Dịch vụ việc làm\n"
            "/delete_me — xóa toàn bộ dữ liệu của bạn"
        ),
        reply_markup=ask_keyboard(_("💬 Hỏi cán bộ")),
    )


async def command_language_handler(message: Message) -> None:
    """Offer the languages."""
    await message.answer(_("Chọn ngôn ngữ:"), reply_markup=language_keyboard())


async def language_chosen(
    query: CallbackQuery, callback_data: LangCb, person: Person, i18n: I18n, state: FSMContext
) -> None:
    """Switch the person's language and confirm in the new one."""
    if people.set_language(person, callback_data.code) and not people.is_stored(person):
        await state.update_data(people.remembered(person))  # kept if they consent
    with i18n.use_locale(person.language):
        await query.answer()
        if query.message is not None:
            await query.message.answer(_("Đã chuyển sang tiếng Việt."))


async def command_delete_me_handler(message: Message, person: Person, state: FSMContext) -> None:
    """Ask for confirmation before erasing (nothing to ask when nothing is stored)."""
    if not people.is_stored(person):
        await state.clear()  # the conversation (a language choice, say) goes too
        await message.answer(_nothing_stored())
        return
    await message.answer(
        _(
            "Bạn có chắc muốn xóa toàn bộ dữ liệu của mình? Mọi câu trả lời sẽ bị xóa và "
            "không lấy lại được."
        ),
        reply_markup=erase_keyboard(_("🗑 Xóa hết dữ liệu của tôi"), _("Không, giữ lại")),
    )


async def erase_confirmed(
    query: CallbackQuery, person: Person, session: AsyncSession, state: FSMContext
) -> None:
    """Erase everything about the person, once: a later tap erases, counts and audits nothing
    and says so."""
    erased = await people.erase(session, person)
    await state.clear()
    if not erased:
        await query.answer(_nothing_stored())
        return
    await session.commit()  # final before the write-ahead log is emptied
    await people.scrub_log(session)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Đã xóa toàn bộ dữ liệu của bạn. Nếu muốn bắt đầu lại, gõ /start.")
        )


async def erase_cancelled(query: CallbackQuery, person: Person) -> None:
    """Keep the data."""
    if not people.is_stored(person):
        await query.answer(_nothing_stored())
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Dữ liệu của bạn vẫn được giữ nguyên."))


def _nothing_stored() -> str:
    """Said to someone with no row: never consented, refused, or erased by an earlier tap."""
    return _("Mình không lưu thông tin nào của bạn, nên không còn gì để xóa.")


def create_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(command_start_handler, CommandStart())
    router.message.register(command_help_handler, Command("help"))
    router.message.register(command_language_handler, Command("language"))
    router.callback_query.register(language_chosen, LangCb.filter())
    router.message.register(command_delete_me_handler, Command("delete_me"))
    router.callback_query.register(erase_confirmed, EraseCb.filter(F.confirm))
    router.callback_query.register(erase_cancelled, EraseCb.filter(~F.confirm))
    return router
