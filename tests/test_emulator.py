"""The Telegram emulator speaks the Bot API as the real aiogram client expects."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.methods.base import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from emulator import Emulator, EmulatorClient, EmulatorError, EmulatorTimeout, RateLimits
from emulator.limits import RateLimiter
from emulator.tg_html import HtmlParseError, parse_html
from tests.emulator_helpers import make_bot, running_emulator

USER = 1001


@pytest.fixture
async def env() -> AsyncIterator[tuple[Emulator, EmulatorClient, Bot]]:
    """Emulator without flood limits, a control client and an aiogram bot."""
    async with running_emulator() as (emulator, client):
        bot = make_bot(emulator.base_url)
        try:
            yield emulator, client, bot
        finally:
            await bot.session.close()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    """One-row inline keyboard."""
    buttons = [InlineKeyboardButton(text=t, callback_data=d) for t, d in pairs]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


class NoSuchMethod(TelegramMethod[bool]):
    """A method Telegram does not have."""

    __returning__ = bool
    __api_method__ = "noSuchMethod"


# ---- HTML parse mode ------------------------------------------------------------------------


def test_html_visible_text_and_utf16_entities() -> None:
    text, entities = parse_html(
        '😀 <b>Xin chào</b> &lt;3 <a href="https://a.vn/?x=1&amp;y=2">đây</a>'
    )
    assert text == "😀 Xin chào <3 đây"
    assert entities[0] == {"type": "bold", "offset": 3, "length": 8}
    assert entities[1]["url"] == "https://a.vn/?x=1&y=2"


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo"'),
        ("<b>x", "Can't find end tag"),
        ("<b>x</i>", "Unmatched end tag"),
        ("&foo;", "Unsupported HTML entity"),
        ("1 < 2", 'Unsupported start tag ""'),
    ],
)
def test_html_errors(src: str, reason: str) -> None:
    with pytest.raises(HtmlParseError, match=reason):
        parse_html(src)


def test_token_buckets_refill() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimits(per_chat_capacity=2, per_chat_rate=1.0), lambda: now[0])
    assert limiter.acquire(1) is None
    assert limiter.acquire(1) is None
    assert limiter.acquire(1) == 1
    assert limiter.acquire(2) is None
    now[0] = 1.0
    assert limiter.acquire(1) is None


# ---- Bot API errors -------------------------------------------------------------------------


async def test_errors_match_telegram(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    _, emu, bot = env
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(USER, "hi")
    await emu.user(USER).send("/start")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "a" * 4097)
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup=keyboard(("A", "đ" * 33)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup=keyboard(("A", "")))
    for bad in ("<foo>x</foo>", "<b>x", "1 < 2", "&nbsp;"):
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(USER, bad, parse_mode="HTML")
    await bot.send_message(USER, "1 < 2 &nbsp;")  # fine without parse_mode
    with pytest.raises(TelegramNotFound):
        await bot(NoSuchMethod())


async def test_edit_delete_and_block(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    _, emu, bot = env
    user = emu.user(USER)
    await user.send("/start")
    sent = await bot.send_message(USER, "<b>một</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=USER, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="<b>một</b>", chat_id=USER, message_id=sent.message_id, parse_mode="HTML"
        )
    edited = await bot.edit_message_text(
        text="hai", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("OK", "ok"))
    )
    assert isinstance(edited, Message) and edited.text == "hai"
    await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    [message] = await user.history()
    assert message.text == "hai" and message.buttons == []
    assert [e["text"] for e in message.edits] == ["một", "hai"]
    assert message.edits[0]["html"] == "<b>một</b>"
    assert await bot.delete_message(USER, sent.message_id)
    assert (await user.history())[0].deleted
    await user.block()
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "còn đó không?")
    await user.unblock()
    await bot.send_message(USER, "chào lại")


async def test_edit_text_without_keyboard_drops_it_as_telegram_does(
    env: tuple[Emulator, EmulatorClient, Bot],
) -> None:
    """editMessageText without reply_markup removes the inline keyboard (the survey marks an
    answered question this way, in one call); the previous version stays in the history."""
    _, emu, bot = env
    user = emu.user(USER)
    await user.send("/start")
    sent = await bot.send_message(
        USER, "<i>Câu 3/14</i>\n\nLực lượng?", parse_mode="HTML", reply_markup=keyboard(("A", "a"))
    )
    await bot.edit_message_text(
        text="<i>Câu 3/14</i>\n\nLực lượng?\n\n✅ A",
        chat_id=USER,
        message_id=sent.message_id,
        parse_mode="HTML",
    )
    [message] = await user.history()
    assert message.text == "Câu 3/14\n\nLực lượng?\n\n✅ A" and message.buttons == []
    assert message.html == "<i>Câu 3/14</i>\n\nLực lượng?\n\n✅ A"
    assert message.edits[0]["reply_markup"] == {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}]]
    }


async def test_rate_limit_triggers_at_burst_and_recovers() -> None:
    limits = RateLimits(per_chat_capacity=3, per_chat_rate=2.0, global_capacity=5, global_rate=1.0)
    async with running_emulator(limits) as (emulator, emu):
        bot = make_bot(emulator.base_url)
        try:
            for uid in (1, 2, 3):
                await emu.user(uid).send("/start")
            for _ in range(3):
                await bot.send_message(1, "x")
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(1, "x")
            assert caught.value.retry_after == 1
            await bot.send_message(2, "other chat has its own bucket")
            await bot.send_message(3, "x")
            with pytest.raises(TelegramRetryAfter):  # global bucket (5) is empty now
                await bot.send_message(3, "x")
            await asyncio.sleep(caught.value.retry_after + 0.1)
            await bot.send_message(1, "recovered")
            limited = await emu.calls(method="sendMessage", errors=True)
            assert [c["error_code"] for c in limited] == [429, 429]
            assert limited[0]["chat_id"] == 1 and limited[0]["retry_after"] == 1
        finally:
            await bot.session.close()


# ---- updates --------------------------------------------------------------------------------


async def test_long_polling_and_offset(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    _, emu, bot = env
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    sent = await emu.user(USER, first_name="An").send("/start unit_123")
    [update] = await poll
    assert time.monotonic() - started < 1.0
    assert update.update_id == sent["update_id"]
    assert update.message and update.message.text == "/start unit_123"
    assert update.message.from_user and update.message.from_user.language_code == "vi"
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [update.update_id]  # not confirmed yet
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []
    await emu.redeliver(update.update_id)
    redelivered = await bot.get_updates(offset=update.update_id + 1, timeout=0)
    assert [u.update_id for u in redelivered] == [update.update_id]
    empty = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - empty >= 0.9


async def test_second_poller_gets_conflict(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    _, _, bot = env
    first = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError):
        await first
    assert await second == []


async def test_contact_sticker_photo_updates(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    _, emu, bot = env
    user = emu.user(USER)
    await user.send_contact("+84912345678")
    await user.send_sticker()
    await user.send_photo(caption="ảnh")
    updates = await bot.get_updates()
    contact, sticker, photo = (u.message for u in updates)
    assert contact and contact.contact and contact.contact.user_id == USER
    assert contact.contact.phone_number == "+84912345678"
    assert sticker and sticker.sticker and sticker.sticker.emoji == "👍"
    assert photo and photo.photo and photo.caption == "ảnh"


async def test_callback_press_old_message_and_answer(
    env: tuple[Emulator, EmulatorClient, Bot],
) -> None:
    _, emu, bot = env
    user = emu.user(USER)
    await user.send("/start")
    old = await bot.send_message(USER, "Câu 1", reply_markup=keyboard(("Đồng ý", "yes:1")))
    await bot.send_message(USER, "Câu 2", reply_markup=keyboard(("Đồng ý", "yes:2")))
    await user.press("Đồng ý")
    await user.press(callback_data="yes:1", message_id=old.message_id)
    updates = await bot.get_updates(offset=-2)
    latest, older = (u.callback_query for u in updates)
    assert latest and latest.data == "yes:2" and latest.from_user.id == USER
    assert older and older.data == "yes:1" and older.message
    assert older.message.message_id == old.message_id
    assert await bot.answer_callback_query(latest.id, text="Đã lưu", show_alert=True)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(latest.id)
    [answer] = await user.callback_answers()
    assert answer["text"] == "Đã lưu" and answer["show_alert"] is True


async def test_document_and_reply_keyboard(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    _, emu, bot = env
    user = emu.user(USER)
    await user.send("/start")
    contact_kb = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Gửi số điện thoại", request_contact=True)]],
        resize_keyboard=True,
    )
    await bot.send_message(USER, "Số điện thoại?", reply_markup=contact_kb)
    data = "Họ tên,Nghề\nAn,Hàn\n".encode()
    sent = await bot.send_document(
        USER,
        BufferedInputFile(data, filename="ho_so.csv"),
        caption="<i>Hồ sơ</i>",
        parse_mode="HTML",
    )
    assert sent.document and sent.document.file_size == len(data)
    messages = await user.history()
    doc = messages[-1].document
    assert doc and doc.filename == "ho_so.csv" and doc.caption == "Hồ sơ"
    assert await emu.download(doc) == data
    assert messages[0].reply_keyboard == [[{"text": "Gửi số điện thoại", "request_contact": True}]]
    await user.press_reply("Gửi số điện thoại", phone_number="+84900000001")
    updates = await bot.get_updates()
    last = updates[-1].message
    assert last and last.contact and last.contact.phone_number == "+84900000001"


async def test_commands_per_scope_and_language(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    _, emu, bot = env
    await bot.set_my_commands(
        [BotCommand(command="start", description="Bắt đầu")], language_code="vi"
    )
    await bot.set_my_commands(
        [BotCommand(command="start", description="Start")], language_code="en"
    )
    await bot.set_my_commands(
        [BotCommand(command="admin", description="Admin")], scope=BotCommandScopeChat(chat_id=7)
    )
    [vi] = await emu.commands(language_code="vi")
    assert vi["commands"] == [{"command": "start", "description": "Bắt đầu"}]
    en = await bot.get_my_commands(language_code="en")
    assert [c.description for c in en] == ["Start"]
    assert await bot.get_my_commands() == []
    chat_scoped = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=7))
    assert [c.command for c in chat_scoped] == ["admin"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])


async def test_tokens_have_separate_state(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    emulator, emu, bot = env
    other = make_bot(emulator.base_url, "777:OTHER")
    try:
        await bot.get_me()  # the first bot seen is the control API's default
        assert (await other.get_me()).id == 777
        async with EmulatorClient(emulator.base_url, bot="777") as emu_other:
            await emu_other.user(5).send("to other")
        await emu.user(5).send("to first")
        assert [u.message.text for u in await other.get_updates() if u.message] == ["to other"]
        assert [u.message.text for u in await bot.get_updates() if u.message] == ["to first"]
    finally:
        await other.session.close()


# ---- full round trip with a Dispatcher ------------------------------------------------------


async def test_dispatcher_round_trip(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    _, emu, bot = env
    dp = Dispatcher()

    @dp.message(F.text == "/quiet")
    async def quiet(message: Message) -> None:
        return None

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(
            f"<b>Bạn nói:</b> {message.text}",
            parse_mode="HTML",
            reply_markup=keyboard(("Đồng ý", "agree")),
        )
        await message.answer("Tin thứ hai")

    @dp.callback_query(F.data == "agree")
    async def agree(query: CallbackQuery) -> None:
        await query.answer("Cảm ơn")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Đã đồng ý")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=2)
    )
    try:
        user = emu.user(2002, first_name="Bình", language_code="en")
        reply = await user.ask("xin chào")
        assert reply.text == "Bạn nói: xin chào\n\nTin thứ hai"
        assert reply[0].html == "<b>Bạn nói:</b> xin chào" and reply[0].buttons == [
            [("Đồng ý", "agree")]
        ]
        pressed = await user.click("Đồng ý")
        assert pressed.toast == "Cảm ơn"
        assert pressed.last.text == "Đã đồng ý" and pressed.last.edited
        await user.send("/quiet")
        with pytest.raises(EmulatorTimeout, match="Tin thứ hai"):
            await user.wait_messages(1, timeout=0.3)
        assert await emu.settle(idle=0.1, timeout=3)
        stats = await emu.stats()
        assert stats["totals"]["messages"] == 2 and stats["totals"]["edits"] == 1
    finally:
        await dp.stop_polling()
        await polling


async def test_raw_wire_formats(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    emulator, emu, _ = env
    await emu.user(USER).send("/start")
    base = f"{emulator.base_url}/bot42:RAW"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/GETME") as resp:
            assert (await resp.json())["result"]["id"] == 42
        await http.post(f"{base}/getUpdates", data={"timeout": "0"})
        body = {"chat_id": USER, "text": "json", "reply_markup": markup}
        async with http.post(f"{base}/sendMessage", json=body) as resp:
            assert (await resp.json())["result"]["reply_markup"] == markup
        form = {"chat_id": str(USER), "text": "form", "reply_markup": json.dumps(markup)}
        async with http.post(f"{base}/sendmessage", data=form) as resp:
            assert (await resp.json())["result"]["reply_markup"] == markup
        async with http.post(f"{base}/sendMessage", data={"chat_id": "77", "text": "x"}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }


async def test_web_chat_page_is_served(env: tuple[Emulator, EmulatorClient, Bot]) -> None:
    emulator, _, _ = env
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/chat"):
            async with http.get(emulator.base_url + path) as resp:
                page = await resp.text()
                assert resp.status == 200 and resp.content_type == "text/html"
                markers = ('.id = "composer"', '.id = "send"', 'id="user-picker"', "inline-btn")
                for marker in (*markers, "/_emu"):
                    assert marker in page
                assert "://" not in page and "<link" not in page  # no CDN, no external fonts


async def test_groups_members_bots_replies_and_buttons(
    env: tuple[Emulator, EmulatorClient, Bot],
) -> None:
    _, emu, bot = env
    counsellors = emu.group(-1_000_000_000_200, "supergroup", "Cán bộ")
    await counsellors.create()  # the bot is in it: it may write there first
    sent = await bot.send_message(
        counsellors.id, "Câu hỏi số 1", reply_markup=keyboard(("Xem", "see:1"))
    )
    assert sent.chat.type == "supergroup" and sent.chat.title == "Cán bộ"
    lan = emu.user(USER, first_name="Lan")
    await counsellors.send("Trả lời nè", lan, reply_to=sent.message_id)
    await counsellors.press(lan, "see:1", sent.message_id)
    small = emu.group(-300, "group")  # made on first use
    await small.send("/start@emu_bot hi", 999_000_001)
    await small.send("ai đó", None)
    reply, press, command, anonymous = await bot.get_updates()
    assert reply.message and reply.message.from_user and reply.message.from_user.id == USER
    assert reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.message_id == sent.message_id
    assert press.callback_query and press.callback_query.data == "see:1"
    assert press.callback_query.message and press.callback_query.message.chat.id == counsellors.id
    assert await bot.answer_callback_query(press.callback_query.id, text="Đã xem")
    assert command.message and command.message.chat.type == "group"
    assert command.message.from_user and command.message.from_user.is_bot
    assert command.message.entities and command.message.entities[0].type == "bot_command"
    assert anonymous.message and anonymous.message.from_user is None
    # what the bot writes there is read back: all of it, or the new messages only
    answer = await bot.send_message(counsellors.id, "Đã gửi")
    [new] = await counsellors.wait_bot_messages(1)
    assert new.message_id == answer.message_id
    assert [m.text for m in await counsellors.bot_messages()] == ["Câu hỏi số 1", "Đã gửi"]
    [answered] = (await emu.chat(counsellors.id))["callback_answers"]
    assert answered["text"] == "Đã xem"
    # what Telegram would not accept is refused
    with pytest.raises(EmulatorError, match="no message 99"):
        await counsellors.send("?", lan, reply_to=99)
    with pytest.raises(EmulatorError, match="negative"):
        await emu.group(300, "group").send("hi", lan)
    with pytest.raises(EmulatorError, match="negative"):
        await emu.group(-301, "channel").send("hi", lan)
