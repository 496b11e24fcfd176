"""/card end to end through the emulator (a soldier who finished the survey with the card's
phone and name sees its number, validity, what it pays and a nearby course; in English; without
a card; before consent) and the expiry reminder: once, held in quiet hours, never for a card
redeemed meanwhile."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.alerts.render import money
from bot.cards.rules import shipped_rules
from bot.cards.service import daily_pass
from bot.timeline.dates import add_months
from emulator import EmulatorClient
from storage.models.cards import TrainingCard
from tests.alerts_helpers import (
    TZ,
    add_course,
    add_institution,
    drain,
    local,
    outbox_rows,
    runner,
    start_quiet_bot,
    texts,
    today,
)
from tests.cards_helpers import add_card, get_card, soldier
from tests.conftest import RunningBot
from tests.survey_helpers import stored_person
from tests.test_demo_mode import Demo, demo  # noqa: F401 (the running demo fixture)


@pytest.fixture
async def rb(any_db_url: str, emulator: str) -> AsyncIterator[RunningBot]:
    bot = await start_quiet_bot(any_db_url, emulator)
    try:
        yield bot
    finally:
        await bot.stop()
        await bot.emu.close()


def _cap(lang: str) -> str:
    rules = shipped_rules()
    rule = rules.support_on(today())
    return money(rule.cap_base_salary_months * rules.base_salary_on(today()).amount, lang)


async def _courses(rb: RunningBot) -> None:
    school = await add_institution(rb.sessionmaker)
    await add_course(rb.sessionmaker, school, title="Hàn điện cơ bản")
    await add_course(rb.sessionmaker, school, title="Hàn trung cấp 2 năm", level="trung_cap")


async def test_card_shows_number_validity_amounts_and_a_nearby_course(rb: RunningBot) -> None:
    await _courses(rb)
    issued = today() - timedelta(days=30)
    await add_card(rb.sessionmaker, issue_date=issued)  # before the person talks to the bot
    user = await soldier(rb.emu, 101)
    reply = await user.ask("/card")
    text = reply.text
    until = add_months(issued, 12) - timedelta(days=1)
    assert "QK1-2026-000123" in text
    assert f"Có giá trị đến hết ngày: {until:%d/%m/%Y}" in text
    assert "Trạng thái: còn hiệu lực, chưa sử dụng" in text
    assert "tiền ăn 50.000 đ mỗi ngày học" in text and "tiền đi lại 200.000 đ mỗi khóa" in text
    assert f"Tổng cộng tối đa {_cap('vi')}" in text
    assert "Hàn điện cơ bản · Trường Cao đẳng Nghề Lạng Sơn, khai giảng" in text
    assert "Hàn trung cấp 2 năm" not in text  # not a level the card pays for
    card = await get_card(rb.sessionmaker, "QK1-2026-000123")
    person = await stored_person(rb, 101)
    assert card is not None and person is not None and card.person_id == person.id


async def test_card_in_english(rb: RunningBot) -> None:
    await _courses(rb)
    await add_card(rb.sessionmaker, issue_date=today() - timedelta(days=3))
    user = await soldier(rb.emu, 102, lang="en")
    text = (await user.ask("/card")).text
    assert "Your vocational training card" in text and "Card number: QK1-2026-000123" in text
    assert "meals, VND 50,000 per day of study" in text
    assert f"Up to {_cap('en')} in all" in text
    assert "Courses near you that accept this card:" in text and "Hàn điện cơ bản" in text


async def test_without_a_card_the_person_learns_who_issues_it(rb: RunningBot) -> None:
    await add_card(rb.sessionmaker, issue_date=today())  # Hoàng Văn Minh's, not this soldier's
    user = await soldier(rb.emu, 103, name="Lê Văn Tám")
    text = (await user.ask("/card")).text
    assert "Mình chưa tìm thấy thẻ học nghề của bạn" in text
    assert "đơn vị Quân đội hoặc Công an" in text and "quyết định xuất ngũ" in text
    assert "UBND xã/phường" in text
    card = await get_card(rb.sessionmaker, "QK1-2026-000123")
    assert card is not None and card.person_id is None


async def test_before_consent_nothing_is_looked_up_or_stored(rb: RunningBot) -> None:
    await add_card(rb.sessionmaker, issue_date=today())
    user = rb.emu.user(104, first_name="Minh", language_code="vi")
    reply = await user.ask("/card")
    assert "mình cần họ tên và số điện thoại của bạn trong khảo sát" in reply.text
    assert reply.button_texts == ["📝 Bắt đầu khảo sát"]
    assert await stored_person(rb, 104) is None


async def test_expiry_reminder_once_after_quiet_hours_and_not_for_a_redeemed_card(
    rb: RunningBot,
) -> None:
    soon = add_months(today(), -12) + timedelta(days=10)  # valid until today + 9 days
    await add_card(rb.sessionmaker, issue_date=soon)
    await add_card(rb.sessionmaker, number="USED", holder_name="Lê Văn Tám", issue_date=soon)
    await add_card(rb.sessionmaker, number="LATER", holder_name="Trần Văn Ba", issue_date=soon)
    minh = await soldier(rb.emu, 105)
    tam = await soldier(rb.emu, 106, name="Lê Văn Tám")
    ba = await soldier(rb.emu, 107, name="Trần Văn Ba")
    for u in (minh, tam, ba):
        await u.ask("/card")  # each card is matched to its soldier
    async with rb.sessionmaker() as s:
        used = await s.scalar(select(TrainingCard).where(TrainingCard.number == "USED"))
        assert used is not None and used.person_id is not None
        used.status = "redeemed"
        await s.commit()
    before = {u: len(await texts(u)) for u in (minh, tam, ba)}
    night = local(today(), "22:30")
    async with rb.sessionmaker() as s:
        assert await daily_pass(s, night, TZ) == (0, 2)  # Minh's and Ba's; not the used card
    async with rb.sessionmaker() as s:
        later = await s.scalar(select(TrainingCard).where(TrainingCard.number == "LATER"))
        assert later is not None
        later.status = "redeemed"  # redeemed after the reminder was queued, before it went out
        await s.commit()
    run = runner(rb)
    await drain(run, night)
    assert len(await texts(minh)) == before[minh]  # quiet hours: held
    morning = local(today() + timedelta(days=1), "08:00")
    await drain(run, morning)
    async with rb.sessionmaker() as s:
        assert await daily_pass(s, morning, TZ) == (0, 0)  # never queued twice
    await drain(run, morning + timedelta(hours=1))
    got = (await texts(minh))[before[minh] :]
    assert len(got) == 1 and "QK1-2026-000123" in got[0] and "còn giá trị đến hết ngày" in got[0]
    assert len(await texts(tam)) == before[tam]
    assert len(await texts(ba)) == before[ba]
    rows = await outbox_rows(rb.sessionmaker, "card_expiry")
    assert sorted(status for _, _, status, _ in rows) == ["sent", "skipped"]
    assert [result for _, _, status, result in rows if status == "skipped"] == ["card_redeemed"]


async def test_the_demo_shows_the_sample_card_to_hoang_van_minh(demo: Demo) -> None:  # noqa: F811
    async with EmulatorClient(demo.chat_url) as emu:
        user = await soldier(emu, 777)
        text = (await user.ask("/card")).text
    assert "MẪU-0001" in text and "[MẪU] Ban Chỉ huy Quân sự tỉnh Lạng Sơn" in text
    assert "[MẪU] Hàn điện cơ bản" in text  # a sample course of the card's levels
