"""/ask end to end: the bot (with its admin backend) against the Bot API emulator, on SQLite and
PostgreSQL. The FAQ answers first; otherwise the question reaches the inbox of the counsellors of
the asker's commune (and their Telegram group), and a reply from the admin page or from the group
reaches the person once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from admin.accounts import create_user
from bot.app import BotApp
from bot.questions import MAX_OPEN
from emulator import EmulatedUser, EmulatorClient, EmulatorTimeout
from emulator.client.group import EmulatedGroup
from storage import questions as repo
from storage.models import FsmRecord, Person
from storage.models.admin import AuditEntry
from storage.models.questions import Question
from tests.admin_helpers import PASSWORD, csrf_of, post_login
from tests.conftest import make_settings
from tests.factories import make_person
from tests.survey_helpers import start_survey

TAM_THANH, KY_LUA = "5986", "6187"
GROUP_ID = -1001234567890
NOT_IN_FAQ = "Khi nào xã mình mở lớp dạy lái máy xúc vậy ạ?"


@dataclass
class Stack:
    app: BotApp
    emu: EmulatorClient
    group: EmulatedGroup
    admin_url: str

    async def person(self, user_id: int, commune: str | None, language: str = "vi") -> None:
        """A person who answered the survey's consent (and commune) question."""
        assert self.app.sessionmaker is not None
        async with self.app.sessionmaker() as s:
            await make_person(
                s, telegram_user_id=user_id, commune_code=commune, trades=(), language=language
            )
            await s.commit()

    async def account(self, name: str, role: str, communes: tuple[str, ...] = ()) -> None:
        assert self.app.sessionmaker is not None
        async with self.app.sessionmaker() as s:
            await create_user(s, name, PASSWORD, role, communes)
            await s.commit()

    async def login(self, name: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.admin_url)
        resp = await post_login(client, name, PASSWORD)
        assert resp.status_code == 303, resp.text
        return client

    async def questions(self) -> list[Question]:
        assert self.app.sessionmaker is not None
        async with self.app.sessionmaker() as s:
            return list((await s.scalars(select(Question).order_by(Question.id))).all())

    async def audit_actions(self) -> list[tuple[str, str]]:
        assert self.app.sessionmaker is not None
        async with self.app.sessionmaker() as s:
            rows = await s.execute(select(AuditEntry.actor, AuditEntry.action))
            return [(a, b) for a, b in rows.all() if b.startswith("question.")]


@pytest.fixture
async def stack(any_db_url: str, emulator: str) -> AsyncIterator[Stack]:
    """The bot, its scheduler off, its admin backend on, the counsellors' group set."""
    settings = make_settings(any_db_url, emulator, counsellor_chat_id=GROUP_ID)
    app = BotApp(settings, with_admin=True, with_scheduler=False)
    emu = EmulatorClient(emulator)
    group = emu.group(GROUP_ID, "supergroup", "Cán bộ tư vấn")
    await group.create()
    await app.start()
    try:
        yield Stack(app, emu, group, f"http://127.0.0.1:{settings.admin_port}")
    finally:
        await app.stop()
        await emu.close()


async def _reply_from_admin(
    client: httpx.AsyncClient, question_id: int, text: str
) -> httpx.Response:
    page = await client.get("/questions")
    return await client.post(
        f"/questions/{question_id}/reply", data={"csrf_token": csrf_of(page.text), "text": text}
    )


async def _answers_received(user: EmulatedUser) -> list[str]:
    return [m.text or "" for m in await user.history() if "Cán bộ đã trả lời" in (m.text or "")]


async def test_faq_answer_offered_and_yes_keeps_nothing(stack: Stack) -> None:
    await stack.person(3001, TAM_THANH)
    user = stack.emu.user(3001, first_name="An")
    reply = await user.ask("/ask")
    assert "Bạn muốn hỏi gì?" in reply.text and "phường Tam Thanh" in reply.text
    reply = await user.ask("Học nghề có được hỗ trợ tiền không ạ?")
    assert "Hỗ trợ học nghề" in reply.text and "50.000 đồng/người/ngày" in reply.text
    assert "Câu trả lời này có giúp bạn không?" in reply.text
    assert reply.button_texts == ["✅ Có, cảm ơn", "✉️ Không, gửi cho cán bộ"]
    offer = reply.last.message_id
    reply = await user.click("✅ Có, cảm ơn")
    assert "Rất vui" in reply.text
    assert await stack.questions() == []
    assert stack.app.sessionmaker is not None
    async with stack.app.sessionmaker() as s:  # the typed question is not kept anywhere
        fsm = (await s.scalars(select(FsmRecord))).all()
    assert all("hỗ trợ tiền" not in str(r.data) and r.state is None for r in fsm)
    # the buttons are gone; an old "no" pressed anyway is stale: nothing goes to a counsellor
    await user.press(callback_data="ask:no", message_id=offer, force=True)
    await user.expect_reply()
    answers = await user.callback_answers()
    assert "đã cũ" in (answers[-1]["text"] or "")
    assert await stack.questions() == []
    with pytest.raises(EmulatorTimeout):
        await stack.group.wait_bot_messages(1, timeout=0.5)


async def test_question_reaches_its_communes_counsellor_who_replies_in_the_admin(
    stack: Stack,
) -> None:
    await stack.person(3002, TAM_THANH)
    await stack.account("tuvan_tt", "counsellor", (TAM_THANH,))
    await stack.account("tuvan_kl", "counsellor", (KY_LUA,))
    await stack.account("xa_kl", "commune", (KY_LUA,))
    user = stack.emu.user(3002, first_name="Bình")
    await user.ask("/ask")
    reply = await user.ask(NOT_IN_FAQ)
    [question] = await stack.questions()
    assert f"Đã gửi câu hỏi số {question.id} tới cán bộ của phường Tam Thanh" in reply.text
    assert question.text == NOT_IN_FAQ and question.answered_at is None
    assert question.faq_declined is None

    # another commune's counsellor and officer neither see it nor can answer it
    for name in ("tuvan_kl", "xa_kl"):
        other = await stack.login(name)
        page = await other.get("/questions")
        assert page.status_code == 200 and NOT_IN_FAQ not in page.text
        assert (await _reply_from_admin(other, question.id, "Trả lời nhầm")).status_code == 404
        await other.aclose()

    mine = await stack.login("tuvan_tt")
    page = await mine.get("/questions")
    assert NOT_IN_FAQ in page.text and "Phường Tam Thanh" in page.text
    resp = await _reply_from_admin(
        mine, question.id, "Tháng 10 có lớp ở xã Tuấn Sơn, <b>bạn</b> nhé."
    )
    assert resp.status_code == 303
    message = (await user.wait_messages(2))[-1]  # after the confirmation that it was sent
    assert message.text is not None and "Cán bộ đã trả lời câu hỏi của bạn" in message.text
    assert "Tháng 10 có lớp ở xã Tuấn Sơn, <b>bạn</b> nhé." in message.text  # shown as typed
    assert NOT_IN_FAQ in message.text
    [question] = await stack.questions()
    assert question.reply_status == "sent" and question.answered_by == "tuvan_tt"
    # a second reply (a double click, a colleague) is refused: the person gets one answer
    resp = await _reply_from_admin(mine, question.id, "Lần nữa")
    assert resp.status_code == 409
    await stack.emu.settle()
    assert len(await _answers_received(user)) == 1
    page = await mine.get("/questions?show=answered")
    assert "Tháng 10 có lớp" in page.text and "tuvan_tt" in page.text
    await mine.aclose()
    assert await stack.audit_actions() == [
        ("bot", "question.asked"),
        ("user:tuvan_tt", "question.answered"),
    ]


async def test_group_gets_the_question_and_a_reply_in_the_group_answers(stack: Stack) -> None:
    await stack.person(3003, KY_LUA, language="en")
    user = stack.emu.user(3003, first_name="Chi", language_code="en")
    await user.ask("/ask")
    reply = await user.ask("Can I get a loan to start a business?")
    assert "Loans to create a job or a business" in reply.text and "200 million" in reply.text
    assert "Did this answer help you?" in reply.text
    reply = await user.click("✉️ No, send it to an officer")
    [question] = await stack.questions()
    assert question.faq_declined == "job_loan"
    assert (
        f"Question no. {question.id} has been sent to the officers of phường Kỳ Lừa" in reply.text
    )

    [copy] = await stack.group.wait_bot_messages(1)
    assert copy.text is not None
    assert f"Câu hỏi số {question.id}" in copy.text and "phường Kỳ Lừa" in copy.text
    assert "Can I get a loan to start a business?" in copy.text
    assert "«Vay vốn tạo việc làm»" in copy.text  # the FAQ answer that did not help
    [question] = await stack.questions()
    assert (question.group_chat_id, question.group_message_id) == (GROUP_ID, copy.message_id)

    # talk in the group that replies to nothing is left alone; a command gets the private link
    lan = stack.emu.user(777, first_name="Cán bộ Lan")
    await stack.group.send("Ai trực hôm nay?", lan)
    with pytest.raises(EmulatorTimeout):
        await stack.group.wait_bot_messages(1, timeout=0.5)
    await stack.group.send("/ask", lan)
    [said] = await stack.group.wait_bot_messages(1)
    assert "Mình chỉ trò chuyện riêng với từng bạn" in (said.text or "")
    # another bot replying to the copy answers no one
    await stack.group.send("Translated: a loan?", 777_000_002, reply_to=copy.message_id)
    with pytest.raises(EmulatorTimeout):
        await stack.group.wait_bot_messages(1, timeout=0.5)
    # an empty answer is refused with a reason, nothing reaches the person
    await stack.group.send("???", lan, reply_to=copy.message_id)
    [said] = await stack.group.wait_bot_messages(1)
    assert "Câu trả lời phải có chữ" in (said.text or "")
    # the reply itself
    await stack.group.send(
        "Bạn mang CCCD ra Ngân hàng Chính sách xã hội nhé.", lan, reply_to=copy.message_id
    )
    [said] = await stack.group.wait_bot_messages(1)
    assert f"Đã gửi câu trả lời cho câu hỏi số {question.id}" in (said.text or "")
    message = (await user.wait_messages(2))[-1]  # after the confirmation that it was sent
    assert message.text is not None and "An officer answered your question" in message.text
    assert "Bạn mang CCCD ra Ngân hàng Chính sách xã hội nhé." in message.text
    # replying again changes nothing
    await stack.group.send("Nhắc lại", lan, reply_to=copy.message_id)
    [said] = await stack.group.wait_bot_messages(1)
    assert "đã được trả lời rồi" in (said.text or "")
    await stack.emu.settle()
    assert len([m for m in await user.history() if "An officer answered" in (m.text or "")]) == 1
    [question] = await stack.questions()
    assert question.reply_status == "sent" and question.answered_by == "Cán bộ Lan (Telegram)"
    assert (await stack.audit_actions())[-1] == ("tg:777", "question.answered")


async def test_bad_input_is_explained_and_asked_again(stack: Stack) -> None:
    # no consent yet: the FAQ still answers, a question for a person is not stored
    newcomer = stack.emu.user(3004, first_name="Dũng")
    await newcomer.ask("/start qr_unit_7")  # the source waits in the conversation
    reply = await newcomer.ask("/ask")
    assert "Lưu ý" in reply.text and "/survey" in reply.text
    reply = await newcomer.ask(NOT_IN_FAQ)
    assert "chưa đồng ý cho lưu thông tin" in reply.text
    await newcomer.ask("/ask")
    reply = await newcomer.ask("Thẻ học nghề dùng thế nào?")
    assert "Thẻ học nghề" in reply.text  # the FAQ answers without consent...
    assert stack.app.sessionmaker is not None
    async with stack.app.sessionmaker() as s:  # ... and keeps nothing of the question
        fsm = (await s.scalars(select(FsmRecord))).all()
    assert fsm and all("dùng thế nào" not in str(r.data) for r in fsm)
    reply = await newcomer.click("✉️ Không, gửi cho cán bộ")
    assert "chưa đồng ý cho lưu thông tin" in reply.text
    assert await stack.questions() == []
    async with stack.app.sessionmaker() as s:  # no people row before consent
        assert await s.scalar(select(func.count()).select_from(Person)) == 0

    # consent given through the survey: now it is stored (no commune yet: the province's inbox)
    await start_survey(newcomer)
    await newcomer.ask("/ask")
    await newcomer.send_sticker()
    reply = await newcomer.expect_reply()
    assert "chỉ nhận câu hỏi bằng chữ" in reply.text
    reply = await newcomer.ask("???")
    assert "Câu hỏi đang trống" in reply.text
    reply = await newcomer.ask("x" * 5000)
    assert "Câu hỏi dài 5.000 ký tự, quá giới hạn 1.000 ký tự" in reply.text
    reply = await newcomer.ask(NOT_IN_FAQ)  # still asked for: the question is taken now
    assert "tới cán bộ của tỉnh" in reply.text
    [question] = await stack.questions()
    assert question.text == NOT_IN_FAQ

    # the province's counsellor sees a question without a commune; a commune officer does not
    await stack.account("tinh", "counsellor")
    await stack.account("xa_tt", "commune", (TAM_THANH,))
    province = await stack.login("tinh")
    assert NOT_IN_FAQ in (await province.get("/questions")).text
    commune = await stack.login("xa_tt")
    assert NOT_IN_FAQ not in (await commune.get("/questions")).text
    # a bad reply in the admin is a 400 that keeps what was typed
    resp = await _reply_from_admin(province, question.id, "   ")
    assert resp.status_code == 400 and "Bạn chưa viết câu trả lời." in resp.text
    resp = await _reply_from_admin(province, question.id, "y" * 3001)
    assert resp.status_code == 400 and "y" * 3001 in resp.text
    await province.aclose()
    await commune.aclose()

    # at most MAX_OPEN open questions per person
    assert stack.app.sessionmaker is not None
    async with stack.app.sessionmaker() as s:
        person = await s.scalar(select(Person).where(Person.telegram_user_id == 3004))
        assert person is not None and person.source == "qr_unit_7"  # /ask kept it
        for i in range(MAX_OPEN - 1):
            await repo.add_question(s, person_id=person.id, text=f"q{i}", faq_declined=None)
        await s.commit()
    await newcomer.ask("/ask")
    reply = await newcomer.ask("Một câu hỏi nữa về lớp học lái máy xúc")
    assert f"đang có {MAX_OPEN} câu hỏi chờ" in reply.text
    async with stack.app.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Question)) == MAX_OPEN


async def test_ask_button_under_start_and_help(stack: Stack) -> None:
    user = stack.emu.user(3005, first_name="Em", language_code="vi")
    reply = await user.ask("/start")
    assert "💬 Hỏi cán bộ" in reply.button_texts
    reply = await user.click("💬 Hỏi cán bộ")
    assert "Bạn muốn hỏi gì?" in reply.text
    reply = await user.ask("/help")
    assert "/ask" in reply.text and reply.button_texts == ["💬 Hỏi cán bộ"]
