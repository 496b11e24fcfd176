"""The one sender every unprompted message goes through (reminders and the outbox).

It keeps Telegram's limits for the whole process: a global token bucket (``SEND_RATE``, 25
messages/s by default, up to one second's worth at once after a pause; empty when the sender
starts), a bucket per chat (1 message/s) and a few calls in flight at most. Everything sent
unprompted goes through the one sender of the process that holds the sending job.
Replies to people talking to the bot do not go through it, so a broadcast never delays them.
A 429 answer pauses *every* send for ``retry_after`` seconds; a 403 (the person blocked the bot)
is reported through ``on_blocked``.

Every answer is classified (:class:`SendResult` ``status``): ``sent``; ``blocked`` (403);
``not_found`` (400 chat not found); ``failed`` (another 4xx: never delivered); ``unknown``
(timeout, 5xx, an answer that cannot be decoded: the message may have arrived); ``retry`` (429).

A caller that must know whether a message may have gone out (the journal of
``bot/delivery.py``) passes ``before_call``: it is awaited once the limits let the message go,
right before the Bot API call, and returning False cancels the send (nothing is sent). Such a
caller makes one call per ``before_call`` and gets a 429 back as ``retry`` (after the pause was
set) to put its row back; without ``before_call`` a 429 is retried here.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup

from bot import metrics

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]
BlockedCallback = Callable[[int], Awaitable[None]]
BeforeCall = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class SendResult:
    """What happened to one message (``status``, see the module docstring)."""

    ok: bool
    message_id: int | None = None
    blocked: bool = False
    error: str | None = None
    status: str = ""

    def __post_init__(self) -> None:
        if not self.status:  # results built by hand (tests) say only ok/blocked
            status = "sent" if self.ok else "blocked" if self.blocked else "failed"
            object.__setattr__(self, "status", status)


NOT_SENT = SendResult(ok=False, error="cancelled before the call", status="cancelled")
IN_FLIGHT = 5


def in_flight_for(rate: float) -> int:
    """Calls at once that keep ``rate`` messages/s going with a slow 0.4 s round trip (10 at
    25/s): a few, so a crash leaves few sends of unknown result."""
    return max(IN_FLIGHT, math.ceil(rate * 0.4))


def _error_result(exc: Exception) -> SendResult:
    """The status of a failed call: only a definite refusal says the message did not arrive."""
    text = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"[:64]
    if isinstance(exc, TelegramForbiddenError):
        return SendResult(ok=False, blocked=True, error=text, status="blocked")
    if isinstance(exc, TelegramBadRequest) and "chat not found" in exc.message.lower():
        return SendResult(ok=False, error=text, status="not_found")
    if isinstance(exc, (TelegramServerError, TelegramNetworkError, ClientDecodeError)):
        return SendResult(ok=False, error=text, status="unknown")
    if isinstance(exc, TelegramAPIError) and type(exc) is not TelegramAPIError:
        return SendResult(ok=False, error=text, status="failed")  # a 4xx: refused
    return SendResult(ok=False, error=text, status="unknown")  # an unclassified answer


class SenderProtocol(Protocol):
    """What the scheduler needs from a sender (tests pass a fake that records)."""

    async def send_text(
        self,
        chat_id: int,
        text: str,
        reply_markup: InlineKeyboardMarkup | None = None,
        *,
        before_call: BeforeCall | None = None,
    ) -> SendResult: ...


class TokenBucket:
    """A token bucket refilled continuously at ``rate`` tokens per second up to ``capacity``."""

    __slots__ = ("capacity", "clock", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, clock: Clock, *, full: bool = True) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity if full else 0.0
        self.clock = clock
        self.stamp = clock()

    def wait_time(self) -> float:
        """Seconds until one token is there (0 when one is there now)."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 - 1e-9 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        """Use one token (only after ``wait_time() == 0``)."""
        self.tokens -= 1.0


class Sender:
    """Rate-limited sending through an aiogram ``Bot``, shared by everything that sends."""

    def __init__(
        self,
        bot: Bot,
        *,
        global_rate: float = 25.0,
        per_chat_rate: float = 1.0,
        per_chat_burst: float = 1.0,
        on_blocked: BlockedCallback | None = None,
        max_retries: int = 3,
        in_flight: int = IN_FLIGHT,
        parse_mode: str = "HTML",
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.on_blocked = on_blocked
        self.max_retries = max_retries
        self.parse_mode = parse_mode
        self._clock = clock
        self._sleep = sleep
        # empty at first: a sender taking over from one that just died (bot/singleton.py) adds
        # no burst to what the dead one sent (tests/test_production_layout.py)
        self._global = TokenBucket(global_rate, max(1.0, global_rate), clock, full=False)
        self._per_chat_rate = per_chat_rate
        self._per_chat_burst = per_chat_burst
        self._chats: dict[int, TokenBucket] = {}
        self._paused_until = 0.0
        self._in_flight = asyncio.Semaphore(in_flight)
        self.pauses = 0  # how many 429 answers paused the sender (for logs and tests)

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        """The bucket of one chat; idle full buckets are forgotten when there are many."""
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:
                self._forget_idle()
            bucket = TokenBucket(self._per_chat_rate, self._per_chat_burst, self._clock)
            self._chats[chat_id] = bucket
        return bucket

    def _forget_idle(self) -> None:
        """Drop buckets untouched long enough to be full again."""
        horizon = self._clock() - self._per_chat_burst / self._per_chat_rate
        self._chats = {k: b for k, b in self._chats.items() if b.stamp > horizon}

    async def wait_turn(self, chat_id: int) -> None:
        """Wait until the global pause is over and both buckets have a token, then take them."""
        while True:
            pause = self._paused_until - self._clock()
            chat = self._chat_bucket(chat_id)
            wait = max(pause, self._global.wait_time(), chat.wait_time())
            if wait <= 0:
                self._global.take()
                chat.take()
                return
            await self._sleep(max(wait, 0.001))

    def pause(self, seconds: float) -> None:
        """Stop every send for ``seconds`` (a 429 answer)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self.pauses += 1

    async def send(
        self,
        chat_id: int,
        call: Callable[[], Awaitable[Any]],
        *,
        before_call: BeforeCall | None = None,
    ) -> SendResult:
        """Run one Bot API call for ``chat_id`` under the limits (any kind of message)."""
        for _ in range(self.max_retries + 1):
            async with self._in_flight:
                await self.wait_turn(chat_id)
                if before_call is not None and not await before_call():
                    return NOT_SENT
                result = await self._call(chat_id, call)
            if result.status != "retry" or before_call is not None:
                return result
        return SendResult(ok=False, error="too many 429 answers", status="failed")

    async def _call(self, chat_id: int, call: Callable[[], Awaitable[Any]]) -> SendResult:
        """One call and its classified answer."""
        try:
            message = await call()
        except TelegramRetryAfter as exc:
            log.warning("429 from Telegram: every sender waits %ss", exc.retry_after)
            metrics.RATE_LIMITED.inc()
            self.pause(float(exc.retry_after))
            return SendResult(ok=False, error="429", status="retry")
        except (TelegramAPIError, ClientDecodeError) as exc:  # network errors included
            result = _error_result(exc)
            if result.blocked and self.on_blocked is not None:
                await self.on_blocked(chat_id)
            return result
        return SendResult(ok=True, message_id=getattr(message, "message_id", None), status="sent")

    async def send_text(
        self,
        chat_id: int,
        text: str,
        reply_markup: InlineKeyboardMarkup | None = None,
        *,
        before_call: BeforeCall | None = None,
    ) -> SendResult:
        """Send one HTML text message with optional inline buttons."""
        return await self.send(
            chat_id,
            lambda: self.bot.send_message(
                chat_id, text, parse_mode=self.parse_mode, reply_markup=reply_markup
            ),
            before_call=before_call,
        )
