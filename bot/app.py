"""Composition root: builds the bot, dispatcher, scheduler and admin server; runs them together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiogram.methods
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods import Response, TelegramMethod
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.broadcasts.runner import run_outbox
from bot.cards.service import run_cards
from bot.config import Settings, SettingsError
from bot.i18n import LANGUAGES, N_, PersonLocaleMiddleware, get_i18n
from bot.people import Conversations
from bot.retention import run_retention
from bot.sending import Sender, in_flight_for
from bot.singleton import run_once_only
from bot.timeline import run_scheduler
from handlers import COMMANDS
from handlers.middlewares import CommitBeforeSendMiddleware, DbSessionMiddleware, PersonMiddleware
from handlers.polling import UpdateInbox, poll
from handlers.webhook import serve_webhook
from storage.db import create_engine, create_sessionmaker
from storage.fsm import SqlStorage
from storage.migrate import upgrade_async

log = logging.getLogger(__name__)

DEMO_TOKEN = "123456789:DEMO-token-for-the-built-in-emulator"
# demo mode only (no BOT_TOKEN, emulator on localhost): an admin account a newcomer can use
DEMO_ADMIN = ("admin", "xuatngu-demo")
# stop() gives polling, the scheduler and the admin server this long, then cancels them
STOP_SECONDS = 5
TELEGRAM_API = "https://api.telegram.org"
# while Telegram cannot be reached at start-up, tries are this far apart at most
TELEGRAM_RETRY_MAX = 60.0
ISOLATION_LOCK_SECONDS = 20  # how long a killed bot process's lock on a person's updates lasts


def create_bot(token: str, api_base: str | None) -> Bot:
    """An aiogram Bot calling ``{api_base}/bot{token}/{method}`` (Telegram when no base)."""
    api = TelegramAPIServer.from_base(api_base) if api_base else PRODUCTION
    return Bot(
        token,
        session=AiohttpSession(api=api),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_fsm(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Conversation state in the database, written in each update's own transaction (a kill
    -9 never separates an answer from the step it moved to; every bot process on one database
    shares it); one person's updates one at a time: in this process, or with ``REDIS_URL``
    across every bot process, through a Redis lock (aiogram's ``RedisEventIsolation``)."""
    storage = SqlStorage(sessionmaker)
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation

        # a lock left by a killed process expires after this many seconds; no update's
        # handling comes near it (bench/updates.py: the slowest well under a second)
        lock = {"timeout": ISOLATION_LOCK_SECONDS}
        return storage, RedisEventIsolation.from_url(settings.redis_url, lock_kwargs=lock)
    return storage, SimpleEventIsolation()


def create_dispatcher(
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    i18n: I18n,
    storage: BaseStorage,
    isolation: BaseEventIsolation,
    **workflow_data: Any,
) -> Dispatcher:
    """The dispatcher with its middlewares and every router."""
    from handlers import get_routers

    dp = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        settings=settings,
        sessionmaker=sessionmaker,
        i18n=i18n,
        **workflow_data,
    )
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    dp.update.outer_middleware(PersonMiddleware())
    PersonLocaleMiddleware(i18n).setup(dp)
    dp.include_routers(*get_routers())
    return dp


async def register_commands(bot: Bot, i18n: I18n) -> None:
    """setMyCommands in every language (Vietnamese also as the default list)."""
    descriptions = {
        "start": N_("Bắt đầu"),
        "survey": N_("Khảo sát nghề"),
        "courses": N_("Khóa học hợp với bạn"),
        "fairs": N_("Phiên giao dịch việc làm"),
        "card": N_("Thẻ học nghề của bạn"),
        "ask": N_("Hỏi cán bộ"),
        "reminders": N_("Bật/tắt lời nhắc"),
        "stop": N_("Không nhận thông báo chung nữa"),
        "alerts": N_("Bật/tắt tin khóa học, việc làm mới"),
        "language": N_("Đổi ngôn ngữ"),
        "privacy": N_("Dữ liệu của bạn"),
        "sharing": N_("Chia sẻ với trường nghề"),
        "delete_me": N_("Xóa dữ liệu của tôi"),
        "help": N_("Trợ giúp"),
    }
    for lang in (None, *LANGUAGES):
        locale = lang or "vi"
        commands = [
            BotCommand(command=c, description=i18n.gettext(descriptions[c], locale=locale))
            for c in COMMANDS
        ]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=lang)


def check_content() -> None:
    """Load every content file; a broken one raises ContentError naming file and line."""
    from bot.content_check import check_all

    problems = check_all()
    if problems:
        from bot.content_loading import ContentError

        raise ContentError(problems)


@dataclass
class BotApp:
    """Everything one bot process runs: polling, scheduler, outbox, admin server, demo emulator.

    ``with_polling=False`` is a worker (``xuatngu worker``): no Telegram set-up calls, no polling;
    :meth:`wait` then waits for :meth:`request_stop` alone. Each background job runs in one
    process at a time (``bot/singleton.py``)."""

    settings: Settings
    with_admin: bool = True
    with_scheduler: bool = True
    with_outbox: bool = True
    with_polling: bool = True
    engine: AsyncEngine | None = None
    sessionmaker: async_sessionmaker[AsyncSession] | None = None
    # the admin backend and the scheduler hold connections while streaming or sending,
    # so they get their own pool and never make the bot wait for one
    side_engine: AsyncEngine | None = None
    side_sessionmaker: async_sessionmaker[AsyncSession] | None = None
    # the background jobs' locks, each on a connection held for the job's life (PostgreSQL)
    lock_engine: AsyncEngine | None = None
    bot: Bot | None = None
    dp: Dispatcher | None = None
    emulator: Any = None
    api_base: str | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _admin_server: Any = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Migrate; start the demo emulator and the admin server; once Telegram answers, the
        scheduler and polling (until then it retries with back-off, see :meth:`request_stop`)."""
        s = self.settings
        refusal = s.demo_refusal() or s.webhook_refusal()
        if refusal:
            raise SettingsError(refusal)
        check_content()
        self.side_engine = create_engine(s.database_url, pool_size=5, max_overflow=5)
        self.side_sessionmaker = create_sessionmaker(self.side_engine)
        await upgrade_async(self.side_engine)
        self.engine = create_engine(s.database_url, writer=True)
        self.sessionmaker = create_sessionmaker(self.engine)
        # the jobs' locks, this process's own (handlers/polling.py) and one to take over a
        # process that is gone
        self.lock_engine = create_engine(s.database_url, pool_size=5, max_overflow=2)
        if s.demo_mode:
            await self._load_sample_catalog()
        self.api_base = s.telegram_api_base
        token = s.bot_token.get_secret_value() if s.bot_token else DEMO_TOKEN
        if s.demo_mode and not self.api_base:
            from emulator import Emulator, RateLimits

            self.emulator = Emulator(RateLimits.off())
            self.api_base = await self.emulator.start(host=s.admin_host, port=s.demo_port)
            log.info(
                "demo mode: web chat at %s/ (Bot API emulator at the same address)", self.api_base
            )
        i18n = get_i18n()
        storage, isolation = create_fsm(s, self.sessionmaker)
        self.bot = create_bot(token, self.api_base)
        self.bot.session.middleware(CommitBeforeSendMiddleware())
        sender = self._make_sender()
        self.dp = create_dispatcher(
            settings=s,
            sessionmaker=self.sessionmaker,
            i18n=i18n,
            storage=storage,
            isolation=isolation,
            sender=sender,
        )
        conversations = Conversations(storage, self.bot.id)
        if self.with_admin:
            if s.demo_mode:
                await self._ensure_demo_admin()
            await self._start_admin(sender, conversations)
        if self.with_polling and not await self._reach_telegram(i18n):
            return
        self._start_background(sender, conversations)
        if not self.with_polling:
            return
        inbox = UpdateInbox(
            self.bot, self.dp, self.sessionmaker, s.province_code, lock_engine=self.lock_engine
        )
        if s.webhook_url:  # registered once by `xuatngu telegram set-webhook`, not here
            updates = serve_webhook(inbox, stop=self._stop, settings=s)
        else:
            updates = poll(inbox, stop=self._stop, concurrency=s.update_concurrency)
        self.tasks.append(asyncio.create_task(updates, name="updates"))

    async def _reach_telegram(self, i18n: I18n) -> bool:
        """The first Bot API calls (webhook off when polling, command menu); while Telegram
        cannot be reached, one log line per try and again after 1 s, 2 s, 4 s … at most a
        minute. False when :meth:`request_stop` came first; a token Telegram refuses stops
        start-up."""
        assert self.bot is not None
        wait = 1.0
        while not self._stop.is_set():
            try:
                if not self.settings.webhook_url:
                    await self.bot.delete_webhook(drop_pending_updates=False)
                await register_commands(self.bot, i18n)
                return True
            except TelegramUnauthorizedError:
                raise SettingsError(
                    "setting BOT_TOKEN is wrong: Telegram does not know this token"
                ) from None
            except (TelegramNetworkError, TelegramServerError) as exc:
                log.warning(
                    "cannot reach Telegram at %s (%s); trying again in %.0f s",
                    self.api_base or TELEGRAM_API,
                    exc,
                    wait,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)
            wait = min(wait * 2, TELEGRAM_RETRY_MAX)
        return False

    @property
    def stopping(self) -> bool:
        """Whether :meth:`request_stop` or :meth:`stop` was called."""
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Ask everything to stop (a signal handler may call it); :meth:`stop` finishes it."""
        self._stop.set()

    async def wait(self) -> None:
        """Until polling or the webhook ends (if it runs) or :meth:`request_stop` is called."""
        polling = [task for task in self.tasks if task.get_name() == "updates"]
        stopping = asyncio.create_task(self._stop.wait())
        await asyncio.wait({*polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()

    def _side(self) -> async_sessionmaker[AsyncSession]:
        assert self.side_sessionmaker is not None, "start() builds it"
        return self.side_sessionmaker

    def _make_sender(self) -> Sender:
        assert self.bot is not None
        rate = self.settings.send_rate
        return Sender(self.bot, global_rate=rate, in_flight=in_flight_for(rate))

    def _start_once_only(self, job: str, loop: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """``loop`` as a task that runs once this process holds the job's lock."""
        assert self.lock_engine is not None and self.bot is not None
        runner = run_once_only(self.lock_engine, job, self.bot.id, self._stop, loop)
        self.tasks.append(asyncio.create_task(runner, name=job))

    def _start_background(self, sender: Sender, conversations: Conversations) -> None:
        """The background jobs, each once among every process; the two that send (reminders,
        the outbox) are one job, so one process's sender paces everything sent unprompted."""
        side, s = self._side(), self.settings
        loops: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = []
        if self.with_scheduler:
            loops.append(lambda stop: run_scheduler(side, sender, s, stop))
        if self.with_outbox:
            # its recovery (every 'sending' row becomes 'unknown') runs once the lock is held
            loops.append(lambda stop: run_outbox(side, sender, s, stop))
        if loops:

            async def sending(stop: asyncio.Event) -> None:
                async with asyncio.TaskGroup() as group:  # one fails: the other stops too
                    for loop in loops:
                        group.create_task(loop(stop))

            self._start_once_only("sending", sending)
        if self.with_scheduler:
            self._start_once_only(
                "retention",
                lambda stop: run_retention(side, s.tz, stop, conversations=conversations),
            )
            # training cards: expiry and the reminder before it
            self._start_once_only("cards", lambda stop: run_cards(side, s.tz, stop))

    async def _load_sample_catalog(self) -> None:
        """Demo mode: the sample catalog (fictional, marked [MẪU]) when the catalog is empty."""
        from bot.cards.sample import load_sample_card
        from bot.catalog.sample import load_sample
        from storage.models.base import utcnow

        now, tz = utcnow(), self.settings.tz
        async with self._side()() as session:
            loaded = await load_sample(
                session, today=now.astimezone(tz).date(), now=now, tz=tz, actor="demo"
            )
            if loaded is not None:  # and the sample training card (bot/cards/sample.py)
                await load_sample_card(session, today=now.astimezone(tz).date(), actor="demo")
        if loaded is not None:
            log.info(
                "demo mode: sample catalog loaded (%d rows, marked [MẪU])", loaded.count("created")
            )

    async def _ensure_demo_admin(self) -> None:
        """Demo mode: create the demo admin account when there is no account at all."""
        from sqlalchemy import select

        from admin.accounts import create_user
        from storage.models.admin import AdminUser

        async with self._side()() as session:
            if await session.scalar(select(AdminUser.id).limit(1)) is not None:
                return
            await create_user(session, *DEMO_ADMIN, role="admin")
            await session.commit()
        log.info(
            "demo mode: admin login %s / %s (create real accounts before going live)", *DEMO_ADMIN
        )

    async def _start_admin(self, sender: Sender, conversations: Conversations) -> None:
        import uvicorn

        from admin.app import create_app, server_config

        app = create_app(self.settings, self._side(), sender, conversations)
        config = server_config(app, self.settings)
        # serve() also catches SIGINT/SIGTERM while it runs (and raises them again when done);
        # the loop's own handlers in run() still see them, so everything stops together
        self._admin_server = uvicorn.Server(config)
        self.tasks.append(asyncio.create_task(self._admin_server.serve(), name="admin"))
        for _ in range(100):
            if self._admin_server.started:
                break
            await asyncio.sleep(0.05)
        log.info(
            "admin backend at http://%s:%s/", self.settings.admin_host, self.settings.admin_port
        )

    async def stop(self) -> None:
        """Stop polling, the scheduler, the admin server and the emulator; close connections."""
        self._stop.set()  # polling and the scheduler watch it
        if self._admin_server is not None:
            self._admin_server.should_exit = True
        if self.tasks:  # all together, so the process is gone within STOP_SECONDS and a bit
            _, late = await asyncio.wait(self.tasks, timeout=STOP_SECONDS)
            for task in late:
                task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.dp is not None:
            await self.dp.fsm.close()  # the storage and the event isolation
            isolation = self.dp.fsm.events_isolation
            if self.settings.redis_url:  # RedisEventIsolation.close() leaves its client open
                from aiogram.fsm.storage.redis import RedisEventIsolation

                assert isinstance(isolation, RedisEventIsolation)
                await isolation.redis.aclose(close_connection_pool=True)
        if self.bot is not None:
            await self.bot.session.close()
        if self.emulator is not None:
            await self.emulator.stop()
        for engine in (self.engine, self.side_engine, self.lock_engine):
            if engine is not None:
                await engine.dispose()


def tune_long_running_process() -> None:
    """Process-wide tuning for a process that serves the bot for days (``xuatngu run``).

    Called by the process entry point after start-up, never by :class:`BotApp` (tests and other
    embedders keep the interpreter's defaults). Two measured costs (bench/README.md):

    - aiogram validates every Bot API answer as ``Response[T]`` for the method's return type;
      pydantic keeps such parametrised models in a weak cache, so a garbage collection can drop
      one and the next call builds it again (milliseconds each). One reference per return type,
      kept for the process's life, stops that.
    - what start-up loaded (content, catalogs, routers, compiled statements) lives as long as
      the process: ``gc.freeze()`` moves it out of the collector's way.
    """
    returning = {
        repr(kind): kind
        for name in aiogram.methods.__all__
        if isinstance(method := getattr(aiogram.methods, name), type)
        and issubclass(method, TelegramMethod)
        and method is not TelegramMethod
        and (kind := getattr(method, "__returning__", None)) is not None
    }
    _KEPT_RESPONSE_MODELS.extend(Response[kind] for kind in returning.values())  # type: ignore[valid-type]
    gc.freeze()


_KEPT_RESPONSE_MODELS: list[Any] = []


async def run(settings: Settings, *, worker: bool = False) -> None:
    """``xuatngu run``: everything in one process until SIGINT/SIGTERM (without the background
    jobs when ``BACKGROUND=off``); ``worker``: ``xuatngu worker``, the background jobs alone."""
    if worker:
        if settings.demo_mode:
            raise SettingsError("xuatngu worker needs BOT_TOKEN (demo mode is xuatngu run alone)")
        app = BotApp(settings, with_admin=False, with_polling=False)
    else:
        background = settings.background
        app = BotApp(settings, with_scheduler=background, with_outbox=background)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, app.request_stop)
    try:
        await app.start()
        if not app.stopping:
            tune_long_running_process()
            log.info("xuatngu %sis running (Ctrl+C to stop)", "worker " if worker else "")
            await app.wait()
    finally:
        await app.stop()
