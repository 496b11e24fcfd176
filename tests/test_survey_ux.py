"""What a soldier sees through the emulator: answered questions show the answer, typed answers
are echoed, a call-back needs a number (and the officers' list shows only those with one), a
sticker at a button question."""

from __future__ import annotations

from pathlib import Path

from emulator import BotMessage, EmulatedUser
from tests.admin_helpers import admin_env
from tests.conftest import RunningBot
from tests.survey_helpers import (
    run_to_trades,
    start_survey,
    stored_answers,
    stored_person,
    tap_until_summary,
)


def answered(message: BotMessage, choice: str) -> bool:
    """The message shows ``choice`` as its last line and has no buttons left."""
    return (message.text or "").endswith(f"\n\n{choice}") and message.buttons == []


async def edits_of(rb: RunningBot, user: EmulatedUser) -> list[str]:
    """The edit methods the bot called for the user's chat, in order."""
    calls = await rb.emu.calls(chat_id=user.id)
    return [c["method"] for c in calls if c["method"].startswith("edit")]


async def test_a_button_answer_shows_on_its_question_and_typed_ones_are_echoed(
    running_bot: RunningBot,
) -> None:
    rb = running_bot
    user = rb.emu.user(3001, first_name="An", language_code="vi")
    await start_survey(user)
    consent = (await user.history())[0]
    assert answered(consent, "✅ Đồng ý tất cả")
    await user.ask("Nguyễn Văn An")
    reply = await user.ask("0912 345 678")
    assert reply.text.startswith("✅ 0912 345 678")
    branch = reply.last
    reply = await user.click("Quân đội")
    assert reply[0].message_id == branch.message_id and answered(reply[0], "✅ Quân đội")
    assert reply[0].text.startswith(branch.text or "")  # the question itself is kept
    assert "Câu 4/14" in reply.last.text and reply.last.message_id != branch.message_id
    reply = await user.ask("3/2024")
    assert reply.text.startswith("✅ 03/2024\n\n") and "Câu 5/14" in reply.text
    reply = await user.ask("tháng 3 năm 2026")
    assert reply.text.startswith("✅ 03/2026\n\n") and "Câu 6/14" in reply.text
    # a commune picked among close matches: the list shows the pick
    reply = await user.ask("Thiện")
    picks = reply.last
    reply = await user.click(picks.button_texts[0])
    assert answered(reply[0], f"✅ {picks.button_texts[0]}") and "Câu 7/14" in reply.last.text
    # one Bot API call per answer: editMessageText, never a second edit
    assert await edits_of(rb, user) == ["editMessageText"] * 3
    answers = await stored_answers(rb, 3001)
    assert answers["enlistment_month"] == "2024-03" and answers["discharge_month"] == "2026-03"


async def test_typed_commune_is_echoed_by_name(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(3002, first_name="Bình", language_code="vi")
    reply = await run_to_trades(user)
    history = await user.history()
    echo = next(m for m in history if "Câu 7/14" in (m.text or ""))
    assert (echo.text or "").startswith("✅ Phường Tam Thanh\n\n")
    # the education question, tapped by run_to_trades, shows its answer
    education = next(m for m in history if "Bạn đã học đến đâu" in (m.text or ""))
    assert answered(education, "✅ Lớp 9 trở xuống (THCS)")
    assert "Câu 8/14" in reply.text


async def test_quiz_questions_show_their_answers_and_the_result_is_in_plain_words(
    running_bot: RunningBot,
) -> None:
    user = running_bot.emu.user(3003, first_name="Cường", language_code="vi")
    await run_to_trades(user)
    trade_question = (await user.history())[-1]
    reply = await user.click("Làm trắc nghiệm chọn nghề")
    assert answered(reply[0], "✅ Làm trắc nghiệm chọn nghề")
    assert reply[0].message_id == trade_question.message_id
    scale = ["👍 Thích", "🤷 Không chắc", "👎 Không thích"]
    for i in range(12):
        assert f"{i + 1}/12" in reply.last.text and reply.last.button_texts == scale
        reply = await user.click(scale[i % 3])
    result = reply.last
    quiz = [m for m in await user.history() if "/12 Bạn có thích việc này không?" in (m.text or "")]
    assert len(quiz) == 12
    assert all(answered(m, scale[i % 3]) for i, m in enumerate(quiz)), quiz
    text = result.text or ""
    assert text.startswith("Theo câu trả lời của bạn:\n• Bạn thích") and " + " not in text
    assert "bấm một nghề để chọn" in text and len(result.button_texts) == 4
    reply = await user.click(result.button_texts[0])
    assert answered(reply[0], f"✅ {result.button_texts[0]}")
    assert "Đã ghi nghề số 1" in reply.text


async def test_summary_buttons_show_what_was_pressed(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(3004, first_name="Dũng", language_code="vi")
    reply = await run_to_trades(user)
    reply = await user.ask("han dien")
    reply = await user.click(reply.button_texts[0])
    reply = await user.click("Xong")
    summary = (await tap_until_summary(user, reply)).last
    reply = await user.click("✏️ Sửa: Lực lượng")
    assert reply[0].message_id == summary.message_id
    assert answered(reply[0], "✏️ Sửa: Lực lượng")
    reply = await user.click("Công an")
    reply = await user.click("✅ Xác nhận")
    assert answered(reply[0], "✅ Xác nhận") and "Cảm ơn bạn" in reply.last.text


async def test_sticker_at_a_button_question_is_told_to_press_a_button(
    running_bot: RunningBot,
) -> None:
    user = running_bot.emu.user(3005, first_name="Giang", language_code="vi")
    await start_survey(user)
    await user.send_sticker()
    reply = await user.expect_reply()
    assert "cần bạn gõ chữ" in reply.text and "Câu 1/14" in reply.text  # a typed question
    await user.ask("Vi Văn Giang")
    await user.ask("0912345678")
    await user.send_sticker()
    reply = await user.expect_reply()
    assert reply.text.startswith("⚠️ Câu này trả lời bằng nút bấm: bạn bấm một nút bên dưới nhé.")
    assert "gõ" not in reply.text and "Câu 3/14" in reply.text
    assert reply.last.button_texts == ["Quân đội", "Công an", "Bộ đội Biên phòng"]
    # during the quiz: the statement on screen comes again with its buttons
    reply = await user.click("Quân đội")
    await user.ask("01/2025")
    await user.ask("01/2027")
    reply = await user.ask("ky lua")
    await user.click(reply.last.button_texts[0])
    await user.click("Làm trắc nghiệm chọn nghề")
    reply = await user.click("👍 Thích")
    assert "2/12" in reply.last.text
    await user.send_photo()
    reply = await user.expect_reply()
    assert "bấm một nút" in reply.text and "2/12" in reply.last.text
    reply = await user.click("👍 Thích")
    assert "3/12" in reply.last.text  # the quiz goes on where it was


async def test_call_back_needs_a_number_and_the_list_shows_only_those_with_one(
    running_bot_any_db: RunningBot, tmp_path: Path
) -> None:
    rb = running_bot_any_db

    async def to_the_call_question(user: EmulatedUser, name: str) -> None:
        await start_survey(user)
        await user.ask(name)
        reply = await user.ask("Bỏ qua")  # the reply keyboard's skip button
        assert reply.text.startswith("✅ Bỏ qua") and "Câu 3/14" in reply.text
        await user.click("Quân đội")
        await user.ask("03/2024")
        await user.ask("03/2026")
        reply = await user.ask("ky lua")
        reply = await user.click(reply.last.button_texts[0])
        reply = await user.ask("han dien")
        reply = await user.click(reply.last.button_texts[0])
        reply = await user.click("Xong")
        reply = await tap_until_summary(user, reply, until="gọi điện tư vấn trực tiếp")
        reply = await user.click("Có")
        assert "Cán bộ cần số điện thoại để gọi cho bạn" in reply.text
        assert "cán bộ không gọi được cho bạn" in reply.text
        assert reply.keyboard_texts == ["Gửi số điện thoại của tôi", "Bỏ qua"]

    no_number = rb.emu.user(3101, first_name="Hà", language_code="vi")
    await to_the_call_question(no_number, "Lò Văn Hà")
    reply = await no_number.ask("Bỏ qua")
    summary = reply.last.text or ""
    assert (
        "Số điện thoại: (bỏ qua)" in summary and "Số điện thoại để cán bộ gọi: (bỏ qua)" in summary
    )
    await no_number.click("✅ Xác nhận")

    with_number = rb.emu.user(3102, first_name="Hùng", language_code="vi")
    await to_the_call_question(with_number, "Hà Văn Hùng")
    reply = await with_number.ask("12345")
    assert "⚠️ Số này không giống số di động Việt Nam" in reply.text
    assert "Cán bộ cần số điện thoại" in reply.text  # asked again
    reply = await with_number.ask("0987 654 321")
    assert reply.text.startswith("✅ 0987 654 321") and "Thông tin của bạn" in reply.last.text
    assert "Số điện thoại: 0987 654 321" in (reply.last.text or "")
    assert "để cán bộ gọi" not in (reply.last.text or "")  # the number answers the phone question
    await with_number.click("✅ Xác nhận")

    assert (await stored_answers(rb, 3102))["phone"] == "+84987654321"
    assert "call_phone" not in await stored_answers(rb, 3102)
    answers = await stored_answers(rb, 3101)
    assert answers["wants_call"] == "yes" and answers["phone"] is None
    assert answers["call_phone"] is None
    person = await stored_person(rb, 3102)
    assert person is not None and person.phone == "+84987654321"

    async with admin_env(tmp_path, db_url=rb.settings.database_url) as env:
        await env.user("boss", "admin")
        client = await env.login("boss")
        page = (await client.get("/callbacks")).text
        dashboard = (await client.get("/")).text
    assert "Hà Văn Hùng" in page and "+84987654321" in page
    assert "Lò Văn Hà" not in page
    assert "<b>1</b><span>Yêu cầu gọi lại chưa xử lý</span>" in dashboard
