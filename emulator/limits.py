"""Token-bucket flood limits that mimic Telegram's 429 "Too Many Requests" answers."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimits:
    """Flood-limit settings: a global bucket per bot and one bucket per chat."""

    enabled: bool = True
    per_chat_capacity: float = 3.0
    per_chat_rate: float = 1.0
    global_capacity: float = 30.0
    global_rate: float = 30.0

    @classmethod
    def off(cls) -> RateLimits:
        """Limits switched off (demo mode, benchmarks)."""
        return cls(enabled=False)


class TokenBucket:
    """A classic token bucket refilled continuously at ``rate`` tokens per second."""

    __slots__ = ("_clock", "_stamp", "capacity", "rate", "tokens")

    def __init__(
        self, capacity: float, rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self._clock = clock
        self._stamp = clock()

    def _refill(self) -> None:
        """Add the tokens earned since the last look."""
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill()
        if self.tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        """Consume one token (call only after ``wait_time() == 0``)."""
        self.tokens -= 1.0


class RateLimiter:
    """Per-bot limiter: one global bucket plus a bucket for every chat."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._global = TokenBucket(limits.global_capacity, limits.global_rate, clock)
        self._chats: dict[int, TokenBucket] = {}

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        """The bucket of one chat, created full on first use."""
        bucket = self._chats.get(chat_id)
        if bucket is None:
            limits = self.limits
            bucket = TokenBucket(limits.per_chat_capacity, limits.per_chat_rate, self._clock)
            self._chats[chat_id] = bucket
        return bucket

    def acquire(self, chat_id: int) -> int | None:
        """Take a token for ``chat_id``; return None if allowed, else retry_after seconds."""
        if not self.limits.enabled:
            return None
        chat_bucket = self._chat_bucket(chat_id)
        wait = max(self._global.wait_time(), chat_bucket.wait_time())
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.take()
        chat_bucket.take()
        return None
