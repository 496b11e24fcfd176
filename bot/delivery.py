"""The driver of the one send state machine (statements in ``storage/delivery.py``), used by
the reminder scheduler (``bot/timeline/tick.py``) and the outbox (``bot/broadcasts/runner.py``).

A claimed row is sent by :func:`send_journaled`: once the sender's limits let it go, the row is
marked 'sending' and that mark is committed; then the Bot API call; then its status is committed
(``sent``, ``blocked``, ``not_found``, ``failed`` or ``unknown``). A 429 puts the row back to
'claimed' (committed) and it is tried again once the sender's pause is over. Sends of one batch
run side by side: :class:`Journal` writes what they queued meanwhile in one commit.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.sending import BeforeCall, SendResult
from storage import delivery
from storage.models.base import utcnow

SendOnce = Callable[[BeforeCall], Awaitable[SendResult]]


@dataclass(frozen=True)
class Outcome:
    """The final status of one row that was tried."""

    row_id: int
    person_id: int
    status: str
    result: str | None


def outcome_of(row_id: int, person_id: int, sent: SendResult) -> Outcome:
    """The row's final status from the send result."""
    if sent.ok:
        return Outcome(row_id, person_id, "sent", f"message:{sent.message_id}")
    reason = "blocked" if sent.status == "blocked" else (sent.error or "error")[:64]
    return Outcome(row_id, person_id, sent.status, reason)


class Journal:
    """Commits the marks, put-backs and results of one claimed batch of ``table``.

    ``now``: the time written as ``sent_at`` (the scheduler's pass time), or None for the clock.
    """

    def __init__(
        self, session: AsyncSession, table: Any, token: str, now: datetime | None = None
    ) -> None:
        self.session = session
        self.table = table
        self.token = token
        self.now = now
        self.statuses: Counter[str] = Counter()  # final statuses written
        self.newly_blocked = 0  # people marked unreachable
        self._lock = asyncio.Lock()
        self._marks: list[int] = []
        self._back: list[int] = []
        self._outcomes: list[Outcome] = []
        self._marked: set[int] = set()

    async def mark_sending(self, row_id: int) -> bool:
        """Mark the row 'sending' and commit; False when this batch no longer holds its claim."""
        self._marked.discard(row_id)
        self._marks.append(row_id)
        await self._flush()
        return row_id in self._marked

    async def put_back(self, row_id: int) -> None:
        """A 429: the row is claimed again (committed)."""
        self._back.append(row_id)
        await self._flush()

    async def record(self, outcome: Outcome) -> None:
        """Commit the row's final status."""
        self._outcomes.append(outcome)
        await self._flush()

    async def _flush(self) -> None:
        """Write whatever is queued in one transaction."""
        async with self._lock:
            marks, self._marks = self._marks, []
            back, self._back = self._back, []
            outcomes, self._outcomes = self._outcomes, []
            if not (marks or back or outcomes):
                return  # an earlier writer took ours
            if back:
                await delivery.put_back(self.session, self.table, back, self.token)
            marked = (
                await delivery.mark_sending(self.session, self.table, marks, self.token)
                if marks
                else []
            )
            rows = [
                {"id": o.row_id, "status": o.status, "result": o.result, "person_id": o.person_id}
                for o in outcomes
            ]
            blocked = await delivery.write_outcomes(
                self.session, self.table, rows, self.now or utcnow()
            )
            await self.session.commit()
        self._marked.update(marked)
        self.statuses.update(o.status for o in outcomes)
        for outcome in outcomes:
            metrics.MESSAGES.labels(status=outcome.status, kind=self.table.__tablename__).inc()
        self.newly_blocked += blocked


async def send_journaled(journal: Journal, row_id: int, person_id: int, send: SendOnce) -> str:
    """Send one claimed row through ``send`` (one sender call with ``before_call``): the attempt
    is committed right before the call, the result right after; a 429 puts it back and tries
    again. Returns the final status, or 'cancelled' when the claim was lost (released, paused or
    cancelled meanwhile: nothing was sent)."""
    while True:
        marked = False

        async def mark() -> bool:
            nonlocal marked
            marked = await journal.mark_sending(row_id)
            return marked

        sent = await send(mark)
        if not marked:
            return "cancelled"
        if sent.status == "retry":
            await journal.put_back(row_id)
            continue
        outcome = outcome_of(row_id, person_id, sent)
        await journal.record(outcome)
        return outcome.status
