"""One broadcast to 10,000 people through the Bot API emulator enforcing Telegram's limits (30
messages/s per bot, 1 message/s per chat) with 2% of the answers failing, while a soldier
answers the survey.

Run: ``.venv/bin/python bench/broadcast.py [--quick] [--recipients N] [--db postgres|sqlite]``
(``--quick``: 1,000 recipients, about 45 s; the full run takes about 7 minutes at 25/s).

The bot runs as ``xuatngu run`` in a subprocess (SEND_RATE 25, the default); the emulator and
the scripted users run here. The broadcast is queued before the bot starts; the survey user
(fresh ids, not a recipient) answers four questions again and again until the broadcast is
done, timing each reply. Prints the send rate (calls that were not answered 429, over the
broadcast's first to last call), 429s, duplicates (chats showing the message twice), missing
(chats without it whose row is not 'unknown'), unknowns, and the survey's reply latencies.
Bars: rate ≥ 0.95 × SEND_RATE, ≤ 1 × 429 per 1,000 sends, 0 duplicates, 0 missing, slowest
survey reply ≤ 2 s → PASS, else FAIL (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bot.broadcasts import service  # noqa: E402
from bot.broadcasts.compose import check_draft  # noqa: E402
from emulator import EmulatorClient, RateLimits  # noqa: E402
from emulator.client.user import BOT_EVENTS  # noqa: E402
from emulator.faults import Faults  # noqa: E402
from emulator.server import Emulator  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402
from storage.models import Person  # noqa: E402
from storage.models.base import utcnow  # noqa: E402
from storage.models.outbox import OutboxMessage, OutboxRow  # noqa: E402
from storage.segments import Segment  # noqa: E402

TOKEN = "333333333:BENCH-token-for-the-broadcast"
PG_ADMIN_URL = os.environ.get("XUATNGU_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
XUATNGU = Path(sys.executable).parent / "xuatngu"
RATE = 25.0
FIRST = 5_000_000
SURVEY_USER = 6_000_000
TEXT = "Ngày hội việc làm <b>thứ Bảy</b> tại nhà văn hóa xã"
SHOWN = "Ngày hội việc làm thứ Bảy tại nhà văn hóa xã"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def pg_database() -> tuple[str, Any]:
    """A fresh PostgreSQL database; (async URL, drop())."""
    import asyncpg

    name = f"xuatngu_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}", drop


async def prepare(url: str, recipients: int) -> int:
    """Migrate, add the recipients (no service dates: no reminders), queue the broadcast."""
    engine = create_engine(url)
    await upgrade_async(engine)
    sessions = create_sessionmaker(engine)
    now = utcnow()
    common = {"language": "vi", "tg_first_name": "Minh", "home_commune_code": "6187"}
    rows = [
        {"telegram_user_id": c, "chat_id": c, "created_at": now, "updated_at": now, **common}
        for c in range(FIRST, FIRST + recipients)
    ]
    async with sessions() as s:
        for first in range(0, len(rows), 1000):
            await s.execute(insert(Person), rows[first : first + 1000])
        author = service.Author(actor="bench", scope=None, sees_all=True)
        draft = check_draft(TEXT, None, Segment(communes=("6187",)))
        count = await service.count_recipients(s, draft.segment, author)
        message = await service.create(s, draft, author, now, count)
        await s.commit()
        message_id = message.id
    await engine.dispose()
    return message_id


async def survey_loop(base: str, stop: asyncio.Event, latencies: list[float]) -> int:
    """A soldier (a new one each round) answers four survey questions; each reply is timed
    until its first message, edit or toast. Returns how many replies timed out (10 s)."""
    timeouts = 0
    async with EmulatorClient(base) as client:
        for n in range(10_000):
            if stop.is_set():
                break
            user = client.user(SURVEY_USER + n, language_code="vi")
            steps = [
                ("send", "/survey"),
                ("press", "Đồng ý tất cả"),
                ("send", "Nguyễn Văn An"),
                ("send", "0912 345 678"),
            ]
            for kind, value in steps:
                started = time.monotonic()
                if kind == "send":
                    await user.send(value)
                else:
                    await user.press(value)
                _, ok = await user.events_since(1, BOT_EVENTS, 10.0)
                if not ok:
                    timeouts += 1
                    break
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(2.0)  # a soldier reads the reply (Telegram: 1 message/s a chat)
    return timeouts


async def wait_done(url: str, message_id: int, limit: float) -> bool:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            async with sessions() as s:
                status = await s.scalar(
                    select(OutboxMessage.status).where(OutboxMessage.id == message_id)
                )
            if status == "done":
                return True
            await asyncio.sleep(1.0)
        return False
    finally:
        await engine.dispose()


async def statuses(url: str, message_id: int) -> dict[int, str]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as s:
            rows = await s.execute(
                select(Person.chat_id, OutboxRow.status)
                .join(Person, Person.id == OutboxRow.person_id)
                .where(OutboxRow.message_id == message_id)
            )
            return {int(c): st for c, st in rows.all()}
    finally:
        await engine.dispose()


def shown(emu: Emulator) -> Counter[int]:
    """How many times each chat shows the broadcast."""
    bot = emu.core.bot_for_token(TOKEN)
    return Counter(
        {
            chat_id: sum(
                r.from_bot and r.message.get("text") == SHOWN for r in chat.messages.values()
            )
            for chat_id, chat in bot.chats.items()
        }
    )


async def run(recipients: int, db: str, log_path: Path) -> bool:
    drop = None
    if db == "postgres":
        url, drop = await pg_database()
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='xuatngu-bench-')}/bot.sqlite3"
    emu = Emulator(RateLimits(global_capacity=30, global_rate=30, per_chat_rate=1))
    base = await emu.start()
    proc = None
    try:
        message_id = await prepare(url, recipients)
        bot = emu.core.bot_for_token(TOKEN)
        for chat_id in range(FIRST, FIRST + recipients):
            bot.chat_for(emu.core.ensure_user(chat_id)).started = True
        # 2% of the broadcast's calls fail; the survey's replies are what is timed
        recipients_range = range(FIRST, FIRST + recipients)
        emu.core.faults = Faults(rate=0.02, seed=random.randrange(1 << 32), chats=recipients_range)
        local = utcnow().astimezone(TZ)
        env = {
            **os.environ,
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": base,
            "DATABASE_URL": url,
            "ADMIN_PORT": str(free_port()),
            "SEND_RATE": str(RATE),
            # the bench must not wait for the morning
            "QUIET_START": (local + timedelta(hours=2)).strftime("%H:%M"),
            "QUIET_END": (local + timedelta(hours=3)).strftime("%H:%M"),
        }
        with log_path.open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                str(XUATNGU), "run", env=env, stdout=log, stderr=log
            )
        for _ in range(600):  # the survey starts once the bot runs
            logged = await asyncio.to_thread(log_path.read_bytes)
            if b"xuatngu is running" in logged or proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        stop = asyncio.Event()
        latencies: list[float] = []
        survey = asyncio.create_task(survey_loop(base, stop, latencies))
        done = await wait_done(url, message_id, recipients / RATE * 2 + 120)
        stop.set()
        timeouts = await survey
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
        return report(emu, await statuses(url, message_id), recipients, done, latencies, timeouts)
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        await emu.stop()
        if drop is not None:
            await drop()


def report(
    emu: Emulator,
    status: dict[int, str],
    recipients: int,
    done: bool,
    latencies: list[float],
    timeouts: int,
) -> bool:
    calls = [
        c
        for c in emu.core.calls
        if c["method"] == "sendMessage"
        and isinstance(c["chat_id"], int)
        and c["chat_id"] >= FIRST
        and c["chat_id"] < FIRST + recipients
    ]
    limited = sum(c.get("error_code") == 429 for c in calls)
    tried = [c for c in calls if c.get("error_code") != 429]
    span = (tried[-1]["time"] - tried[0]["time"]) if len(tried) > 1 else 0.0
    rate = (len(tried) - 1) / span if span else 0.0
    got = shown(emu)
    duplicates = sum(n > 1 for n in got.values())
    unknown = sum(st == "unknown" for st in status.values())
    missing = sum(1 for c, st in status.items() if got[c] == 0 and st != "unknown")
    counts = Counter(status.values())
    faults = emu.core.faults.counts
    per_1000 = limited / max(1, len(calls)) * 1000
    slowest = max(latencies) if latencies else float("inf")
    p50 = statistics.median(latencies) if latencies else float("inf")
    print(f"recipients {recipients}, finished: {done}; statuses {dict(counts)}")
    print(f"faults injected {dict(faults)}")
    print(f"send rate {rate:.2f}/s over {span:.1f} s (SEND_RATE {RATE:g}/s, emulator 30/s)")
    print(f"429 answers {limited} ({per_1000:.2f} per 1,000 sends)")
    print(f"duplicates {duplicates}, missing {missing}, unknown {unknown}")
    print(
        f"survey replies during the broadcast: {len(latencies)}, p50 {p50 * 1000:.0f} ms, "
        f"slowest {slowest * 1000:.0f} ms, timeouts {timeouts}"
    )
    bars = [
        (f"rate {rate:.2f} >= {0.95 * RATE:.2f}", rate >= 0.95 * RATE),
        (f"429 per 1,000 sends {per_1000:.2f} <= 1", per_1000 <= 1),
        (f"duplicates {duplicates} == 0", duplicates == 0),
        (f"missing {missing} == 0 (unknown {unknown} reported)", missing == 0 and done),
        (f"slowest survey reply {slowest:.2f} s <= 2 s", slowest <= 2.0 and not timeouts),
    ]
    for text, ok in bars:
        print(f"bar: {text}: {'PASS' if ok else 'FAIL'}")
    return all(ok for _, ok in bars)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 recipients")
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    recipients = 1000 if args.quick else args.recipients
    log = Path(tempfile.mkdtemp(prefix="xuatngu-bench-")) / "bot.log"
    print(f"bench/broadcast.py: {recipients} recipients on {args.db}; bot log {log}")
    ok = asyncio.run(run(recipients, args.db, log))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
