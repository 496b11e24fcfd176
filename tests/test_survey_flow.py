"""The survey end to end through the emulator: answers, edits, restarts, bad input."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select

from storage.models import AnonymousCount, Person, SurveyResponse
from tests.conftest import RunningBot
from tests.survey_helpers import (
    run_to_trades,
    start_survey,
    stored_answers,
    stored_person,
    stored_trades,
    tap_until_summary,
)


async def test_full_survey_in_vietnamese_typed_and_tapped(running_bot_any_db: RunningBot) -> None:
    rb = running_bot_any_db
    user = rb.emu.user(2001, first_name="Ánh", language_code="vi")
    reply = await run_to_trades(user)
    assert "nghề" in reply.text.lower()
    reply = await user.ask("sua xe may")
    assert "Sửa chữa xe máy" in reply.text  # a confident match, confirmed with one tap
    reply = await user.click(reply.button_texts[0])
    assert "Đã ghi nghề số 1" in reply.text and "1/3" in reply.text
    reply = await user.ask("han dien")
    reply = await user.click(reply.button_texts[0])
    assert "Đã ghi nghề số 2" in reply.text
    reply = await user.click("Xong")
    assert "Câu 9/14" in reply.text
    reply = await tap_until_summary(user, reply)
    summary = reply.last.text
    assert "Nguyễn Văn Ánh" in summary and "0912 345 678" in summary
    assert "03/2024" in summary and "03/2026" in summary and "Tam Thanh" in summary
    assert "1. Sửa chữa xe máy" in summary
    reply = await user.click("✅ Xác nhận")
    assert "Cảm ơn bạn" in reply.text

    answers = await stored_answers(rb, 2001)
    assert answers["full_name"] == "Nguyễn Văn Ánh"
    assert answers["phone"] == "+84912345678"
    assert answers["enlistment_month"] == "2024-03" and answers["discharge_month"] == "2026-03"
    person = await stored_person(rb, 2001)
    assert person is not None and person.survey_completed_at is not None
    assert person.discharge_month == date(2026, 3, 1) and person.consent_sharing is True
    assert person.home_commune_code and person.branch == "army"
    trades = await stored_trades(rb, 2001)
    assert trades[0][0] == 1 and len(trades) == 2
    assert trades[0][2] == "sua xe may" and trades[0][3] == "typed"
    async with rb.sessionmaker() as session:
        versions = (await session.execute(select(SurveyResponse.survey_version))).scalars().all()
    from bot.survey import load_survey

    assert versions == [load_survey().version]


async def test_full_survey_in_english(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(2002, first_name="Ben", language_code="en")
    reply = await user.ask("/survey")
    assert "Agree to all" in reply.button_texts
    await user.click("Agree to all")
    reply = await user.ask("Hoang Van Binh")
    assert "Question 2/14" in reply.text
    reply = await user.click("Skip") if "Skip" in reply.button_texts else await user.ask("Skip")
    assert "Question 3/14" in reply.text
    reply = await user.click(reply.button_texts[0])
    reply = await user.ask("01/2025")
    reply = await user.ask("01/2027")
    reply = await user.ask("Ky Lua")
    reply = await user.click(reply.button_texts[0])
    reply = await user.ask("welding")
    reply = await user.click(reply.button_texts[0])
    reply = await user.click("Done")
    reply = await tap_until_summary(user, reply, until="Would you like an officer to call you")
    # "Yes" to a call-back after skipping the phone: the number is asked for, in English
    reply = await user.click("Yes")
    assert "An officer needs your phone number to call you" in reply.text
    assert reply.keyboard_texts == ["Send my phone number", "Skip"]
    reply = await user.share_contact("+84 912 000 111")
    assert "✅ 0912 000 111" in reply.text and "Your answers" in reply.last.text
    reply = await user.click("✅ Confirm")
    assert "Thank you" in reply.text
    assert (await stored_answers(running_bot, 2002))["phone"] == "+84912000111"


async def test_edit_answers_from_summary(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(2003, first_name="C", language_code="vi")
    await run_to_trades(user)
    reply = await user.ask("nau an")
    reply = await user.click(reply.button_texts[0])
    reply = await user.click("Xong")
    reply = await tap_until_summary(user, reply)
    assert "Quân đội" in reply.last.text
    edit_branch = next(b for b in reply.button_texts if "Lực lượng" in b or "Đơn vị" in b)
    reply = await user.click(edit_branch)
    reply = await user.click("Công an")
    assert "Công an" in reply.last.text and "Xác nhận" in reply.last.text  # back to the summary
    # change the trades: the first new pick replaces the old list
    edit_trades = next(b for b in reply.button_texts if "nghề" in b.lower())
    await user.click(edit_trades)
    reply = await user.ask("lai xe b2")
    reply = await user.click(reply.button_texts[0])
    reply = await user.click("Xong")
    assert "Xác nhận" in reply.last.text
    await user.click("✅ Xác nhận")
    answers = await stored_answers(running_bot, 2003)
    assert answers["branch"] == "police"
    assert [t[1] for t in await stored_trades(running_bot, 2003)] == [
        answers["trade_choices"][0]["code"]
    ]
    assert answers["trade_choices"][0]["raw"] == "lai xe b2"


async def test_restart_mid_survey_then_resume(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(2004, first_name="D", language_code="vi")
    await start_survey(user)
    await user.ask("Lý Văn Đức")
    await user.ask("0987654321")
    await running_bot.restart()
    reply = await user.ask("/survey")
    assert "làm tiếp từ câu 3/14" in reply.text
    reply = await user.click("Quân đội")
    assert "Câu 4/14" in reply.text
    answers = await stored_answers(running_bot, 2004)
    assert answers["phone"] == "+84987654321" and answers["branch"] == "army"


async def test_two_users_interleaved(running_bot: RunningBot) -> None:
    a = running_bot.emu.user(2005, first_name="A", language_code="vi")
    b = running_bot.emu.user(2006, first_name="B", language_code="vi")
    await asyncio.gather(start_survey(a), start_survey(b))
    ra, rb_ = await asyncio.gather(a.ask("Nguyễn Văn A"), b.ask("Trần Văn B"))
    assert "Câu 2/14" in ra.text and "Câu 2/14" in rb_.text
    await asyncio.gather(a.ask("0911111111"), b.ask("0922222222"))
    assert (await stored_answers(running_bot, 2005))["phone"] == "+84911111111"
    assert (await stored_answers(running_bot, 2006))["full_name"] == "Trần Văn B"


async def test_interest_quiz_path(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(2007, first_name="E", language_code="vi")
    await run_to_trades(user)
    reply = await user.ask("chưa biết")
    for _ in range(12):
        if not reply.button_texts or len(reply.button_texts) != 3 or "gõ lại" in reply.text:
            break
        reply = await user.click(reply.button_texts[0])  # "like" everything
    picks = reply.button_texts
    assert len(picks) == 4 and picks[-1] == "Không phải, gõ lại", reply
    reply = await user.click(picks[0])
    assert "Đã ghi nghề số 1" in reply.text
    trades = await stored_trades(running_bot, 2007)
    assert trades[0][3] == "quiz"


async def test_quiz_none_of_these_goes_back_to_typing(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(2008, first_name="F", language_code="vi")
    await run_to_trades(user)
    reply = await user.click("Làm trắc nghiệm chọn nghề")
    while len(reply.button_texts) == 3:
        reply = await user.click(reply.button_texts[-1])
    reply = await user.click("Không phải, gõ lại")
    assert "Câu 8/14" in reply.text


async def test_bad_months_are_refused_and_asked_again(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(2009, first_name="G", language_code="vi")
    await start_survey(user)
    await user.ask("Vi Văn Giang")
    await user.ask("0912345678")
    reply = await user.click("Quân đội")
    assert "Câu 4/14" in reply.text
    for bad, needle in [
        ("tháng ba", "Mình chưa đọc được tháng này"),
        ("13/2024", "Không có tháng"),
        ("31/02/2024", "Không có tháng"),
        ("2024/03/99", ""),
    ]:
        reply = await user.ask(bad)
        assert "⚠️" in reply.text and needle in reply.text and "Câu 4/14" in reply.text, reply
    await user.ask("05/2025")
    reply = await user.ask("04/2025")  # discharge before enlistment
    assert "không thể trước" in reply.text and "Câu 5/14" in reply.text
    reply = await user.ask("06/2029")  # more than 36 months after enlistment
    assert "36 tháng" in reply.text and "Câu 5/14" in reply.text
    reply = await user.ask("05/2027")
    assert "Câu 6/14" in reply.text
    assert (await stored_answers(running_bot, 2009))["discharge_month"] == "2027-05"


async def test_commune_outside_the_province_and_close_matches(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(2010, first_name="H", language_code="vi")
    await start_survey(user)
    await user.ask("Hà Văn Hùng")
    await user.ask("0912345678")
    await user.click("Quân đội")
    await user.ask("01/2025")
    reply = await user.ask("01/2027")
    assert "Câu 6/14" in reply.text
    reply = await user.ask("Hoàn Kiếm")
    assert "Hà Nội" in reply.text and "không thuộc Lạng Sơn" in reply.text
    assert "Câu 6/14" in reply.text
    reply = await user.ask("xyzzy qwerty")
    assert "Mình chưa tìm thấy xã/phường" in reply.text
    reply = await user.ask("phuong ky lua")
    assert "Câu 7/14" in reply.text
    person = await stored_person(running_bot, 2010)
    assert person is not None and person.home_commune_code


async def test_stickers_long_text_html_name_old_and_forged_buttons(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(2011, first_name="<b>I</b>", language_code="vi")
    await start_survey(user)
    await user.send_sticker()
    reply = await user.expect_reply()
    assert "cần bạn gõ chữ" in reply.text and "Câu 1/14" in reply.text
    reply = await user.ask("A" * 5000)
    assert "Dài quá" in reply.text and "Câu 1/14" in reply.text
    reply = await user.ask("<b>Tên</b> <script>x</script>")
    assert "&lt;" not in reply.text  # the emulator renders entities: the user sees the raw text
    last = reply.last
    assert last.text and "<script>" in last.text and "&lt;script&gt;" in (last.html or "")
    reply = await user.ask("Nông Văn Ích")
    assert "Câu 2/14" in reply.text
    await user.ask("0912345678")
    # the consent message, answered, has no buttons left; an old tap on it changes nothing
    history = await user.history()
    consent_msg = next(m for m in history if "Đồng ý tất cả" in (m.text or ""))
    assert consent_msg.buttons == [] and "✅ Đồng ý tất cả" in (consent_msg.text or "")
    await user.press(callback_data="a:consent:none", message_id=consent_msg.message_id, force=True)
    reply = await user.expect_reply()
    assert reply.toast and "cũ" in reply.toast and "Câu 3/14" in reply.text
    assert await stored_person(running_bot, 2011) is not None
    # forged callback data: refused, question asked again
    current = (await user.history())[-1]
    for forged in ("a:branch:general", "a:consent:none", "zz:not-ours", "t:pick:weld"):
        await user.press(callback_data=forged, message_id=current.message_id, force=True)
        reply = await user.expect_reply()
        assert "Câu 3/14" in reply.text, (forged, reply)
    assert "branch" not in await stored_answers(running_bot, 2011)


async def test_refusing_consent_stores_only_a_count(running_bot: RunningBot) -> None:
    user = running_bot.emu.user(2012, first_name="K", language_code="vi")
    await user.ask("/start qr_x")
    reply = await start_survey(user, consent="Không đồng ý")
    assert "không lưu thông tin gì" in reply.text
    async with running_bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 0
        count = await session.scalar(
            select(AnonymousCount.count).where(AnonymousCount.key == "consent_refused")
        )
    assert count == 1


async def test_completed_survey_is_exported_and_delete_me_removes_it(
    running_bot: RunningBot,
) -> None:
    from bot.reporting.preferences import PREFERENCE_COLUMNS, ExportFilter, iter_preference_rows

    user = running_bot.emu.user(2013, first_name="L", language_code="vi")
    await run_to_trades(user, name="Lộc Văn Lâm")
    reply = await user.ask("tieng han")
    reply = await user.click(reply.button_texts[0])
    reply = await user.click("Xong")
    reply = await tap_until_summary(user, reply)
    await user.click("✅ Xác nhận")

    async def rows() -> list[dict[str, str]]:
        async with running_bot.sessionmaker() as session:
            return [
                dict(zip(PREFERENCE_COLUMNS, row, strict=True))
                async for row in iter_preference_rows(
                    session, ExportFilter(tz=running_bot.settings.tz)
                )
            ]

    exported = await rows()
    assert len(exported) == 1
    row = exported[0]
    assert row["telegram_user_id"] == "2013" and row["full_name"] == "Lộc Văn Lâm"
    assert row["trade_1_code"] == "korean" and row["trade_1_raw"] == "tieng han"
    assert row["branch"] == "Quân đội" and row["discharge_month"] == "03/2026"
    await user.ask("/delete_me")
    await user.click("🗑 Xóa hết dữ liệu của tôi")
    assert await rows() == []
