"""/courses and /fairs end to end through the emulator: a soldier who finished the survey sees
the three courses that suit them best with reasons, opens details, registers interest (stored),
hides one for good; "Nhắc tôi" on a fair sends two reminders at their times; newcomers, people
without a trade and empty catalogs get a way forward; English for English speakers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.alerts.render import ItemCb
from bot.alerts.scan import scan
from bot.sending import Sender
from bot.timeline import tick
from storage.models.catalog import JobFair
from storage.models.outbox import OutboxMessage
from tests.alerts_helpers import (
    FAR_AWAY,
    add_course,
    add_fair,
    add_institution,
    drain,
    local,
    outbox_rows,
    response,
    runner,
    start_quiet_bot,
    surveyed_soldier,
    texts,
    today,
)
from tests.conftest import RunningBot
from tests.factories import make_person


@pytest.fixture
async def rb(sqlite_url: str, emulator: str) -> AsyncIterator[RunningBot]:
    bot = await start_quiet_bot(sqlite_url, emulator)
    try:
        yield bot
    finally:
        await bot.stop()
        await bot.emu.close()


def _item_button(message: object, act: str) -> str:
    """The callback data of a card's button (details d, interest i, remind r, not n)."""
    for row in message.buttons:  # type: ignore[attr-defined]
        for _, data in row:
            if data and data.startswith("it:") and ItemCb.unpack(data).act == act:
                return str(data)
    raise AssertionError(f"no {act} button under {message}")


async def test_courses_with_reasons_details_interest_and_not_interested(rb: RunningBot) -> None:
    soon = today() + timedelta(days=40)
    user = await surveyed_soldier(rb, 9101, discharge=soon.replace(day=1))
    school = await add_institution(rb.sessionmaker)
    # still serving: only courses starting after the discharge month are for them
    start = soon.replace(day=1) + timedelta(days=20)
    near = await add_course(rb.sessionmaker, school, title="Hàn điện cơ bản", start_date=start)
    mig = await add_course(
        rb.sessionmaker, school, title="Hàn MIG/MAG", fee_vnd=4_500_000, start_date=start
    )
    far = await add_course(
        rb.sessionmaker, school, title="Hàn ống", venue_code=FAR_AWAY, start_date=start
    )
    later = await add_course(
        rb.sessionmaker, school, title="Hàn 3G", start_date=today() + timedelta(days=200)
    )
    await add_course(rb.sessionmaker, school, title="Nấu ăn", trade_code="cook")  # not chosen
    await add_course(rb.sessionmaker, school, title="Hàn nháp", status="draft")

    reply = await user.ask("/courses")
    assert reply[0].text.startswith("Các khóa học hợp với bạn nhất")
    cards = reply.visible[1:]
    titles = [(m.text or "").splitlines()[0] for m in cards]
    assert len(cards) == 3 and set(titles) <= {
        "🎓 Hàn điện cơ bản",
        "🎓 Hàn MIG/MAG",
        "🎓 Hàn ống",
        "🎓 Hàn 3G",
    }
    assert "🎓 Nấu ăn" not in titles and "🎓 Hàn nháp" not in titles
    first = cards[0]
    reason = (first.text or "").splitlines()[2]
    assert reason.startswith("Gần nhà ~") and "đúng nghề hàn · khai giảng" in reason
    assert [t for row in first.buttons for t, _ in row] == [
        "ℹ️ Xem chi tiết",
        "✅ Đăng ký quan tâm",
        "🚫 Không quan tâm",
    ]

    # details in place: institution, level, dates, fee unknown, contact, venue
    near_card = next(m for m in cards if "Hàn điện cơ bản" in (m.text or ""))
    shown = await user.click(
        callback_data=_item_button(near_card, "d"), message_id=near_card.message_id
    )
    details = shown.last.text or ""
    for words in (
        "Cơ sở đào tạo: Trường Cao đẳng Nghề Lạng Sơn",
        "Trình độ:",
        "Khai giảng:",
        "Hạn đăng ký:",
        "Học phí: chưa rõ",
        "Liên hệ: 0205 3870 000",
        "Địa điểm: Phường Kỳ Lừa",
    ):
        assert words in details, details
    assert "ℹ️ Xem chi tiết" not in shown.last.button_texts

    # register interest: stored, confirmed in place, the buttons go
    done = await user.click(
        callback_data=_item_button(shown.last, "i"), message_id=near_card.message_id
    )
    assert "Đã ghi bạn quan tâm khóa này" in (done.last.text or "") and not done.last.buttons
    assert any("Đã đăng ký quan tâm" in str(a) for a in done.callback_answers)
    assert await response(rb.sessionmaker, "course", near) == "interested"

    # not interested: hidden for good
    other = next(m for m in cards if m.message_id != near_card.message_id)
    hidden_id = ItemCb.unpack(_item_button(other, "n")).i
    await user.click(callback_data=_item_button(other, "n"), message_id=other.message_id)
    assert await response(rb.sessionmaker, "course", hidden_id) == "not_interested"
    again = await user.ask("/courses")
    again_ids = {ItemCb.unpack(_item_button(m, "d")).i for m in again.visible[1:]}
    assert hidden_id not in again_ids and len(again_ids) == 3
    assert again_ids <= {near, mig, far, later}


async def test_newcomer_no_trade_and_nothing_open(rb: RunningBot) -> None:
    stranger = rb.emu.user(9201, language_code="vi")
    reply = await stranger.ask("/courses")
    assert "Làm khảo sát ngắn" in reply.text and reply.button_texts == ["📝 Bắt đầu khảo sát"]
    reply = await stranger.ask("/fairs")
    assert reply.button_texts == ["📝 Bắt đầu khảo sát"]

    undecided = rb.emu.user(9203, language_code="vi")
    await undecided.ask("/start")
    async with rb.sessionmaker() as session:
        await make_person(session, telegram_user_id=9203, trades=())
        await session.commit()
    reply = await undecided.ask("/courses")
    assert reply.text.startswith("Bạn chưa chọn nghề muốn học")
    assert reply.button_texts == ["📝 Chọn nghề"]
    reply = await undecided.click("📝 Chọn nghề")
    assert reply.button_texts, reply  # the survey's review, where trades are chosen

    user = await surveyed_soldier(rb, 9202, discharge=today().replace(day=1))
    reply = await user.ask("/courses")
    assert reply.text.startswith("Hiện chưa có khóa học nào đang tuyển sinh")
    reply = await user.ask("/fairs")
    assert reply.text.startswith("Hiện chưa có phiên giao dịch việc làm nào sắp tới")


async def test_fair_remind_me_two_reminders_at_their_times(rb: RunningBot) -> None:
    user = await surveyed_soldier(rb, 9301, discharge=today().replace(day=1))
    fair_day = today() + timedelta(days=10)
    fair = await add_fair(rb.sessionmaker, local(fair_day, "08:00"))
    reply = await user.ask("/fairs")
    card = reply.visible[1]
    assert "Phiên giao dịch việc làm tháng 12" in (card.text or "")
    assert "ngày " + fair_day.strftime("%d/%m") in (card.text or "")
    shown = await user.click(callback_data=_item_button(card, "d"), message_id=card.message_id)
    for words in (
        "Thời gian: 08:00",
        "Đơn vị tổ chức: Trung tâm Dịch vụ việc làm tỉnh Lạng Sơn",
        "Doanh nghiệp dự kiến: 25",
        "Vị trí việc làm dự kiến: 600",
        "Ngoài ra còn có: tư vấn vay vốn",
        "Địa điểm: Trung tâm Dịch vụ việc làm",
    ):
        assert words in (shown.last.text or ""), shown.last.text
    done = await user.click(callback_data=_item_button(shown.last, "r"), message_id=card.message_id)
    assert "hôm trước và sáng hôm diễn ra phiên" in (done.last.text or "")
    assert await response(rb.sessionmaker, "fair", fair) == "remind"

    run = runner(rb)
    seen = len(await user.history())
    eve = fair_day - timedelta(days=1)
    await drain(run, local(eve, "08:59"))
    assert len(await user.history()) == seen
    await drain(run, local(eve, "09:00"))
    got = await texts(user, seen)
    assert len(got) == 1 and got[0].startswith("⏰ Ngày mai có phiên giao dịch việc làm")
    assert "Thời gian: 08:00 " + fair_day.strftime("%d/%m/%Y") in got[0]
    await drain(run, local(eve, "22:00"))
    await drain(run, local(fair_day, "07:29"))  # quiet hours: nothing
    assert len(await user.history()) == seen + 1
    await drain(run, local(fair_day, "07:30"))
    got = await texts(user, seen)
    assert len(got) == 2 and got[1].startswith("⏰ Hôm nay có phiên giao dịch việc làm")
    await drain(run, local(fair_day, "09:00"))
    assert len(await user.history()) == seen + 2
    assert [r[2] for r in await outbox_rows(rb.sessionmaker, "fair_eve")] == ["sent"]
    assert [r[2] for r in await outbox_rows(rb.sessionmaker, "fair_day")] == ["sent"]


async def test_english_speaker_reads_english(rb: RunningBot) -> None:
    user = await surveyed_soldier(rb, 9401, discharge=today().replace(day=1), language="en")
    school = await add_institution(rb.sessionmaker)
    await add_course(rb.sessionmaker, school)
    reply = await user.ask("/courses")
    assert reply[0].text.startswith("The courses that suit you best")
    card = reply.visible[1]
    assert "Near home, ~4 km · your trade: Welding" in (card.text or ""), card.text
    assert card.button_texts == ["ℹ️ Details", "✅ I'm interested", "🚫 Not interested"]
    shown = await user.click(callback_data=_item_button(card, "d"), message_id=card.message_id)
    assert "Fee: not known yet" in (shown.last.text or "")


async def test_the_reminder_before_discharge_opens_the_courses(rb: RunningBot) -> None:
    """The reminder a week before discharge carries "see matching courses" and "see job
    fairs"; a tap shows them."""
    discharge = (today() + timedelta(days=40)).replace(day=1)
    user = await surveyed_soldier(rb, 9501, discharge=discharge)
    school = await add_institution(rb.sessionmaker)
    await add_course(rb.sessionmaker, school, start_date=discharge + timedelta(days=20))
    seen = len(await user.history())
    sender = Sender(rb.bot, global_rate=1000.0, per_chat_rate=100.0, per_chat_burst=10.0)
    await tick(
        rb.sessionmaker, sender, local(discharge - timedelta(days=7), "09:00"), settings=rb.settings
    )
    reminder = (await user.history())[seen:]
    assert len(reminder) == 1 and (reminder[0].text or "").startswith("Sắp ra quân rồi!")
    assert reminder[0].button_texts == ["🎓 Xem khóa học phù hợp", "🤝 Xem phiên việc làm"]
    reply = await user.click("🎓 Xem khóa học phù hợp", message_id=reminder[0].message_id)
    assert reply[0].text.startswith("Các khóa học hợp với bạn nhất")
    assert "🎓 Hàn điện cơ bản" in reply.text
    reply = await user.click("🤝 Xem phiên việc làm", message_id=reminder[0].message_id)
    assert reply.text.startswith("Hiện chưa có phiên giao dịch việc làm nào sắp tới")


async def test_fair_reminders_follow_a_moved_or_cancelled_fair(rb: RunningBot) -> None:
    """The centre moves a fair a week later after people asked to be reminded: the reminders
    go out before the new date, not the old one; a cancelled fair's reminders never go."""
    user = await surveyed_soldier(rb, 9601, discharge=today().replace(day=1))
    old_day, new_day = today() + timedelta(days=5), today() + timedelta(days=12)
    moved = await add_fair(rb.sessionmaker, local(old_day, "08:00"))
    dropped = await add_fair(rb.sessionmaker, local(old_day, "14:00"), title="Phiên lưu động")
    reply = await user.ask("/fairs")
    for card in reply.visible[1:]:
        await user.click(callback_data=_item_button(card, "r"), message_id=card.message_id)
    assert await response(rb.sessionmaker, "fair", moved) == "remind"
    assert await response(rb.sessionmaker, "fair", dropped) == "remind"
    async with rb.sessionmaker() as s:
        fair = await s.get(JobFair, moved)
        gone = await s.get(JobFair, dropped)
        assert fair is not None and gone is not None
        fair.starts_at = local(new_day, "08:00")
        gone.status = "cancelled"
        await s.commit()
    assert await scan(rb.sessionmaker, rb.settings, local(today(), "10:00")) == 0

    run = runner(rb)
    seen = len(await user.history())
    await drain(run, local(old_day - timedelta(days=1), "09:00"))
    await drain(run, local(old_day, "07:30"))
    assert len(await user.history()) == seen  # nothing on the old dates
    await drain(run, local(new_day - timedelta(days=1), "09:00"))
    got = await texts(user, seen)
    assert len(got) == 1 and "Thời gian: 08:00 " + new_day.strftime("%d/%m/%Y") in got[0]
    await drain(run, local(new_day, "07:30"))
    got = await texts(user, seen)
    assert len(got) == 2 and got[1].startswith("⏰ Hôm nay có phiên giao dịch việc làm")
    assert all("Phiên lưu động" not in t for t in got)
    async with rb.sessionmaker() as s:
        statuses = (
            await s.execute(
                select(OutboxMessage.item_id, OutboxMessage.kind, OutboxMessage.status).order_by(
                    OutboxMessage.item_id, OutboxMessage.kind
                )
            )
        ).all()
    reminders = [(i, k, st) for i, k, st in statuses if k in ("fair_eve", "fair_day")]
    assert (dropped, "fair_day", "cancelled") in reminders
    assert (dropped, "fair_eve", "cancelled") in reminders
