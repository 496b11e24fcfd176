"""Groups, bots and senderless updates: nothing crashes, at most one reply in the group, nothing
in anyone's private chat (end to end through the emulator, SQLite and PostgreSQL)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from handlers.callbacks import EraseCb, SurveyCb
from storage.models import FsmRecord, Person
from tests.conftest import RunningBot

LINK_REPLY = "Mình chỉ trò chuyện riêng với từng bạn"


async def _private_calls(rb: RunningBot, user_id: int) -> list[dict[str, object]]:
    """Every Bot API call the bot made towards the person's private chat, failed ones too."""
    return await rb.emu.calls(chat_id=user_id)


async def test_groups_bots_and_senderless_updates(
    running_bot_any_db: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    rb = running_bot_any_db
    caplog.set_level(logging.ERROR)
    username = (await rb.bot.me()).username
    user = rb.emu.user(5101, first_name="Tuấn", language_code="vi")
    await user.ensure()
    cases = 0
    for kind, base in (("group", -5100), ("supergroup", -1_000_000_005_100)):
        # /start, /survey, /reminders: one reply each, in the group, with the private-chat link
        for n, command in enumerate(("/start", "/survey", f"/reminders@{username}")):
            group = rb.emu.group(base - n, kind)
            await group.send(command, user)
            await rb.emu.settle(idle=0.3)
            replies = await group.bot_messages()
            assert len(replies) == 1, (kind, command, replies)
            assert LINK_REPLY in (replies[0].text or "")
            link = replies[0].reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
            assert link["url"] == f"https://t.me/{username}"
            cases += 1
        # a button in the group (ours, or one made to look like ours): a notice, no message
        group = rb.emu.group(base - 3, kind)
        said = await group.send("chào cả nhóm", user)
        for data in (SurveyCb(action="start").pack(), EraseCb(confirm=True).pack()):
            await group.press(user, data, said["message_id"])
        await rb.emu.settle(idle=0.3)
        assert await group.bot_messages() == []
        answers = (await rb.emu.chat(group.id))["callback_answers"]
        assert [a["text"] for a in answers] == ["Bạn nhắn riêng cho mình nhé."] * 2
        cases += 1
    # an update from a bot, and one without a sender: left alone
    group = rb.emu.group(-5200, "supergroup")
    await group.send("/start", 777_000_001)
    await group.send("/survey", None)
    await group.send("/reminders", None)
    await rb.emu.settle(idle=0.3)
    assert await group.bot_messages() == []
    cases += 2
    assert cases == 10
    assert await _private_calls(rb, user.id) == []  # nothing went to the private chat
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    async with rb.sessionmaker() as session:  # and nothing was stored about anyone
        assert await session.scalar(select(func.count()).select_from(Person)) == 0
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0


async def test_english_speakers_are_pointed_to_the_private_chat_in_english(
    running_bot: RunningBot,
) -> None:
    rb = running_bot
    group = rb.emu.group(-5300, "group")
    await group.send("/help", rb.emu.user(5301, first_name="Ann", language_code="en"))
    await rb.emu.settle(idle=0.3)
    (reply,) = await group.bot_messages()
    assert (reply.text or "").startswith("I only talk with each of you in a private chat")
    button = reply.reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
    assert button["text"] == "💬 Message me privately"
