"""The shared Sender: token buckets, the global pause on 429, 403 → blocked callback."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import SendMessage

from bot.sending import Sender


class VirtualTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        """Current virtual time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting."""
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class StubBot:
    """Answers send_message; scripted errors first, then success; logs (time, chat)."""

    time: VirtualTime
    errors: list[Exception] = field(default_factory=list)
    calls: list[tuple[float, int]] = field(default_factory=list)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> Any:
        """Record the call and answer."""
        self.calls.append((self.time.now, chat_id))
        if self.errors:
            raise self.errors.pop(0)

        @dataclass
        class Message:
            message_id: int

        return Message(len(self.calls))


def make(time: VirtualTime, bot: StubBot, **kw: Any) -> Sender:
    """A Sender on virtual time."""
    return Sender(bot, clock=time.clock, sleep=time.sleep, **kw)  # type: ignore[arg-type]


async def test_global_bucket_caps_throughput_at_25_per_second() -> None:
    """A new sender starts with an empty bucket: 100 messages to 100 chats take 100 / 25 = 4
    virtual seconds; after a pause the bucket lets one second's worth go at once."""
    t = VirtualTime()
    bot = StubBot(t)
    sender = make(t, bot)
    results = await asyncio.gather(*(sender.send_text(i, "hi") for i in range(100)))
    assert all(r.ok for r in results)
    assert 3.9 <= t.now <= 4.1
    in_first_second = [c for c in bot.calls if c[0] < 1.0]
    assert len(in_first_second) <= 25  # no burst at start
    await t.sleep(10)  # idle: the bucket fills up to one second's worth
    paused = t.now
    results = await asyncio.gather(*(sender.send_text(1000 + i, "hi") for i in range(50)))
    assert all(r.ok for r in results)
    assert len([c for c in bot.calls if paused <= c[0] < paused + 0.01]) == 25  # the burst
    assert 0.9 <= t.now - paused <= 1.1  # then 25 more in one second


async def test_per_chat_bucket_spaces_messages_to_one_chat() -> None:
    """Three messages to one chat go out a second apart."""
    t = VirtualTime()
    bot = StubBot(t)
    sender = make(t, bot)
    for _ in range(3):
        assert (await sender.send_text(7, "hi")).ok
    times = [at for at, _ in bot.calls]
    assert times[1] - times[0] >= 0.99 and times[2] - times[1] >= 0.99


async def test_429_pauses_every_sender_and_retries() -> None:
    """After retry_after=5 on one message, no chat is served before t=5; the message is resent."""
    t = VirtualTime()
    bot = StubBot(t, errors=[TelegramRetryAfter(SendMessage(chat_id=1, text="x"), "flood", 5)])
    sender = make(t, bot)
    first = await sender.send_text(1, "a")
    other = await sender.send_text(2, "b")
    assert first.ok and other.ok and sender.pauses == 1
    assert bot.calls[0][0] == pytest.approx(0.04)  # one token: 1/25 s after the start
    assert all(at >= 5.0 for at, _ in bot.calls[1:])
    assert [chat for _, chat in bot.calls] == [1, 1, 2]


async def test_403_reports_blocked_and_is_not_retried() -> None:
    """A blocked chat: result blocked, callback called once, one API call."""
    t = VirtualTime()
    blocked: list[int] = []

    async def on_blocked(chat_id: int) -> None:
        blocked.append(chat_id)

    forbidden = TelegramForbiddenError(SendMessage(chat_id=9, text="x"), "bot was blocked")
    bot = StubBot(t, errors=[forbidden])
    result = await make(t, bot, on_blocked=on_blocked).send_text(9, "hi")
    assert result.blocked and not result.ok
    assert blocked == [9] and len(bot.calls) == 1


async def test_endless_429_gives_up_after_max_retries() -> None:
    """A message answered 429 every time fails after max_retries + 1 tries."""
    t = VirtualTime()
    errors: list[Exception] = [
        TelegramRetryAfter(SendMessage(chat_id=1, text="x"), "flood", 1) for _ in range(10)
    ]
    bot = StubBot(t, errors=errors)
    result = await make(t, bot, max_retries=2).send_text(1, "hi")
    assert not result.ok and result.error == "too many 429 answers"
    assert len(bot.calls) == 3
