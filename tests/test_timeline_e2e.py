"""The timeline end to end: the scheduler sends through the Bot API emulator, people answer
with buttons and /reminders through the running bot, outcomes reach the indicators."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bot.reporting.kpi import compute_kpis
from bot.sending import Sender
from bot.timeline import reschedule_person, tick
from bot.timeline.dates import add_months
from emulator import EmulatedUser
from storage.models import Answer, Person, SurveyResponse, TradePreference
from storage.models.base import utcnow
from storage.models.timeline import Outcome, ScheduledSend
from storage.people import new_person, store_person
from tests.conftest import RunningBot
from tests.survey_helpers import run_to_trades, stored_person, tap_until_summary
from tests.test_timeline_support import TZ, at

FAST: dict[str, Any] = {"global_rate": 1000.0, "per_chat_rate": 100.0, "per_chat_burst": 10.0}


async def join(rb: RunningBot, user_id: int, **dates: Any) -> tuple[EmulatedUser, int]:
    """A user who pressed /start and consented (stored as the consent answer would); their
    dates set as the survey would; rows computed."""
    joined = dates.pop("joined", at("2026-01-01"))
    user = rb.emu.user(user_id, language_code="vi")
    await user.ask("/start")
    async with rb.sessionmaker() as s:
        person = new_person(telegram_user_id=user_id, chat_id=user_id, language="vi", source=None)
        person.consent_at = joined
        await store_person(s, person)
        for key, value in dates.items():
            setattr(person, key, value)
        await reschedule_person(s, person, now=joined, tz=TZ)
        await s.commit()
        return user, person.id


async def bot_texts(rb: RunningBot, user: EmulatedUser) -> list[str]:
    """Every message the bot sent to the user, oldest first."""
    return [m.text or "" for m in await user.history()]


async def send_calls(rb: RunningBot, chat_id: int) -> list[dict[str, Any]]:
    """sendMessage calls the emulator saw for a chat (including refused ones)."""
    return await rb.emu.calls(method="sendMessage", chat_id=chat_id)


async def test_cohort_over_two_years_through_the_emulator(running_bot: RunningBot) -> None:
    """Three people, daily 09:00 ticks (every 3rd day off-peak) over two years: exact messages."""
    rb = running_bot
    sender = Sender(rb.bot, **FAST)
    early, _ = await join(
        rb, 7001, enlistment_month=date(2025, 2, 1), discharge_month=date(2027, 2, 1)
    )
    late, _ = await join(
        rb,
        7002,
        enlistment_month=date(2025, 9, 1),
        discharge_month=date(2027, 9, 1),
        survey_completed_at=at("2026-06-01"),
    )
    home, _ = await join(
        rb,
        7003,
        discharge_month=date(2026, 6, 1),
        return_date=date(2026, 6, 20),
        survey_completed_at=at("2026-01-01"),
    )
    day = date(2026, 1, 1)
    while day < date(2028, 1, 1):
        await tick(rb.sessionmaker, sender, at(day.isoformat()), settings=rb.settings)
        day += timedelta(days=1)
    first_lines = {
        u.id: [t.splitlines()[0] for t in await bot_texts(rb, u)][1:]  # [0] is the /start greeting
        for u in (early, late, home)
    }
    assert first_lines[early.id] == [
        "Chào bạn! Bạn đã đi nghĩa vụ được 15 tháng rồi.",  # 2026-05-01
        "Chào bạn! Bạn chưa làm xong khảo sát học nghề. Chỉ mất vài phút thôi.",  # 05-08
        "Chào bạn! Tỉnh đang lập danh sách đăng ký học nghề, nhưng bạn chưa làm khảo sát.",
        "Còn khoảng 1 tháng nữa là bạn ra quân. Những quyền lợi bạn nên biết:",
        "Sắp ra quân rồi! Cách dùng hỗ trợ học nghề:",
        "Chào bạn! Bạn đã về nhà chưa? Về từ khi nào?",
        "Chào bạn! Bạn xuất ngũ tháng 02/2027. Bạn đã về nhà chưa, về từ khi nào? Bấm một nút "
        "dưới đây nhé.",
    ]
    assert first_lines[late.id] == [  # survey done before month 15: no invite, a confirmation
        "Chào bạn! Đến lúc lập danh sách học nghề: tỉnh dựa vào nghề bạn chọn để chuẩn bị lớp "
        "cho bạn.",
        "Còn khoảng 1 tháng nữa là bạn ra quân. Những quyền lợi bạn nên biết:",
        "Sắp ra quân rồi! Cách dùng hỗ trợ học nghề:",
        "Chào bạn! Bạn đã về nhà chưa? Về từ khi nào?",
        "Chào bạn! Bạn xuất ngũ tháng 09/2027. Bạn đã về nhà chưa, về từ khi nào? Bấm một nút "
        "dưới đây nhé.",
    ]
    assert first_lines[home.id] == [  # returned 2026-06-20: four status checks
        "Còn khoảng 1 tháng nữa là bạn ra quân. Những quyền lợi bạn nên biết:",
        "Sắp ra quân rồi! Cách dùng hỗ trợ học nghề:",
        "Chào bạn! Bạn về nhà từ tháng 06/2026. Hiện giờ bạn đang làm gì?",
        "Chào bạn! Mình hỏi thăm chút: bạn về nhà từ tháng 06/2026, hiện giờ bạn đang làm gì?",
        "Chào bạn! Bạn về nhà từ tháng 06/2026. Dạo này bạn đang làm gì?",
        "Chào bạn! Bạn về nhà từ tháng 06/2026. Hiện giờ bạn đang làm gì?",
    ]
    survey_button = (await early.history())[1].buttons[0][0]
    assert survey_button == ("📝 Làm khảo sát", "survey:start")


async def test_quiet_hours_through_the_emulator(running_bot: RunningBot) -> None:
    """A 22:00 tick sends nothing; the 07:30 tick the next morning sends."""
    rb = running_bot
    sender = Sender(rb.bot, **FAST)
    user, _ = await join(
        rb, 7101, enlistment_month=date(2025, 2, 1), discharge_month=date(2027, 2, 1)
    )
    await tick(rb.sessionmaker, sender, at("2026-05-01", "22:00"), settings=rb.settings)
    assert len(await send_calls(rb, user.id)) == 1  # only the /start greeting
    await tick(rb.sessionmaker, sender, at("2026-05-02", "07:30"), settings=rb.settings)
    texts = await bot_texts(rb, user)
    assert len(texts) == 2 and "15 tháng" in texts[1]


async def test_kill_during_tick_through_the_emulator(running_bot: RunningBot) -> None:
    """A tick killed mid-way, then restarted: nobody gets the reminder twice, and only a send
    in flight at the kill (status 'unknown') may be lost."""
    rb = running_bot
    joined = [
        await join(
            rb, 7200 + i, enlistment_month=date(2025, 2, 1), discharge_month=date(2027, 2, 1)
        )
        for i in range(12)
    ]
    slow = Sender(rb.bot, global_rate=4.0, per_chat_rate=100.0)
    task = asyncio.create_task(tick(rb.sessionmaker, slow, at("2026-05-01"), settings=rb.settings))
    await asyncio.sleep(1.2)
    task.cancel()  # killed while sending
    await asyncio.gather(task, return_exceptions=True)
    fast = Sender(rb.bot, **FAST)
    for clock in ("09:01", "09:30", "10:00"):
        await tick(rb.sessionmaker, fast, at("2026-05-01", clock), settings=rb.settings)
    async with rb.sessionmaker() as s:
        rows = await s.execute(
            select(ScheduledSend.person_id, ScheduledSend.status).where(
                ScheduledSend.entry_id == "survey_invite"
            )
        )
        status = dict(rows.all())
    for user, pid in joined:
        got = len(await send_calls(rb, user.id)) - 1  # [0] answered /start
        assert got == 1 if status[pid] == "sent" else status[pid] == "unknown" and got <= 1
    assert list(status.values()).count("unknown") <= 4  # the sender's burst at most


async def test_late_joiner_through_the_emulator(running_bot: RunningBot) -> None:
    """Joining 26 days before discharge: the current stage and later ones, none already past."""
    rb = running_bot
    sender = Sender(rb.bot, **FAST)
    user, _ = await join(
        rb,
        7301,
        enlistment_month=date(2024, 7, 1),
        discharge_month=date(2026, 7, 1),
        joined=at("2026-06-05", "12:00"),
    )
    day = date(2026, 6, 5)
    while day < date(2026, 6, 30):
        await tick(rb.sessionmaker, sender, at(day.isoformat()), settings=rb.settings)
        day += timedelta(days=1)
    texts = await bot_texts(rb, user)
    assert [t.splitlines()[0] for t in texts[1:]] == [
        "Còn khoảng 1 tháng nữa là bạn ra quân. Những quyền lợi bạn nên biết:",  # 06-06
        "Sắp ra quân rồi! Cách dùng hỗ trợ học nghề:",  # 06-24
    ]


async def test_status_answers_become_outcomes_and_indicators(running_bot: RunningBot) -> None:
    """Status buttons → Outcome rows (with the trade) → compute_kpis counts the person."""
    rb = running_bot
    sender = Sender(rb.bot, **FAST)
    user, pid = await join(
        rb,
        7401,
        discharge_month=date(2026, 1, 1),
        return_date=date(2026, 2, 1),
        survey_completed_at=at("2025-12-01"),
    )
    async with rb.sessionmaker() as s:
        response = SurveyResponse(person_id=pid, survey_version="t", completed_at=at("2025-12-01"))
        s.add(response)
        await s.flush()
        s.add(TradePreference(person_id=pid, response_id=response.id, rank=1, trade_code="drive_b"))
        s.add(
            Answer(
                response_id=response.id,
                question_id="training_level",
                value="elementary",
                survey_version="t",
            )
        )
        await s.commit()
    await tick(rb.sessionmaker, sender, at("2026-03-01"), settings=rb.settings)
    await user.history()
    reply = await user.click("📚 Đang học nghề")
    assert "Bạn học nghề gì?" in reply.text
    assert reply.button_texts == ["Lái xe ô tô hạng B", "Nghề khác"]
    reply = await user.click("Lái xe ô tô hạng B")
    assert "Đã ghi nghề: Lái xe ô tô hạng B" in reply.text
    await tick(rb.sessionmaker, sender, at("2026-05-01"), settings=rb.settings)
    await user.history()
    reply = await user.click("🔧 Làm đúng nghề đã học")
    assert "Cảm ơn bạn đã cho biết" in reply.text
    today = utcnow().astimezone(TZ).date()
    async with rb.sessionmaker() as s:
        outcomes = [
            (o.status, o.status_date, o.trade_code, o.source)
            for o in await s.scalars(
                select(Outcome).where(Outcome.person_id == pid).order_by(Outcome.id)
            )
        ]
        report = await compute_kpis(s, year=2026, tz=TZ)
    assert outcomes == [
        ("in_training", today, "drive_b", "bot"),
        ("employed_in_trade", today, None, "bot"),
    ]
    assert (report.total, report.registered_for_training, report.trained) == (1, 1, 1)
    assert report.helped_into_work_after_training == 1 and report.counselled_before_return == 1


async def test_home_button_sets_the_return_date(running_bot: RunningBot) -> None:
    """ "Home since last month" sets Person.return_date and creates the status checks."""
    rb = running_bot
    sender = Sender(rb.bot, **FAST)
    user, pid = await join(rb, 7501, discharge_month=date(2026, 6, 1))
    await tick(rb.sessionmaker, sender, at("2026-06-15"), settings=rb.settings)
    await user.history()
    reply = await user.click("🏠 Về từ tháng trước")
    this_month = utcnow().astimezone(TZ).date().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    assert f"{last_month.month:02d}/{last_month.year}" in reply.text
    async with rb.sessionmaker() as s:
        person = await s.get(Person, pid)
        rows = {
            r.entry_id
            for r in await s.scalars(select(ScheduledSend).where(ScheduledSend.person_id == pid))
        }
    assert person is not None and person.return_date == last_month
    assert {"status_1m", "status_3m", "status_6m", "status_12m"} <= rows


async def test_pause_and_resume_with_the_command(running_bot: RunningBot) -> None:
    """/reminders pause stops sends; /reminders shows a toggle; resume lets later ones through."""
    rb = running_bot
    sender = Sender(rb.bot, **FAST)
    user, pid = await join(
        rb, 7601, enlistment_month=date(2025, 2, 1), discharge_month=date(2027, 2, 1)
    )
    reply = await user.ask("/reminders pause")
    assert "tạm dừng" in reply.text
    await tick(rb.sessionmaker, sender, at("2026-05-01"), settings=rb.settings)
    assert len(await send_calls(rb, user.id)) == 2  # greeting + the pause answer only
    reply = await user.ask("/reminders")
    assert reply.button_texts == ["▶️ Nhận lại tin nhắc"]
    reply = await user.click("▶️ Nhận lại tin nhắc")
    assert "bật lại" in reply.text
    await tick(rb.sessionmaker, sender, at("2026-05-08"), settings=rb.settings)
    texts = await bot_texts(rb, user)
    assert "chưa làm xong khảo sát" in texts[-1]
    async with rb.sessionmaker() as s:
        invite = await s.scalar(
            select(ScheduledSend).where(
                ScheduledSend.person_id == pid, ScheduledSend.entry_id == "survey_invite"
            )
        )
    assert invite is not None and invite.result == "paused"


async def test_blocked_user_is_marked_unreachable(running_bot: RunningBot) -> None:
    """Blocking the bot → 403 → Person.blocked_at; no further send attempts."""
    rb = running_bot
    sender = Sender(rb.bot, **FAST)
    user, pid = await join(
        rb, 7701, enlistment_month=date(2025, 2, 1), discharge_month=date(2027, 2, 1)
    )
    await user.block()
    first = await tick(rb.sessionmaker, sender, at("2026-05-01"), settings=rb.settings)
    assert first.blocked == 1 and first.failed == 1
    await tick(rb.sessionmaker, sender, at("2026-05-08"), settings=rb.settings)
    calls = await send_calls(rb, user.id)
    assert len(calls) == 2 and calls[-1]["error_code"] == 403  # greeting + one refused try
    async with rb.sessionmaker() as s:
        person = await s.get(Person, pid)
    assert person is not None and person.blocked_at is not None


async def test_home_for_months_when_first_answering(running_bot_any_db: RunningBot) -> None:
    """Discharged 9 months ago, surveyed today: asked at once whether (and since when) they
    are home, then what they do now, and followed up from the date they give."""
    rb = running_bot_any_db
    sender = Sender(rb.bot, **FAST)
    today = utcnow().astimezone(TZ).date()
    discharged = add_months(today.replace(day=1), -9)
    shown = f"{discharged.month:02d}/{discharged.year}"
    enlisted = add_months(discharged, -24)
    user = rb.emu.user(7801, first_name="Toàn", language_code="vi")
    reply = await run_to_trades(
        user, months=(f"{enlisted.month:02d}/{enlisted.year}", shown), name="Hoàng Văn Toàn"
    )
    reply = await user.ask("han dien")
    reply = await user.click(reply.button_texts[0])
    reply = await tap_until_summary(user, await user.click("Xong"))
    await user.click("✅ Xác nhận")
    greeted = len(await user.history())

    tomorrow = at((today + timedelta(days=1)).isoformat(), "10:00")
    await tick(rb.sessionmaker, sender, tomorrow, settings=rb.settings)
    asked = (await user.history())[greeted:]
    assert [m.text for m in asked] == [  # the current stage, and nothing already past
        f"Chào Toàn! Bạn xuất ngũ tháng {shown}. Bạn đã về nhà chưa, về từ khi nào? Bấm một "
        "nút dưới đây nhé."
    ]
    assert asked[0].button_texts == [
        "🏠 Về từ khi xuất ngũ",
        "🏠 Về tháng này",
        "🏠 Về từ tháng trước",
        "⏳ Chưa về",
    ]
    reply = await user.click("🏠 Về từ khi xuất ngũ")
    assert f"Mình ghi là bạn về nhà từ tháng {shown}" in reply.text
    person = await stored_person(rb, 7801)
    assert person is not None and person.return_date == discharged

    await tick(rb.sessionmaker, sender, tomorrow + timedelta(minutes=1), settings=rb.settings)
    now_asked = (await user.history())[-1]
    assert now_asked.text == f"Chào Toàn! Bạn về nhà từ tháng {shown}. Dạo này bạn đang làm gì?"
    reply = await user.click("🔎 Đang tìm việc")
    assert "Cần hỏi" not in reply.text and "cho vay tới 200 triệu đồng" in reply.text
    await tick(rb.sessionmaker, sender, tomorrow + timedelta(days=2), settings=rb.settings)
    assert (await user.history())[-1].message_id == reply.last.message_id  # nothing more now

    a_year_on = add_months(discharged, 12)
    await tick(rb.sessionmaker, sender, at(a_year_on.isoformat()), settings=rb.settings)
    last = (await user.history())[-1].text or ""
    assert last.startswith(f"Chào Toàn! Bạn về nhà từ tháng {shown}.")
    assert "Đây là lần cuối mình hỏi" in last
    async with rb.sessionmaker() as s:
        outcomes = [
            (o.status, o.status_date)
            for o in await s.scalars(
                select(Outcome).where(Outcome.person_id == person.id).order_by(Outcome.id)
            )
        ]
        sent = {
            r.entry_id: r.status
            for r in await s.scalars(
                select(ScheduledSend).where(ScheduledSend.person_id == person.id)
            )
        }
    assert outcomes == [("returned_home", discharged), ("looking", today)]
    assert {e for e, status in sent.items() if status == "sent"} == {
        "home_check_again",
        "status_6m",
        "status_12m",
    }
