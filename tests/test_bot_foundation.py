"""The bot skeleton end to end: scripted users talk to the running bot through the emulator."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage import people as repo
from storage.models import Answer, FsmRecord, InboxUpdate, Person
from storage.models.admin import AuditEntry
from tests.conftest import RunningBot


async def _person(rb: RunningBot, user_id: int) -> Person | None:
    async with rb.sessionmaker() as session:
        return await repo.get_person(session, telegram_user_id=user_id)


async def test_start_records_deep_link_source_and_greets(running_bot_any_db: RunningBot) -> None:
    rb = running_bot_any_db
    user = rb.emu.user(1001, first_name="An", language_code="vi")
    reply = await user.ask("/start unit_42")
    assert "Xin chào" in reply.text
    assert reply.button_texts == ["📝 Bắt đầu khảo sát", "💬 Hỏi cán bộ"]
    # nothing is stored before consent: the source waits in the conversation
    assert await _person(rb, 1001) is None
    # a second /start with another payload keeps the first source; a malformed one is ignored
    await user.ask("/start commune_9")
    await user.ask("/start <script>")
    await user.click("📝 Bắt đầu khảo sát")
    await user.click("Đồng ý tất cả")
    person = await _person(rb, 1001)
    assert person is not None and person.source == "unit_42" and person.language == "vi"
    await user.ask("/start commune_9")
    person = await _person(rb, 1001)
    assert person is not None and person.source == "unit_42"


async def test_language_from_telegram_and_switch(running_bot: RunningBot) -> None:
    english = running_bot.emu.user(1002, first_name="Ben", language_code="en-GB")
    assert "Commands:" in (await english.ask("/help")).text
    viet = running_bot.emu.user(1003, first_name="Chi", language_code="vi")
    assert "Các lệnh:" in (await viet.ask("/help")).text
    reply = await viet.ask("/language")
    assert reply.button_texts == ["🇻🇳 Tiếng Việt", "🇬🇧 English"]
    reply = await viet.click("🇬🇧 English")
    assert "Switched to English." in reply.text
    assert "Commands:" in (await viet.ask("/help")).text
    # before consent the choice lives in the conversation; the row made at consent keeps it
    assert await _person(running_bot, 1003) is None
    await viet.ask("/survey")
    await viet.click("Agree to all")
    person = await _person(running_bot, 1003)
    assert person is not None and person.language == "en"
    await viet.ask("/language")
    assert "Đã chuyển sang tiếng Việt." in (await viet.click("🇻🇳 Tiếng Việt")).text
    person = await _person(running_bot, 1003)
    assert person is not None and person.language == "vi"


async def test_commands_registered_in_both_languages(running_bot: RunningBot) -> None:
    entries = await running_bot.emu.commands()
    by_lang = {e["language_code"]: e["commands"] for e in entries}
    assert {"vi", "en"} <= set(by_lang)
    vi = {c["command"]: c["description"] for c in by_lang["vi"]}
    en = {c["command"]: c["description"] for c in by_lang["en"]}
    assert vi["delete_me"] == "Xóa dữ liệu của tôi" and en["delete_me"] == "Delete my data"
    assert set(vi) == {
        "start",
        "survey",
        "courses",
        "fairs",
        "card",
        "alerts",
        "ask",
        "reminders",
        "stop",
        "language",
        "privacy",
        "sharing",
        "delete_me",
        "help",
    }
    assert vi["ask"] == "Hỏi cán bộ" and en["ask"] == "Ask an officer"


async def test_restart_mid_conversation_keeps_state_and_answers(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(1004, first_name="Dung", language_code="vi")
    await user.ask("/survey")
    await user.click("Đồng ý tất cả")
    reply = await user.ask("Hoàng Văn Dũng")
    assert "Câu 2/14" in reply.text
    await running_bot.restart()
    reply = await user.ask("0912 345 678")
    assert "Câu 3/14" in reply.text  # the phone answer went to question 2 after the restart
    async with running_bot.sessionmaker() as session:
        stored = dict((await session.execute(select(Answer.question_id, Answer.value))).all())
        states = (await session.execute(select(FsmRecord.state))).scalars().all()
    assert stored["full_name"] == "Hoàng Văn Dũng" and stored["phone"] == "+84912345678"
    assert "SurveyStates:answering" in states


async def test_repeated_update_is_handled_once(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(1005, first_name="Giang", language_code="vi")
    sent = await user.send("/help")
    await user.expect_reply()
    before = len(await user.history())
    await running_bot.emu.redeliver(sent["update_id"])
    await running_bot.emu.settle(idle=0.5)
    assert len(await user.history()) == before
    async with running_bot.sessionmaker() as session:
        states = (
            await session.scalars(
                select(InboxUpdate.state).where(InboxUpdate.update_id == sent["update_id"])
            )
        ).all()
    assert states == ["replied"]


async def test_sticker_and_photo_get_a_polite_answer(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(1006, first_name="Hai", language_code="vi")
    await user.send_sticker()
    assert "chỉ đọc được tin nhắn chữ" in (await user.expect_reply()).text
    await user.ask("/survey")
    await user.click("Đồng ý tất cả")
    await user.send_photo()
    reply = await user.expect_reply()
    assert "cần bạn gõ chữ" in reply.text and "Câu 1/14" in reply.text  # asked again


async def test_user_who_blocked_the_bot_is_marked_unreachable(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(1007, first_name="Khanh", language_code="vi")
    await user.ask("/survey")
    await user.click("Đồng ý tất cả")
    await user.ask("/delete_me")
    await user.block()
    await user.press("Không, giữ lại")
    await running_bot.emu.settle(idle=0.5)
    person = await _person(running_bot, 1007)
    assert person is not None and person.blocked_at is not None
    errors = await running_bot.emu.calls(chat_id=1007, errors=True)
    assert errors and errors[-1]["error_code"] == 403
    # writing again means they unblocked the bot
    await user.ask("/help")
    person = await _person(running_bot, 1007)
    assert person is not None and person.blocked_at is None


async def test_delete_me_erases_everything_but_a_count(running_bot_any_db: RunningBot) -> None:
    rb = running_bot_any_db
    user = rb.emu.user(1008, first_name="Lan", language_code="vi")
    await user.ask("/start qr_7")
    await user.ask("/survey")
    await user.click("Đồng ý tất cả")
    await user.ask("Lò Văn Lan")
    reply = await user.ask("/delete_me")
    assert "chắc muốn xóa" in reply.text
    reply = await user.click("🗑 Xóa hết dữ liệu của tôi")
    assert "Đã xóa toàn bộ dữ liệu" in reply.text
    async with rb.sessionmaker() as session:
        assert await repo.get_person(session, telegram_user_id=1008) is None
        assert await session.scalar(select(func.count()).select_from(Answer)) == 0
        assert await repo.get_count(session, "erasures") == 1
        audited = (await session.execute(select(AuditEntry.actor, AuditEntry.detail))).all()
        keys = (await session.execute(select(FsmRecord.key, FsmRecord.state))).all()
    assert not [key for key, _ in keys if ":1008:" in key]  # no conversation state left
    assert audited == [("bot", {"by": "person"})]  # the audit entry holds nothing personal


async def test_privacy_explains_collection_purpose_access_retention_erasure(
    running_bot: RunningBot,
) -> None:
    user = running_bot.emu.user(1009, first_name="Minh", language_code="vi")
    text = (await user.ask("/privacy")).text
    for needle in ("Mình ghi lại", "Để làm gì", "Ai được xem", "Giữ bao lâu", "/delete_me"):
        assert needle in text


async def test_two_users_at_once_do_not_mix(running_bot: RunningBot) -> None:
    a = running_bot.emu.user(1010, first_name="A", language_code="vi")
    b = running_bot.emu.user(1011, first_name="B", language_code="en")
    ra, rb_ = await asyncio.gather(a.ask("/help"), b.ask("/help"))
    assert "Các lệnh:" in ra.text and "Commands:" in rb_.text
