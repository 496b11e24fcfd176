"""Long polling through the update inbox: an update Telegram sent survives a crash at any instant.

Telegram forgets an update once the next ``getUpdates`` asks for a later offset, so the offset
moves on only after the batch is committed to the inbox (``storage/updates.py``). Each stored
update is then handled in its own transaction, which marks it ``handled`` (a repeated one is
skipped); replies go out after that commit (``CommitBeforeSendMiddleware``), and once the
handler finished the update is marked ``replied``.

After a crash, :meth:`UpdateInbox.recover` finishes the job: updates still ``received`` are
handled; for ones ``handled`` but not ``replied`` (killed between the commit and the reply) the
person's current survey screen is shown again, from what is stored, so no answer is stored twice.
A replied update keeps only its ids (to recognise a repeat); the scheduler's retention pass
(``bot/retention.py``) forgets it after a day.

Several bot processes (webhook mode on PostgreSQL): each stored update records its ``owner``, the
process that stored it, and each process holds a PostgreSQL advisory lock named after itself for
its whole life (:meth:`UpdateInbox.open`). A process that dies (SIGKILL, machine gone) loses that
lock with its connection; every :data:`SWEEP` seconds the others look for unfinished updates
whose owner's lock is free and finish them as above, holding that lock meanwhile so only one of
them does (:meth:`UpdateInbox.recover`). Two processes never handle one update: the claim is a
conditional UPDATE of its row (``storage/updates.py``), which waits for the other's transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Update, User
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import metrics, people
from handlers.survey_flow import SURVEY_STATES, open_flow
from handlers.survey_views import Reply, merge_replies
from storage import updates as repo
from storage.fsm import current_session
from storage.locks import AdvisoryLock

log = logging.getLogger(__name__)

SWEEP = 3.0  # seconds between two looks for the updates of processes that are gone


def process_lock(engine: AsyncEngine, owner: str | None) -> AdvisoryLock:
    """The lock a bot process holds while it lives (``owner`` None: updates stored before
    processes had names)."""
    return AdvisoryLock(engine, f"xuatngu:process:{owner or '-'}")


@dataclass
class UpdateInbox:
    """Store updates durably, handle stored ones, recover after a crash (polling or webhook)."""

    bot: Bot
    dp: Dispatcher
    sessionmaker: async_sessionmaker[AsyncSession]
    province_code: int
    # the locks' engine (bot/app.py: its own connections); the process's own name
    lock_engine: AsyncEngine | None = None
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    _done: list[int] = field(default_factory=list, init=False)
    _marking: bool = field(default=False, init=False)
    _alive: AdvisoryLock | None = field(default=None, init=False)

    @property
    def shared(self) -> bool:
        """Whether other bot processes may store updates too (PostgreSQL)."""
        return self.lock_engine is not None and self.lock_engine.dialect.name == "postgresql"

    async def open(self) -> None:
        """Take this process's own lock (held until :meth:`close`): while it is held, the
        others leave the updates this process stored alone."""
        if self.shared:
            assert self.lock_engine is not None
            self._alive = process_lock(self.lock_engine, self.owner)
            if not await self._alive.try_acquire():
                raise RuntimeError(f"the lock of process {self.owner} is taken")

    async def close(self) -> None:
        """Give this process's lock back (its unfinished updates are then someone else's)."""
        if self._alive is not None:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self._alive.release()
            self._alive = None

    async def store(self, updates: Sequence[Update]) -> list[Update]:
        """Commit a batch as ``received`` in one statement; returns the ones not stored before."""
        rows = [(u.update_id, u.model_dump(mode="json", exclude_unset=True)) for u in updates]
        async with self.sessionmaker() as session:
            fresh = await repo.store_updates(
                session, bot_id=self.bot.id, updates=rows, owner=self.owner
            )
            await session.commit()
        return [u for u in updates if u.update_id in fresh]

    async def handle(self, update: Update) -> None:
        """Handle one stored update (its claim is in ``DbSessionMiddleware``), then mark it;
        counted in ``bot/metrics.py`` (outcome, time)."""
        started, outcome = time.perf_counter(), "error"
        try:
            result = await self.dp.feed_update(self.bot, update)
            outcome = "unhandled" if result is UNHANDLED else "handled"
        finally:
            metrics.UPDATES.labels(outcome=outcome).inc()
            metrics.UPDATE_SECONDS.observe(time.perf_counter() - started)
            await self._mark_replied(update.update_id)

    async def _mark_replied(self, update_id: int) -> None:
        """Mark finished updates ``replied``: one statement for all that finished meanwhile."""
        self._done.append(update_id)
        if self._marking:  # the running write takes this id too
            return
        self._marking = True
        try:
            while self._done:
                ids, self._done = self._done, []
                async with self.sessionmaker() as session:
                    await repo.mark_replied(session, bot_id=self.bot.id, update_ids=ids)
                    await session.commit()
        finally:
            self._marking = False

    async def recover(self) -> None:
        """Finish what processes that are gone left (this one's earlier life included): on
        start, and every :data:`SWEEP` seconds on PostgreSQL (:meth:`sweep`)."""
        async with self.sessionmaker() as session:
            owners = await repo.unfinished_owners(session, bot_id=self.bot.id)
        for owner in owners:
            if owner == self.owner:
                continue
            if not self.shared:  # one bot process: every other one is gone
                await self._finish(owner)
                continue
            assert self.lock_engine is not None
            lock = process_lock(self.lock_engine, owner)
            try:
                if await lock.try_acquire():  # free: its process is gone
                    log.info("updates of process %s, which is gone: finishing them", owner)
                    await self._finish(owner)
            finally:
                await lock.release()

    @contextlib.asynccontextmanager
    async def serving(self, stop: asyncio.Event) -> AsyncIterator[None]:
        """While updates are received: this process's lock held, what others left finished
        first, then swept for every :data:`SWEEP` seconds (PostgreSQL). Leave it only once the
        updates being handled are done."""
        await self.open()
        sweeper: asyncio.Task[None] | None = None
        try:
            await self.recover()
            if self.shared:
                sweeper = asyncio.create_task(self.sweep(stop), name="inbox sweep")
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await self.close()

    async def sweep(self, stop: asyncio.Event) -> None:
        """Until ``stop``: every :data:`SWEEP` seconds, :meth:`recover`; and keep this process's
        own lock (taken again if its connection died)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SWEEP)
            if stop.is_set():
                return
            try:
                await self._keep_alive()
                await self.recover()
            except (SQLAlchemyError, OSError):
                log.exception("looking for the updates of processes that are gone failed")

    async def _keep_alive(self) -> None:
        """Check this process's own lock; take it again when its connection died."""
        if self._alive is None:
            return
        try:
            await self._alive.check()
        except (SQLAlchemyError, OSError):
            log.error("this process's lock was lost (its connection died); taking it again")
            await self.close()
            await self.open()

    async def _finish(self, owner: str | None) -> None:
        """The unfinished updates ``owner`` stored, oldest first."""
        async with self.sessionmaker() as session:
            rows = await repo.unfinished_updates(session, bot_id=self.bot.id, owner=owner)
        reshown: set[int] = set()
        for update_id, state, payload in rows:
            update = Update.model_validate(payload, context={"bot": self.bot})
            if state == repo.RECEIVED:
                log.info("update %s was stored but not handled: handling it now", update_id)
                await self.handle(update)
                continue
            user = getattr(update.event, "from_user", None)
            if isinstance(user, User) and user.id not in reshown:
                log.info("update %s was handled, its reply maybe not sent: resending", update_id)
                reshown.add(user.id)
                await self._show_current_screen(user)
            await self._mark_replied(update_id)

    async def _show_current_screen(self, user: User) -> None:
        """Send a person in the survey their current question (or summary) again."""
        key = StorageKey(bot_id=self.bot.id, chat_id=user.id, user_id=user.id)
        fsm = FSMContext(storage=self.dp.storage, key=key)
        replies: list[Reply] = []
        async with self.sessionmaker() as session:
            token = current_session.set(session)
            try:
                if await fsm.get_state() in SURVEY_STATES:
                    person = await people.find_person(session, user.id) or people.newcomer(
                        telegram_user_id=user.id,
                        chat_id=user.id,
                        language_code=user.language_code,
                        conversation=await fsm.get_data(),
                    )
                    flow = await open_flow(session, person, fsm, self.province_code)
                    replies = merge_replies(await flow.enter())
                await session.commit()
            finally:
                current_session.reset(token)
        try:
            for reply in replies:
                await self.bot.send_message(user.id, reply.text, reply_markup=reply.markup)
        except TelegramAPIError as exc:  # blocked, or Telegram down: the person can /survey
            log.warning("could not show user %s their screen again: %s", user.id, exc)


async def poll(
    inbox: UpdateInbox, *, stop: asyncio.Event, concurrency: int, poll_timeout: int = 30
) -> None:
    """Long polling until ``stop`` is set: fetch, store, confirm, handle.

    Up to ``concurrency`` updates are handled at once; one person's updates keep their order
    (the dispatcher's event isolation). On stop, the updates being handled are finished.
    """
    async with inbox.serving(stop):
        await _poll(inbox, stop=stop, concurrency=concurrency, poll_timeout=poll_timeout)


async def _poll(
    inbox: UpdateInbox, *, stop: asyncio.Event, concurrency: int, poll_timeout: int
) -> None:
    bot, allowed = inbox.bot, inbox.dp.resolve_used_update_types()
    pool = HandlingPool(inbox, concurrency)
    stopping = asyncio.create_task(stop.wait())
    offset: int | None = None  # confirms the stored batch with the next call
    failures = 0
    try:
        while True:
            fetch = asyncio.create_task(
                bot.get_updates(offset=offset, timeout=poll_timeout, allowed_updates=allowed)
            )
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.done():
                fetch.cancel()
                return
            try:
                updates = fetch.result()
            except TelegramAPIError as exc:
                failures += 1
                delay = min(0.5 * 2**failures, 30.0)
                log.warning("getUpdates failed (%s); again in %.1f s", exc, delay)
                await asyncio.wait({stopping}, timeout=delay)
                continue
            failures = 0
            if not updates:
                continue
            for update in await inbox.store(updates):
                await pool.submit(update)
            top = max(u.update_id for u in updates) + 1  # a redelivered old one may come last
            offset = top if offset is None else max(offset, top)
    finally:
        stopping.cancel()
        await pool.finish()


class HandlingPool:
    """Handles stored updates as tasks, up to ``concurrency`` at once (polling and webhook).

    Updates submitted in order start in order: one person's updates keep it (the dispatcher's
    event isolation).
    """

    def __init__(self, inbox: UpdateInbox, concurrency: int) -> None:
        self.inbox = inbox
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, update: Update) -> None:
        """Start handling a stored update once a slot is free."""
        await self._slots.acquire()
        task = asyncio.create_task(self.inbox.handle(update), name=f"update {update.update_id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(lambda _: self._slots.release())
        task.add_done_callback(_log_failure)

    async def finish(self) -> None:
        """Wait for the updates being handled."""
        await asyncio.gather(*self._running, return_exceptions=True)


def _log_failure(task: asyncio.Task[None]) -> None:
    """An update whose error handling itself failed: log it."""
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", task.get_name(), exc_info=task.exception())
