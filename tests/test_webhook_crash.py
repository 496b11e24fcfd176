"""Webhook mode survives ``kill -9``: the bot process (``xuatngu run`` with WEBHOOK_URL) is
killed the moment Telegram (the emulator) got its 200 for a soldier's answer; after a restart
the answer is stored exactly once and the soldier gets the next question."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from sqlalchemy import select

from emulator import Emulator, EmulatorClient, RateLimits
from storage.db import create_engine, create_sessionmaker
from storage.models import Answer
from tests.conftest import TEST_TOKEN, free_port
from tests.emulator_helpers import make_bot
from tests.test_crash_updates import BotProcess
from tests.webhook_helpers import SECRET

ANSWERS = [  # what the soldier does, what the next screen shows
    ("Đinh Văn Quyết", "Câu 2/14"),
    ("0912 345 888", "Câu 3/14"),
]


async def test_killed_right_after_the_200_the_answer_is_handled_after_restart(
    tmp_path: Path,
) -> None:
    emulator = Emulator(RateLimits.off())
    base = await emulator.start()
    emu = EmulatorClient(base)
    port = free_port()
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE": base,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/kill.sqlite3",
        "ADMIN_PORT": str(free_port()),
        "COOKIE_SECURE": "false",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/tg",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(port),
    }
    bot = BotProcess(env, tmp_path / "bot.log")
    try:
        await bot.start()
        operator = make_bot(base, TEST_TOKEN)  # what `xuatngu telegram set-webhook` does
        try:
            await operator.set_webhook(env["WEBHOOK_URL"], secret_token=SECRET)
        finally:
            await operator.session.close()
        tg = next(iter(emulator.core.bots.values()))
        soldier = emu.user(7301, first_name="Quyết")
        await soldier.ask("/survey")
        assert "Câu 1/14" in (await soldier.click("Đồng ý tất cả")).text
        for text, shows in ANSWERS:
            posts = tg.counts["webhook_posts"]
            await soldier.send(text)
            for _ in range(10_000):  # kill the moment the 200 arrived
                if tg.counts["webhook_posts"] > posts:
                    break
                await asyncio.sleep(0.001)
            await bot.kill()
            await bot.start()
            for count in range(1, 4):  # an answer may be echoed before the next question
                messages = await soldier.wait_messages(count, timeout=60)
                if shows in (messages[-1].text or ""):
                    break
            assert shows in (messages[-1].text or ""), bot.log_tail()
        await emu.settle(idle=0.5)
        # at least one kill came between the 200 and the handling (the case under test)
        assert "was stored but not handled" in bot.log_path.read_text(errors="replace")
        texts = [m.text or "" for m in await soldier.history()]
        for _text, shows in ANSWERS:  # each answer moved the survey on once
            assert sum(shows in t for t in texts) == 1, texts
        await bot.stop()
        engine = create_engine(env["DATABASE_URL"])
        try:
            async with create_sessionmaker(engine)() as session:
                rows = (await session.execute(select(Answer.question_id, Answer.value))).all()
        finally:
            await engine.dispose()
        answers: dict[str, object] = dict(rows)
        assert len(answers) == len(rows), f"an answer stored twice: {rows}"
        assert answers["full_name"] == "Đinh Văn Quyết" and answers["phone"] == "+84912345888"
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            os.kill(bot.proc.pid, signal.SIGKILL)
            await bot.proc.wait()
        await emu.close()
        await emulator.stop()
