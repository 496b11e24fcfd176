"""Scripted answers for end-to-end survey tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from emulator import EmulatedUser, Reply
from storage import people as repo
from storage.models import Answer, Person, TradePreference
from tests.conftest import RunningBot


async def start_survey(user: EmulatedUser, consent: str = "Đồng ý tất cả") -> Reply:
    """/survey, then consent; returns the first question."""
    reply = await user.ask("/survey")
    assert reply.button_texts, f"no consent buttons in {reply}"
    return await user.click(consent)


async def tap_first(user: EmulatedUser, reply: Reply) -> Reply:
    """Tap the first button of the latest question."""
    return await user.click(reply.button_texts[0])


async def run_to_trades(
    user: EmulatedUser,
    *,
    name: str = "Nguyễn Văn Ánh",
    months: tuple[str, str] = ("03/2024", "3/2026"),
) -> Reply:
    """Answer everything up to the trade question with typical Vietnamese answers
    (``months``: enlistment and discharge as typed)."""
    await start_survey(user)
    await user.ask(name)
    reply = await user.ask("0912 345 678")
    assert "Câu 3/14" in reply.text, reply
    reply = await user.click("Quân đội")
    reply = await user.ask(months[0])
    reply = await user.ask(months[1])
    assert "Câu 6/14" in reply.text, reply
    reply = await user.ask("tam thanh")
    assert "Câu 7/14" in reply.text, reply
    reply = await tap_first(user, reply)
    assert "Câu 8/14" in reply.text, reply
    return reply


async def tap_until_summary(user: EmulatedUser, reply: Reply, *, until: str = "") -> Reply:
    """Tap the first option of every remaining question until the summary shows (or, with
    ``until``, a message containing that text)."""
    for _ in range(12):
        if until and until in (reply.last.text or ""):
            return reply
        if any("Xác nhận" in b or "Confirm" in b for b in reply.button_texts):
            return reply
        assert reply.button_texts, f"expected buttons, got {reply}"
        reply = await user.click(reply.button_texts[0])
    raise AssertionError(f"never reached the summary: {reply}")


async def stored_answers(rb: RunningBot, user_id: int) -> dict[str, Any]:
    async with rb.sessionmaker() as session:
        person = await repo.get_person(session, telegram_user_id=user_id)
        assert person is not None
        rows = await session.execute(
            select(Answer.question_id, Answer.value)
            .join(Answer.response)
            .where(Answer.response.has(person_id=person.id))
        )
        return dict(rows.all())


async def stored_person(rb: RunningBot, user_id: int) -> Person | None:
    async with rb.sessionmaker() as session:
        return await repo.get_person(session, telegram_user_id=user_id)


async def stored_trades(rb: RunningBot, user_id: int) -> list[tuple[int, str, str | None, str]]:
    async with rb.sessionmaker() as session:
        person = await repo.get_person(session, telegram_user_id=user_id)
        assert person is not None
        rows = await session.execute(
            select(
                TradePreference.rank,
                TradePreference.trade_code,
                TradePreference.raw_text,
                TradePreference.source,
            )
            .where(TradePreference.person_id == person.id)
            .order_by(TradePreference.rank)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]
