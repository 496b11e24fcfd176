"""The outbox's send loop: ``xuatngu run`` starts it next to the reminder scheduler, and both
send through the process's one :class:`~bot.sending.Sender` (one per bot token).

Each step: scheduled messages whose time has come start (their rows are filled from the
segment in one statement); then a batch of the oldest sending message's rows is claimed
(committed), rows whose person opted out, blocked the bot or was erased meanwhile are skipped,
and the rest go through :func:`bot.delivery.send_journaled` (marked 'sending' and committed
right before each call). Nothing starts or goes on during quiet hours (the reminders'
``QUIET_START``/``QUIET_END``). At start-up every claim of an earlier run is recovered: claimed
rows go back to pending, 'sending' rows become 'unknown' (one process sends per bot token).

Catalog alerts and job-fair reminders are outbox messages too (``bot/alerts/``): their rows
are queued by the alert pass (which this loop runs every ``alert_interval``) or by "Nhắc tôi",
never filled from a segment, and :func:`bot.alerts.deliver.prepare` gives each row its own
text and buttons.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import deliver
from bot.alerts.scan import scan
from bot.broadcasts.message import Upload, language_of, stop_keyboard, text_for
from bot.cards import service as cards
from bot.config import Settings
from bot.delivery import Journal, SendOnce, send_journaled
from bot.people import unreachable
from bot.sending import BeforeCall, Sender, SendResult
from bot.timeline.dates import is_quiet, parse_clock
from storage import delivery, outbox, segments
from storage.models import Person
from storage.models.base import utcnow
from storage.models.outbox import OutboxMessage, OutboxRow

log = logging.getLogger(__name__)


def batch_size(rate: float) -> int:
    """Rows claimed at once: about two seconds of sending."""
    return max(20, min(500, int(rate * 2)))


def _skip_reason(person: Person | None, opted_out: bool) -> str | None:
    """Why a claimed row must not be sent (checked against the person as they are now)."""
    return unreachable(person) or ("opted_out" if opted_out else None)


def _through(sender: Sender, chat_id: int, call: Callable[[], Awaitable[Any]]) -> SendOnce:
    """One sender call for ``chat_id`` with the journal's ``before_call``."""

    async def send(mark: BeforeCall) -> SendResult:
        return await sender.send(chat_id, call, before_call=mark)

    return send


class Runner:
    """Sends the outbox through ``sender``; sessions from ``sessions``."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], sender: Sender, settings: Settings
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.settings = settings
        self.batch = batch_size(settings.send_rate)
        self._quiet = (parse_clock(settings.quiet_start), parse_clock(settings.quiet_end))

    def quiet(self, now: datetime) -> bool:
        """Night: broadcasts wait for the morning."""
        return is_quiet(now, self.settings.tz, *self._quiet)

    async def recover(self) -> tuple[int, int]:
        """After a crash: (claims released, attempts now 'unknown')."""
        async with self.sessions() as session:
            counts = await delivery.recover(session, OutboxRow)
            await session.commit()
        if any(counts):
            log.warning("outbox after a restart: %s released, %s unknown", *counts)
        return counts

    async def step(self, now: datetime | None = None) -> bool:
        """Start what is due and send one batch; False when there was nothing to send."""
        now = now or utcnow()
        if self.quiet(now):
            return False
        async with self.sessions() as session:
            for message in await outbox.start_due(session, now):
                if message.kind in deliver.KINDS:
                    continue  # its rows were queued with it
                segment = segments.Segment.from_json(message.segment)
                filled = await segments.fill_outbox(
                    session, message.id, segment, message.scope_communes
                )
                await outbox.set_recipients(session, message.id, filled)
                log.info("broadcast %s started: %s recipients", message.id, filled)
            await session.commit()
            sending = await outbox.next_sending(session)
            if sending is None:
                return False
            return await self._send_batch(session, sending, now)

    async def _send_batch(
        self, session: AsyncSession, message: OutboxMessage, now: datetime
    ) -> bool:
        """Claim and send one batch of the message's rows (one row until a file is uploaded)."""
        token = str(uuid.uuid4())
        upload_pending = bool(message.media_kind) and not message.media_file_id
        claimed = await delivery.claim(
            session,
            OutboxRow,
            [OutboxRow.message_id == message.id, OutboxRow.status == "pending"],
            [OutboxRow.id],
            1 if upload_pending else self.batch,
            token=token,
            now=now,
            returning=(OutboxRow.id, OutboxRow.person_id, OutboxRow.text),
        )
        if not claimed:
            if await outbox.finish_if_done(session, message.id, now):
                log.info("outbox message %s (%s) done", message.id, message.kind)
            await session.commit()
            return False
        if message.kind in deliver.KINDS:
            ready, skipped = await deliver.prepare(session, message, claimed, now, self.settings.tz)
        elif message.kind in cards.KINDS:  # a training card's expiry reminder
            ready, skipped = await cards.prepare(session, message, claimed)
        else:
            ready, skipped = await self._broadcast_rows(session, message, claimed)
        await outbox.skip_rows(session, skipped)
        await session.commit()
        data = await outbox.media_of(session, message.id) if upload_pending else None
        upload = Upload(message, data)
        journal = Journal(session, OutboxRow, token)
        async with asyncio.TaskGroup() as group:
            for row in ready:
                chat = row.person.chat_id
                call = upload.call(self.sender.bot, chat, row.text, row.markup)
                send = _through(self.sender, chat, call)
                group.create_task(send_journaled(journal, row.row_id, row.person.id, send))
        if upload_pending and upload.file_id:
            await outbox.set_file_id(session, message.id, upload.file_id)
            await session.commit()
        return True

    @staticmethod
    async def _broadcast_rows(
        session: AsyncSession, message: OutboxMessage, claimed: Sequence[Any]
    ) -> tuple[list[deliver.Ready], list[dict[str, Any]]]:
        """A broadcast's rows: its text in each person's language, the opt-out button."""
        people, opted_out = await outbox.people_and_opt_outs(session, [r[1] for r in claimed])
        keyboards = {lang: stop_keyboard(message.id, lang) for lang in ("vi", "en")}
        ready, skipped = [], []
        for row_id, person_id, _text in claimed:
            person = people.get(person_id)
            reason = _skip_reason(person, person_id in opted_out)
            if person is not None and reason is None:
                markup = keyboards[language_of(person)]
                ready.append(deliver.Ready(row_id, person, text_for(message, person), markup))
            else:
                skipped.append({"id": row_id, "result": reason})
        return ready, skipped


async def run_outbox(
    sessions: async_sessionmaker[AsyncSession],
    sender: Sender,
    settings: Settings,
    stop_event: asyncio.Event,
    *,
    interval: float = 1.0,
    alert_interval: float = 60.0,
) -> None:
    """Send the outbox until ``stop_event`` is set; a batch being sent finishes first. The
    alert pass runs at start and every ``alert_interval`` seconds."""
    runner = Runner(sessions, sender, settings)
    await runner.recover()
    log.info("outbox sender started (%s messages/s)", settings.send_rate)
    loop = asyncio.get_running_loop()
    next_scan = loop.time()
    while not stop_event.is_set():
        try:
            if loop.time() >= next_scan:
                next_scan = loop.time() + alert_interval
                await scan(sessions, settings, utcnow())
            busy = await runner.step()
        except (SQLAlchemyError, OSError):
            log.exception("outbox step failed; trying again in %ss", interval)
            busy = False
        if not busy:
            try:
                await asyncio.wait_for(stop_event.wait(), timeout=interval)
            except TimeoutError:
                pass
    log.info("outbox sender stopped")
