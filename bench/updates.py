"""Bot throughput and reply latency against a bare aiogram echo bot, through the emulator.

Run: ``.venv/bin/python bench/updates.py [--users 200] [--quick] [--profile]``.

Setup: the Bot API emulator, this bot (``BotApp(with_admin=False, with_scheduler=False)`` on a
fresh WAL SQLite file) and a bare aiogram 3 echo bot each run in their own subprocess; the
simulated users run in this process. Every scenario runs on the echo bot and on this bot, one
after the other (never both at once), with all users acting concurrently; latency is the time
from the user's send/press until the first bot message of the reply arrives. Prints updates per
second, p50/p99 latency, ratios (this bot / echo) and ``ratio >= 0.5: PASS/FAIL`` per scenario.
``--profile`` runs this bot under cProfile with SQL statement timing and prints where time goes.
Always exits 0 unless it crashes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulator import (  # noqa: E402
    EmulatedUser,
    EmulatorClient,
    EmulatorError,
    EmulatorTimeout,
)

# this bot gets its own token (so its own chats) for each database it runs on
BOT_TOKENS = {
    "sqlite": "111111111:BENCH-token-for-this-bot-sqlite",
    "postgres": "111111112:BENCH-token-for-this-bot-postgres",
}
PG_ADMIN_URL = os.environ.get("XUATNGU_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ECHO_TOKEN = "222222222:BENCH-token-for-the-echo-bot"
# the bars: this bot's throughput against the echo bot's, per database (PostgreSQL is production)
BARS = {"postgres": 0.5, "sqlite": 0.4}
STEP_TIMEOUT = 30.0
REPLY_KINDS = ("message", "edit")
FIRST_USER_ID = 7_000_000


# ---------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Step:
    """One user action: send text or press a button; labels differ per bot."""

    kind: str
    bot: str
    echo: str

    def label(self, echo: bool) -> str:
        """The text or button label for the given bot."""
        return self.echo if echo else self.bot


@dataclass(frozen=True)
class Scenario:
    """Untimed setup steps, then timed steps, done by every user."""

    name: str
    setup: tuple[Step, ...]
    steps: tuple[Step, ...]


SCENARIOS = (
    Scenario("a) /start x3", (), (Step("send", "/start", "/start"),) * 3),
    Scenario(
        "b) button: press 🇬🇧 English, 🇻🇳 Tiếng Việt",
        (Step("send", "/language", "/language"),),
        (Step("press", "🇬🇧 English", "ok"), Step("press", "🇻🇳 Tiếng Việt", "ok")),
    ),
    Scenario(
        "c) survey: consent, name, phone, branch",
        (Step("send", "/survey", "/survey"),),
        (
            Step("press", "Đồng ý tất cả", "ok"),
            Step("send", "Nguyễn Văn An", "Nguyễn Văn An"),
            Step("send", "0912 345 678", "0912 345 678"),
            Step("press", "Quân đội", "ok"),
        ),
    ),
)


# ---------------------------------------------------------------- measuring


@dataclass
class PhaseResult:
    """Figures of one scenario on one bot."""

    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    timeouts: int = 0
    errors: int = 0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Updates handled per second."""
        return self.updates / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        """Latency percentile in seconds (0 when nothing was measured)."""
        if not self.latencies:
            return 0.0
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]


async def act(user: EmulatedUser, step: Step, echo: bool) -> None:
    """Perform one step without waiting for the reply."""
    if step.kind == "send":
        await user.send(step.label(echo))
    else:
        await user.press(step.label(echo))


async def timed_step(user: EmulatedUser, step: Step, echo: bool, expect: int) -> float:
    """Act, return seconds until the first reply message; then wait for all ``expect``."""
    started = time.perf_counter()
    await act(user, step, echo)
    _, ok = await user.events_since(1, REPLY_KINDS, STEP_TIMEOUT)
    latency = time.perf_counter() - started
    if ok and expect > 1:
        _, ok = await user.events_since(expect, REPLY_KINDS, STEP_TIMEOUT)
    if not ok:
        raise EmulatorTimeout(f"user {user.id}: no reply to {step.label(echo)!r}")
    return latency


async def drive(
    user: EmulatedUser, steps: tuple[Step, ...], expects: list[int], echo: bool, out: PhaseResult
) -> None:
    """Run one user's steps in order; the first failure ends this user's sequence."""
    for step, expect in zip(steps, expects, strict=True):
        try:
            out.latencies.append(await timed_step(user, step, echo, expect))
            out.updates += 1
        except EmulatorTimeout:
            out.timeouts += 1
            return
        except (TimeoutError, EmulatorError, OSError):
            out.errors += 1
            return


async def run_phase(
    users: list[EmulatedUser], steps: tuple[Step, ...], expects: list[int], echo: bool
) -> PhaseResult:
    """All users at once; wall time from the first send to the last reply."""
    out = PhaseResult()
    started = time.perf_counter()
    await asyncio.gather(*(drive(u, steps, expects, echo, out) for u in users))
    out.seconds = time.perf_counter() - started
    return out


async def calibrate(client: EmulatorClient, echo: bool, first: int) -> list[list[int]]:
    """Reply messages per step of each scenario (setup steps first), seen by one user."""
    user = client.user(first - 1, language_code="vi")
    counts: list[list[int]] = []
    for scenario in SCENARIOS:
        row = []
        for step in (*scenario.setup, *scenario.steps):
            await act(user, step, echo)
            reply = await user.expect_reply(timeout=STEP_TIMEOUT, quiet=0.4)
            row.append(len(reply))
        counts.append(row)
    return counts


# ---------------------------------------------------------------- subprocesses


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds used so far by a process (0 where /proc is missing)."""
    return cpu_seconds_of(Path(f"/proc/{pid}/stat"))


def thread_cpu(pid: int) -> str:
    """CPU seconds of a process's main thread and of all its other threads (aiosqlite)."""
    main = others = 0.0
    count = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        seconds = cpu_seconds_of(task / "stat")
        if task.name == str(pid):
            main = seconds
        else:
            others += seconds
            count += 1
    return (
        f"this bot CPU (whole run): main thread {main:.1f} s, {count} other threads {others:.1f} s"
    )


def cpu_seconds_of(stat: Path) -> float:
    """User+system CPU seconds from a /proc stat file (0 when missing)."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Child:
    """A subprocess with its stderr log file."""

    name: str
    proc: asyncio.subprocess.Process
    log: Path

    def tail(self, lines: int = 15) -> str:
        """The end of its log."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self) -> None:
        """Terminate by pid and wait; kill when it does not exit in 15 s."""
        if self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def spawn(name: str, args: list[str], logdir: Path, ready: bool) -> Child:
    """Start ``python args``; when ``ready``, wait for its READY line on stdout."""
    log = logdir / f"{name}.log"
    with log.open("wb") as fh:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=fh,
        )
    child = Child(name, proc, log)
    if ready:
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
        except TimeoutError:
            line = b""
        if line.strip() != b"READY":
            await child.stop()
            raise RuntimeError(f"{name} did not start:\n{child.tail()}")
    return child


async def wait_healthy(base: str, within: float = 20.0) -> None:
    """Wait until the emulator answers its health check."""
    deadline = time.monotonic() + within
    async with EmulatorClient(base) as client:
        while True:
            try:
                await client.request("GET", "/_emu/health")
                return
            except (OSError, EmulatorError, Exception):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


# ---------------------------------------------------------------- child entry points


async def until_signalled() -> None:
    """Wait for SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve_bot(api_base: str, token: str, database_url: str, profile: str | None) -> None:
    """Child: this bot as in production (polling), until SIGTERM."""
    from bot.app import BotApp, tune_long_running_process
    from bot.config import load_settings

    settings = load_settings(
        bot_token=token,
        telegram_api_base=api_base,
        database_url=database_url,
        admin_port=free_port(),
        cookie_secure=False,
    )
    app = BotApp(settings, with_admin=False, with_scheduler=False)
    await app.start()
    tune_long_running_process()  # as ``xuatngu run`` does
    profiler = start_profile(app) if profile else None
    print("READY", flush=True)
    try:
        await until_signalled()
    finally:
        if profiler is not None and profile:
            stop_profile(profiler, profile)
        await app.stop()


async def serve_echo(api_base: str) -> None:
    """Child: a bare aiogram 3 echo bot, polling like this bot does, until SIGTERM."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode
    from aiogram.types import (
        CallbackQuery,
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        Message,
    )

    # aiogram's own session (form-encoded calls), as any aiogram bot has out of the box
    bot = Bot(
        ECHO_TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    dp = Dispatcher()
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="ok", callback_data="ok")]]
    )

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(html.escape(message.text or "?"), reply_markup=keyboard)

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()
        if query.message is not None:
            await query.message.answer("ok", reply_markup=keyboard)

    await bot.delete_webhook(drop_pending_updates=False)
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    print("READY", flush=True)
    try:
        await until_signalled()
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(polling, 5)
        await bot.session.close()


# ---------------------------------------------------------------- profiling (--profile)


@dataclass
class SqlTimer:
    """Where the bot's time goes: SQL statements, write-lock holds, pool, Bot API calls."""

    stats: dict[str, list[float]] = field(default_factory=dict)

    def add(self, kind: str, seconds: float) -> None:
        """Record one timing."""
        self.stats.setdefault(kind, []).append(seconds)

    def attach(self, app: Any) -> None:
        """Listen to the engine's events; wrap the pool checkout and the bot's HTTP session."""
        from sqlalchemy import event

        engine = app.engine.sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            conn.info["bench_t"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            now = time.perf_counter()
            kind = statement_kind(statement)
            self.add("sql " + kind, now - conn.info.pop("bench_t"))
            if not kind.startswith("SELECT"):
                conn.info.setdefault("bench_locked", now)

        def _end(conn: Any) -> None:
            locked = conn.info.pop("bench_locked", None)
            if locked is not None:
                self.add("write lock held (first write .. commit)", time.perf_counter() - locked)

        event.listen(engine, "commit", _end)
        event.listen(engine, "rollback", _end)

        @event.listens_for(engine.pool, "checkout")
        def _checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
            record.info["bench_out"] = time.perf_counter()

        @event.listens_for(engine.pool, "checkin")
        def _checkin(dbapi_conn: Any, record: Any) -> None:
            started = record.info.pop("bench_out", None)
            if started is not None:
                self.add(
                    "pool connection held (checkout .. checkin)", time.perf_counter() - started
                )

        app.bot.session.middleware(BotApiTimer(self))

    def report(self) -> str:
        """Lines: what, count, total and mean ms."""
        rows = sorted(self.stats.items(), key=lambda kv: -sum(kv[1]))
        lines = ["Where this bot's wall time goes (sums overlap: up to 200 updates in flight):"]
        for kind, times in rows[:30]:
            lines.append(
                f"  {len(times):7d} x {sum(times) * 1000:9.0f} ms total "
                f"{statistics.mean(times) * 1000:7.2f} ms mean  {max(times) * 1000:7.0f} ms max"
                f"  {kind}"
            )
        return "\n".join(lines)


class BotApiTimer:
    """A Bot API request middleware (aiogram's public hook) timing every call but getUpdates."""

    def __init__(self, timer: SqlTimer) -> None:
        self.timer = timer

    async def __call__(self, make_request: Any, bot: Any, method: Any) -> Any:
        started = time.perf_counter()
        try:
            return await make_request(bot, method)
        finally:
            name = type(method).__name__
            if name != "GetUpdates":
                self.timer.add(f"Bot API {name}", time.perf_counter() - started)


def statement_kind(statement: str) -> str:
    """A short name for a SQL statement: verb and table."""
    words = " ".join(statement.split()).split(" ")
    verb = words[0].upper()
    table = ""
    for key in ("FROM", "INTO", "UPDATE"):
        upper = [w.upper() for w in words]
        if key in upper:
            index = upper.index(key)
            table = words[index + 1] if key != "UPDATE" or index == 0 else ""
            if key == "UPDATE" and index == 0:
                table = words[1]
            if table:
                break
    return f"{verb} {table}".strip()


@dataclass
class Profiler:
    """cProfile of the bot's main thread plus SQL timings."""

    profile: Any
    sql: SqlTimer


def start_profile(app: Any) -> Profiler:
    """Start profiling the running bot."""
    import cProfile

    sql = SqlTimer()
    sql.attach(app)
    prof = cProfile.Profile()
    prof.enable()
    return Profiler(prof, sql)


def stop_profile(profiler: Profiler, path: str) -> None:
    """Stop and write the cProfile stats plus a text report next to them."""
    import io
    import pstats

    profiler.profile.disable()
    profiler.profile.dump_stats(path)
    buf = io.StringIO()
    stats = pstats.Stats(profiler.profile, stream=buf)
    stats.sort_stats("tottime").print_stats(40)
    parts = [profiler.sql.report(), by_package(stats), buf.getvalue()]
    Path(path + ".txt").write_text("\n\n".join(parts))


def by_package(stats: Any) -> str:
    """cProfile own time summed per package (epoll wait shown apart: it is idle time)."""
    totals: dict[str, float] = {}
    for (filename, _line, func), row in stats.stats.items():
        name = package_of(filename, func)
        totals[name] = totals.get(name, 0.0) + row[2]
    rows = sorted(totals.items(), key=lambda kv: -kv[1])[:20]
    lines = ["cProfile own time by package (main thread):"]
    lines.extend(f"  {seconds:8.2f} s  {name}" for name, seconds in rows)
    return "\n".join(lines)


def package_of(filename: str, func: str) -> str:
    """A short package name for a profiled function."""
    if "poll" in func and "epoll" in func:
        return "(idle: epoll wait)"
    if filename == "~":
        return "(builtins) " + func.split(" of ")[0][:40]
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if str(ROOT) in filename:
        return "xuatngu " + filename.split(str(ROOT) + "/", 1)[1].split("/", 1)[0]
    return "stdlib " + Path(filename).stem


# ---------------------------------------------------------------- the run


@dataclass
class Bench:
    """The running emulator and bots, and the clients talking to them."""

    base: str
    clients: dict[bool, EmulatorClient]
    users: int
    pids: dict[str, int]
    first: int = FIRST_USER_ID

    def users_for(self, echo: bool) -> list[EmulatedUser]:
        """The simulated users of one bot (same ids for both bots, separate chats)."""
        client = self.clients[echo]
        return [client.user(self.first + i, language_code="vi") for i in range(self.users)]

    async def scenario(
        self, scenario: Scenario, counts: list[int], echo: bool
    ) -> tuple[PhaseResult, int]:
        """Setup, settle, then the timed steps; returns results and setup failures."""
        users = self.users_for(echo)
        n = len(scenario.setup)
        failed = 0
        if scenario.setup:
            out = await run_phase(users, scenario.setup, counts[:n], echo)
            failed = out.timeouts + out.errors
        await self.clients[echo].settle(idle=0.3, timeout=30)
        before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        result = await run_phase(users, scenario.steps, counts[n:], echo)
        result.cpu = {name: cpu_seconds(pid) - before[name] for name, pid in self.pids.items()}
        await self.clients[echo].settle(idle=0.3, timeout=30)
        return result, failed


def ms(seconds: float) -> str:
    """Seconds as milliseconds."""
    return f"{seconds * 1000:7.1f} ms"


def print_header(users: int, dbs: list[str], profile: bool) -> None:
    """Explain the setup."""
    print("bench/updates.py — this bot vs a bare aiogram 3 echo bot on the same emulator")
    print(
        f"setup: {users} simulated users, all concurrent; emulator (rate limits off), this bot "
        "and the echo bot each in its own subprocess; users in this process; "
        f"{os.cpu_count()} CPUs"
    )
    print(
        "  this bot: BotApp(with_admin=False, with_scheduler=False), long polling over HTTP, "
        f"on a fresh database each: {', '.join(dbs)} (PostgreSQL 127.0.0.1:5432; SQLite WAL in "
        "a temp dir)" + (" — under cProfile (slower)" if profile else "")
    )
    print(
        "  echo bot: aiogram Dispatcher and its own AiohttpSession, message handler echoes "
        "text (+1 inline button), callback handler answers and sends a message"
    )
    print(
        "  each scenario runs on the echo bot, then on this bot (alternating order); latency = "
        "send/press until the first reply message arrives; throughput = timed updates / wall time"
    )


def print_result(
    name: str, echo: PhaseResult, mine: PhaseResult, failed: tuple[int, int], kind: str
) -> str:
    """Print one scenario's figures and its bar line; a summary line."""
    ratio = mine.rate / echo.rate if echo.rate else 0.0
    lat50 = mine.pct(50) / echo.pct(50) if echo.pct(50) else 0.0
    lat99 = mine.pct(99) / echo.pct(99) if echo.pct(99) else 0.0
    print(f"\n{name}")
    for label, r, f in (("echo bot", echo, failed[0]), ("this bot", mine, failed[1])):
        print(
            f"  {label}: {r.updates:5d} updates in {r.seconds:6.2f} s = {r.rate:7.1f} upd/s   "
            f"p50 {ms(r.pct(50))}  p99 {ms(r.pct(99))}   "
            f"timeouts {r.timeouts}  errors {r.errors}  setup failures {f}"
        )
        if r.updates:
            cpu = ", ".join(f"{k} {v / r.updates * 1000:.1f}" for k, v in r.cpu.items())
            print(f"            CPU ms per update: {cpu}")
    print(f"  ratio this/echo: throughput {ratio:.2f}   latency p50 {lat50:.2f}x  p99 {lat99:.2f}x")
    ok = ratio >= BARS[kind] and mine.timeouts + mine.errors == 0
    verdict = f"ratio >= {BARS[kind]}: {'PASS' if ok else 'FAIL'}"
    print(f"  {verdict}")
    return f"  {kind:8s} {name:42s} {ratio:.2f}  {verdict}"


async def api_errors(client: EmulatorClient) -> int:
    """Bot API calls the emulator answered with an error."""
    return len(await client.calls(errors=True))


@contextlib.asynccontextmanager
async def database(kind: str, tmpdir: Path) -> AsyncIterator[str]:
    """A fresh database for this bot: a SQLite file, or a new PostgreSQL database (dropped)."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmpdir}/bench.sqlite3"
        return
    import asyncpg

    name = f"xuatngu_bench_{os.getpid()}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def run_all(users: int, dbs: list[str], profile: bool, keep_profile: str = "") -> None:
    """Start the emulator and the echo bot; run this bot on each database; print; clean up."""
    print_header(users, dbs, profile)
    with tempfile.TemporaryDirectory(prefix="xuatngu-bench-") as tmp:
        tmpdir = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        children: list[Child] = []
        summary: list[str] = []
        try:
            children.append(
                await spawn("emulator", ["-m", "emulator", "--port", str(port)], tmpdir, False)
            )
            await wait_healthy(base)
            children.append(await spawn("echo", [__file__, "--serve-echo", base], tmpdir, True))
            for n, kind in enumerate(dbs):
                async with database(kind, tmpdir) as db:
                    prof_path = (keep_profile or str(tmpdir / "bot")) + f"-{kind}.prof"
                    bot_args = [__file__, "--serve-bot", base, BOT_TOKENS[kind], db]
                    bot_args += ["--profile", prof_path] * profile
                    bot = await spawn(f"bot-{kind}", bot_args, tmpdir, True)
                    children.append(bot)
                    pids = {"emulator": children[0].proc.pid, "echo": children[1].proc.pid}
                    pids.update({"bot": bot.proc.pid, "users": os.getpid()})
                    print(f"\n======== this bot on {kind} (bar: ratio >= {BARS[kind]})")
                    summary += await measure(
                        base, users, pids, kind, FIRST_USER_ID + n * (users + 10)
                    )
                    if profile:
                        print("\n" + thread_cpu(bot.proc.pid))
                    await bot.stop()
                    if profile:
                        print("\n" + read_report(Path(prof_path + ".txt")))
                    report_errors(bot)
            report_errors(children[1])
            print("\nsummary (this bot / echo bot, same run):")
            print("\n".join(summary))
        finally:
            for child in reversed(children):
                await child.stop()


def report_errors(child: Child) -> None:
    """Print the end of a child's log when it logged errors."""
    errors = child.tail(200).count("ERROR") + child.tail(200).count("Traceback")
    if errors:
        print(f"\n{child.name} log has {errors} error lines; last lines:")
        print(child.tail(10))


def read_report(path: Path) -> str:
    """The profile report the bot wrote on exit."""
    return path.read_text() if path.exists() else "(no profile written)"


async def measure(base: str, users: int, pids: dict[str, int], kind: str, first: int) -> list[str]:
    """Calibrate, then run each scenario on both bots; print; one summary line per scenario."""
    async with (
        EmulatorClient(base, bot=ECHO_TOKEN) as echo_client,
        EmulatorClient(base, bot=BOT_TOKENS[kind]) as bot_client,
    ):
        clients = {True: echo_client, False: bot_client}
        for client in clients.values():  # open the users' HTTP connections before timing
            await asyncio.gather(*(client.request("GET", "/_emu/health") for _ in range(users)))
        counts = dict(
            zip(
                (True, False),
                await asyncio.gather(
                    calibrate(echo_client, True, first), calibrate(bot_client, False, first)
                ),
                strict=True,
            )
        )
        print(
            f"reply messages per step (setup+timed): echo {counts[True]}, this bot {counts[False]}"
        )
        bench = Bench(base, clients, users, pids, first)
        summary = []
        started = time.perf_counter()
        for i, scenario in enumerate(SCENARIOS):
            results: dict[bool, tuple[PhaseResult, int]] = {}
            for echo in (True, False) if i % 2 == 0 else (False, True):
                results[echo] = await bench.scenario(scenario, counts[echo][i], echo)
            summary.append(
                print_result(
                    scenario.name,
                    results[True][0],
                    results[False][0],
                    (results[True][1], results[False][1]),
                    kind,
                )
            )
        errors = {e: await api_errors(c) for e, c in clients.items()}
        print(
            f"\nBot API errors: echo {errors[True]}, this bot {errors[False]}; "
            f"measured part took {time.perf_counter() - started:.1f} s"
        )
        return summary


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="simulated users (default 200)")
    parser.add_argument("--quick", action="store_true", help="20 users: a smoke run")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="",
        default=None,
        metavar="FILE",
        help="run this bot under cProfile and print where time goes (FILE keeps the .prof)",
    )
    parser.add_argument(
        "--db",
        choices=("both", "sqlite", "postgres"),
        default="both",
        help="this bot's database: PostgreSQL (127.0.0.1:5432, XUATNGU_BENCH_PG_URL), SQLite, "
        "or both one after the other (default)",
    )
    parser.add_argument(
        "--serve-bot", nargs=3, metavar=("API", "TOKEN", "DB"), help=argparse.SUPPRESS
    )
    parser.add_argument("--serve-echo", metavar="API", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the bench, or one of its child processes."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    runner: Callable[[], Awaitable[None]]
    if args.serve_bot:
        api, token, db = args.serve_bot
        runner = lambda: serve_bot(api, token, db, args.profile or None)  # noqa: E731
    elif args.serve_echo:
        runner = lambda: serve_echo(args.serve_echo)  # noqa: E731
    else:
        users = 20 if args.quick else args.users
        dbs = ["postgres", "sqlite"] if args.db == "both" else [args.db]
        runner = lambda: run_all(users, dbs, args.profile is not None, args.profile or "")  # noqa: E731
    asyncio.run(runner())


if __name__ == "__main__":
    main()
