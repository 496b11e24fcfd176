"""Nothing lost in a crash: the real bot process is killed (SIGKILL) at random instants.

Scripted soldiers answer the survey's first questions against the emulator while the bot
process (``xuatngu run``) is killed and restarted several times. In the end every answer is
stored exactly once, each was followed by the bot's next question, and Telegram (the emulator)
has no unconfirmed update left. Also, in process: an update stored but never handled is handled
after a restart, and one handled but never replied to gets exactly one reply.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from emulator import BotMessage, EmulatedUser, Emulator, EmulatorClient, RateLimits
from storage import updates as inbox_repo
from storage.db import create_engine, create_sessionmaker
from storage.models import Answer, InboxUpdate, Person, SurveyResponse
from tests.conftest import TEST_TOKEN, RunningBot, free_port, fresh_pg_database

XUATNGU = Path(sys.executable).parent / "xuatngu"
USERS = 5  # 5 typed answers each: 25 answers per database
KILLS = 6  # at most; each user does 1 or 2 of its 8 actions between kills
REPLY_TIMEOUT = 60.0
NAMES = ["An", "Bình", "Cường", "Dũng", "Giang"]


@dataclass
class BotProcess:
    """``xuatngu run`` as a child process, killed and restarted by its pid."""

    env: dict[str, str]
    log_path: Path
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                str(XUATNGU), "run", env=self.env, stdout=log, stderr=log
            )
        self.starts += 1
        for _ in range(1200):  # the log says so once polling runs
            if self.log_path.read_text(errors="replace").count("xuatngu is running") >= self.starts:
                return
            if self.proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"the bot did not start:\n{self.log_tail()}")

    async def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        assert await self.proc.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        """SIGTERM: the graceful stop."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGTERM)
        assert await asyncio.wait_for(self.proc.wait(), 30) == 0, self.log_tail()


@asynccontextmanager
async def bot_process(
    database_url: str, api_base: str, log_path: Path
) -> AsyncIterator[BotProcess]:
    """A bot process on this database; killed by pid on the way out if still running."""
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE": api_base,
        "DATABASE_URL": database_url,
        "ADMIN_PORT": str(free_port()),
        "COOKIE_SECURE": "false",
    }
    process = BotProcess(env, log_path)
    try:
        yield process
    finally:
        if process.proc is not None and process.proc.returncode is None:
            os.kill(process.proc.pid, signal.SIGKILL)
            await process.proc.wait()


def _texts(messages: list[BotMessage]) -> str:
    return "\n".join(m.text or "" for m in messages)


async def _act(
    user: EmulatedUser,
    action: Callable[[], Awaitable[Any]],
    shows: str,
    sent: asyncio.Event,
    log: list[tuple[int, str, int]],
) -> None:
    """Do an action, then wait (through kills and restarts) for a bot message showing ``shows``."""
    result = await action()
    log.append((user.id, shows, result["update_id"]))
    sent.set()
    for count in itertools.count(1):
        messages = await user.wait_messages(count, timeout=REPLY_TIMEOUT)
        if shows in _texts(messages):
            return
        assert "⚠️" not in _texts(messages), f"{user.id}: {_texts(messages)}"
    raise AssertionError("unreachable")


def _script(i: int) -> list[tuple[str, str, str]]:
    """(how, what, the next screen shows) for user ``i``: 5 typed answers and 3 taps."""
    return [
        ("send", "/survey", "Đồng ý tất cả"),
        ("press", "Đồng ý tất cả", "Câu 1/14"),
        ("send", f"Nguyễn Văn {NAMES[i]}", "Câu 2/14"),
        ("send", f"0912 345 {600 + i}", "Câu 3/14"),
        ("press", "Quân đội", "Câu 4/14"),
        ("send", f"{i + 1:02d}/2024", "Câu 5/14"),
        ("send", f"{i + 1}/2026", "Câu 6/14"),
        ("send", "tam thanh", "Câu 7/14"),
    ]


async def _soldier(
    user: EmulatedUser, i: int, sent: asyncio.Event, log: list[tuple[int, str, int]]
) -> None:
    for how, what, shows in _script(i):
        action = user.send if how == "send" else user.press
        await _act(user, partial(action, what), shows, sent, log)
        await asyncio.sleep(random.uniform(0.3, 1.0))


async def _killer(bot: BotProcess, sent: asyncio.Event, users_done: asyncio.Future[Any]) -> int:
    """Kill the bot a short random time after some send; restart it; return how many kills."""
    kills = 0
    while kills < KILLS:
        sent.clear()
        next_send = asyncio.ensure_future(sent.wait())
        await asyncio.wait({next_send, users_done}, return_when=asyncio.FIRST_COMPLETED)
        next_send.cancel()
        if users_done.done():
            break
        await asyncio.sleep(random.uniform(0, 0.15))
        await bot.kill()
        kills += 1
        await asyncio.sleep(random.uniform(0, 0.3))  # updates pile up while it is down
        await bot.start()
        await asyncio.sleep(random.uniform(0, 0.3))
    return kills


@pytest.mark.timeout(400)
@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_kill_at_random_instants_loses_no_answer(db: str, tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        if db == "postgres":
            url = await stack.enter_async_context(fresh_pg_database())
        else:
            url = f"sqlite+aiosqlite:///{tmp_path}/crash.sqlite3"
        emulator = Emulator(RateLimits.off())
        base = await emulator.start(host="127.0.0.1", port=0)
        stack.push_async_callback(emulator.stop)
        emu = EmulatorClient(base)
        stack.push_async_callback(emu.close)
        bot = await stack.enter_async_context(bot_process(url, base, tmp_path / "bot.log"))
        await bot.start()

        sent = asyncio.Event()
        log: list[tuple[int, str, int]] = []
        users = [emu.user(7000 + i, first_name=f"Lính{i}") for i in range(USERS)]
        soldiers = asyncio.gather(*(_soldier(u, i, sent, log) for i, u in enumerate(users)))
        users_done = asyncio.ensure_future(soldiers)
        try:
            kills = await _killer(bot, sent, users_done)
            await users_done
        except BaseException:
            users_done.cancel()
            print(bot.log_tail())
            raise
        assert kills >= 4

        # every update confirmed to Telegram, every stored one finished
        settled = await emu.request("POST", "/_emu/settle", idle=1.0, timeout=30)
        assert settled["pending_updates"] == 0, settled
        await bot.stop()

        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(Person.telegram_user_id, Answer.question_id, Answer.value)
                .join(SurveyResponse, SurveyResponse.person_id == Person.id)
                .join(Answer, Answer.response_id == SurveyResponse.id)
            )
            stored: dict[int, dict[str, Any]] = {}
            for user_id, question, value in rows:
                assert question not in stored.setdefault(user_id, {}), "an answer stored twice"
                stored[user_id][question] = value
            states = dict(
                (await session.execute(select(InboxUpdate.update_id, InboxUpdate.state))).all()
            )
        typed = 0
        for i, user in enumerate(users):
            answers = stored[user.id]
            assert answers["full_name"] == f"Nguyễn Văn {NAMES[i]}"
            assert answers["phone"] == f"+84912345{600 + i}"
            assert answers["branch"] == "army", answers
            assert answers["enlistment_month"] == f"2024-{i + 1:02d}", answers
            assert answers["discharge_month"] == f"2026-{i + 1:02d}", answers
            assert answers["home_commune"], answers
            typed += 5
        assert typed >= 20
        # every action reached the database and finished (its reply sent)
        assert {states[update_id] for _, _, update_id in log} == {"replied"}


# ---------------------------------------------------------------- in process, by hand


async def test_stored_but_unhandled_update_is_handled_after_restart(
    running_bot_any_db: RunningBot,
) -> None:
    rb = running_bot_any_db
    user = rb.emu.user(7101, first_name="Mạnh")
    assert "Các lệnh:" in (await user.ask("/help")).text
    await rb.app.stop()
    # stored and confirmed to Telegram, then the process died before handling it
    payload = {
        "update_id": 900_001,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": "Mạnh"},
            "from": {"id": user.id, "is_bot": False, "first_name": "Mạnh", "language_code": "vi"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    async with rb.sessionmaker() as session:
        await inbox_repo.store_updates(session, bot_id=rb.bot.id, updates=[(900_001, payload)])
        await session.commit()
    before = len(await user.history())
    await rb.restart()
    for _ in range(150):  # up to 15 s: the reply comes once the bot is up
        if len(await user.history()) > before:
            break
        await asyncio.sleep(0.1)
    await rb.emu.settle(idle=0.5)
    after = await user.history()
    assert len(after) == before + 1 and "Các lệnh:" in (after[-1].text or "")
    async with rb.sessionmaker() as session:
        states = dict(
            (await session.execute(select(InboxUpdate.update_id, InboxUpdate.state))).all()
        )
    assert states[900_001] == "replied"


async def test_handled_but_unreplied_update_gets_exactly_one_reply(
    running_bot_any_db: RunningBot,
) -> None:
    rb = running_bot_any_db
    user = rb.emu.user(7102, first_name="Hùng")
    await user.ask("/survey")
    await user.click("Đồng ý tất cả")
    assert "Câu 2/14" in (await user.ask("Lê Văn Hùng")).text
    answered = user.last_update_id
    await rb.app.stop()
    # the answer's transaction committed, then the process died before the reply went out
    # (a replied update no longer holds what was said: put back what Telegram sent)
    payload = {
        "update_id": answered,
        "message": {
            "message_id": 99,
            "date": 1_700_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": "Hùng"},
            "from": {"id": user.id, "is_bot": False, "first_name": "Hùng", "language_code": "vi"},
            "text": "Lê Văn Hùng",
        },
    }
    async with rb.sessionmaker() as session:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == answered)
            .values(state="handled", payload=payload)
        )
        await session.commit()
    before = len(await user.history())
    await rb.restart()
    # the recovered reply comes once the bot is up (slower when other tests share the CPU),
    # then nothing more
    for _ in range(150):  # up to 15 s
        if len(await user.history()) > before:
            break
        await asyncio.sleep(0.1)
    await rb.emu.settle(idle=0.5)
    after = await user.history()
    assert len(after) == before + 1, [m.text for m in after[before:]]
    assert "làm tiếp từ câu 2/14" in (after[-1].text or "")
    assert "Câu 2/14" in (after[-1].text or "")
    async with rb.sessionmaker() as session:
        names = await session.scalar(select(func.count()).where(Answer.question_id == "full_name"))
        state = await session.scalar(
            select(InboxUpdate.state).where(InboxUpdate.update_id == answered)
        )
    assert names == 1 and state == "replied"
    # the conversation goes on from there
    assert "Câu 3/14" in (await user.ask("0912 345 678")).text
