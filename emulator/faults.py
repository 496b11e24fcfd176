"""Failures on demand for the sending methods (sendMessage, sendPhoto, sendDocument), so a bot
can be tested against what Telegram does on a bad day.

- ``rate``: the share of send calls that fail, each with one of ``kinds`` (random with ``seed``):
  ``502_before`` (a proxy's HTML 502 page; nothing stored), ``502_after`` (the message reached
  the chat, then the answer was lost as an HTML 502), ``500_after`` (stored, then a JSON 500),
  ``garbage_after`` (stored, then a 200 whose body is not JSON).
- a 429 storm: until ``storm_until`` (monotonic time) every send is answered 429 with
  ``storm_retry_after``.
- ``chats``: only sends to these chats fail (None: any chat), e.g. a broadcast's recipients
  while a benchmark times the replies of someone else.

Rate limits (``limits.py``) apply as well; faults are checked first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Container
from dataclasses import dataclass, field

# each kind and the HTTP status of its answer
CODES = {"502_before": 502, "502_after": 502, "500_after": 500, "garbage_after": 200}
KINDS = tuple(CODES)
SENDING = frozenset({"sendmessage", "sendphoto", "senddocument"})
BAD_GATEWAY = "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"


@dataclass
class Faults:
    """What to break, and counts of what was broken."""

    rate: float = 0.0
    kinds: tuple[str, ...] = KINDS
    seed: int | None = None
    storm_until: float = 0.0
    storm_retry_after: int = 1
    chats: Container[int] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds or not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"faults: rate 0..1 and kinds among {', '.join(KINDS)}")
        self._rng = random.Random(self.seed)

    def storm(self, seconds: float, retry_after: int = 1) -> None:
        """Answer every send 429 for the next ``seconds``."""
        self.storm_until = time.monotonic() + seconds
        self.storm_retry_after = retry_after

    def storming(self) -> int | None:
        """retry_after while a storm lasts, else None."""
        return self.storm_retry_after if time.monotonic() < self.storm_until else None

    def pick(self, chat_id: int | None) -> str | None:
        """The fault of this call to ``chat_id``, or None (the call goes through)."""
        if self.chats is not None and chat_id not in self.chats:
            return None
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(self.kinds)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return kind
