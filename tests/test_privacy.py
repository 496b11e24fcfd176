"""/privacy says what the consent screen says; /sharing withdraws (or gives) sharing alone."""

from __future__ import annotations

from sqlalchemy import select

from bot.reporting.preferences import ExportFilter, iter_preference_rows
from storage.models.admin import AuditEntry
from tests.conftest import RunningBot
from tests.survey_helpers import start_survey, stored_answers, stored_person


async def test_privacy_says_what_the_consent_screen_says(running_bot: RunningBot) -> None:
    for uid, lang, needles in (
        (
            3201,
            "vi",
            (
                "Quân đội, Công an hay Bộ đội Biên phòng",
                "vay vốn",
                "có muốn cán bộ gọi điện",
                "Ai được xem",
                "đến hết 5 năm sau khi bạn xuất ngũ",
                "Sửa thông tin:</b> gõ /survey",
                "gõ /sharing",
                "gõ /delete_me",
                "Cần hỏi:</b> liên hệ Công an hoặc Ban Chỉ huy quân sự xã/phường",
            ),
        ),
        (
            3202,
            "en",
            (
                "Army, Police or Border Guard",
                "loans",
                "want an officer to call you",
                "Who sees it",
                "until 5 years after your discharge",
                "To correct it:</b> type /survey",
                "type /sharing",
                "type /delete_me",
                "Questions:</b> ask the police or the military command",
            ),
        ),
    ):
        user = running_bot.emu.user(uid, first_name="Minh", language_code=lang)
        privacy = (await user.ask("/privacy")).last
        consent = (await user.ask("/survey")).last
        assert privacy.html and consent.html and privacy.html in consent.html
        for needle in needles:
            assert needle in privacy.html, (lang, needle)
        assert len(consent.button_texts) == 3  # and the consent screen asks


async def test_sharing_alone_can_be_withdrawn_and_given_again(
    running_bot_any_db: RunningBot,
) -> None:
    rb = running_bot_any_db
    user = rb.emu.user(3203, first_name="Lan", language_code="vi")
    reply = await user.ask("/sharing")
    assert "Mình chưa lưu thông tin nào của bạn" in reply.text and not reply.button_texts
    await start_survey(user)
    await user.ask("Lò Thị Lan")

    async def institutions_see() -> bool:
        async with rb.sessionmaker() as session:
            flt = ExportFilter(tz=rb.settings.tz, completed_only=False, consent_sharing_only=True)
            return [row async for row in iter_preference_rows(session, flt)] != []

    assert await institutions_see()
    reply = await user.ask("/sharing")
    assert "Bạn đang đồng ý chia sẻ" in reply.text
    (label, data), message_id = reply.last.buttons[0][0], reply.last.message_id
    assert label == "Thôi chia sẻ với trường và Trung tâm"
    reply = await user.click(label)
    assert reply.last.text and reply.last.text.startswith("Đã thôi chia sẻ")
    assert reply.last.buttons == [] and reply.last.edited
    # a second tap that was already on its way changes and says nothing more
    seen = len(await user.history())
    await user.press(callback_data=data, message_id=message_id, force=True)
    assert (await user.expect_reply()).toast is None
    assert len(await user.history()) == seen
    person = await stored_person(rb, 3203)
    assert person is not None and person.consent_sharing is False
    assert person.consent_at is not None and person.full_name == "Lò Thị Lan"  # nothing else
    assert (await stored_answers(rb, 3203))["consent"] == "counselling_only"
    assert not await institutions_see()
    # the survey goes on where it was
    reply = await user.ask("0912345678")
    assert "Câu 3/14" in reply.text

    reply = await user.ask("/sharing")
    assert "Bạn đang chọn chỉ nhận tư vấn" in reply.text
    reply = await user.click("Cho trường và Trung tâm liên hệ tôi")
    assert reply.last.text and reply.last.text.startswith("Đã bật chia sẻ")
    assert (await stored_answers(rb, 3203))["consent"] == "all"
    assert await institutions_see()
    async with rb.sessionmaker() as session:
        audited = (
            await session.execute(
                select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail).order_by(
                    AuditEntry.id
                )
            )
        ).all()
    assert [(a, b, d["sharing"]) for a, b, d in audited] == [
        ("bot", "consent.sharing", False),
        ("bot", "consent.sharing", True),
    ]
