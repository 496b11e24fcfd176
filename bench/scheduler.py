"""Scheduler benchmark: one tick with 1,000 sends due among 10k, 100k and 1M people.

Each generated person has ROWS_PER_PERSON scheduled rows (two already sent, the rest pending in
the future); 1,000 of them have one row due now. The tick must follow the number due, not the
population: the due query runs on the (status, due_at) index.

    .venv/bin/python bench/scheduler.py                 # 10k, 100k, 1M
    .venv/bin/python bench/scheduler.py --sizes 10000,100000 --keep /tmp/bench
Each size: a warm-up pass with nothing due (the scheduler runs every 30 s), then --repeat timed
ticks sending the same 1,000 rows (reset between runs); the median counts.
Bar: the 1,000,000 tick takes at most 2 × the 10,000 tick → PASS, else FAIL (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram.types import InlineKeyboardMarkup

from bot.config import load_settings
from bot.sending import NOT_SENT, BeforeCall, SendResult
from bot.timeline import tick
from bot.timeline.rows import DIGEST_KEY, schedule_key
from bot.timeline.schedule import get_schedule
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade

DUE = 1_000
ROWS_PER_PERSON = 4
NOW = datetime(2027, 5, 1, 2, 0, tzinfo=UTC)  # 09:00 in Lạng Sơn
SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a UTC datetime in SQLite
CHUNK = 50_000


@dataclass
class CountingSender:
    """A sender that only counts."""

    count: int = 0

    async def send_text(
        self,
        chat_id: int,
        text: str,
        reply_markup: InlineKeyboardMarkup | None = None,
        *,
        before_call: BeforeCall | None = None,
    ) -> SendResult:
        """Count and succeed (nothing when ``before_call`` says no)."""
        if before_call is not None and not await before_call():
            return NOT_SENT
        self.count += 1
        return SendResult(ok=True, message_id=self.count)


def ts(moment: datetime) -> str:
    """A UTC datetime in SQLAlchemy's SQLite text form."""
    return moment.astimezone(UTC).strftime(SQLITE_TS)


def _people_rows(start: int, stop: int, created: str) -> list[tuple[object, ...]]:
    """People ``start``…``stop - 1``."""
    return [
        (
            i,
            10_000_000 + i,
            10_000_000 + i,
            "vi",
            created,
            created,
            0,
            0,
            "2026-02-01",
            "2028-02-01",
        )
        for i in range(start, stop)
    ]


def _send_rows(start: int, stop: int) -> list[tuple[object, ...]]:
    """Scheduled rows of people ``start``…``stop - 1``: 2 sent, the rest pending."""
    past, future = ts(NOW - timedelta(days=90)), ts(NOW + timedelta(days=200))
    due, due_expiry = ts(NOW - timedelta(hours=1)), ts(NOW + timedelta(days=10))
    far = ts(NOW + timedelta(days=400))
    entries = ("survey_invite", "survey_nudge", "training_support_30d", "home_check")
    rows: list[tuple[object, ...]] = []
    for i in range(start, stop):
        for k, entry in enumerate(entries[:ROWS_PER_PERSON]):
            if k < 2:
                rows.append((i, entry, past, past, "sent", past, "message:1", past))
            elif k == 2 and i <= DUE:
                rows.append((i, entry, due, due_expiry, "pending", None, None, past))
            else:
                rows.append((i, entry, future, far, "pending", None, None, past))
    return rows


def populate(path: Path, people: int) -> None:
    """Migrate a fresh SQLite file and bulk-insert people and their rows."""
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    created = ts(NOW - timedelta(days=100))
    for start in range(1, people + 1, CHUNK):
        stop = min(start + CHUNK, people + 1)
        conn.executemany(
            "INSERT INTO people (id, telegram_user_id, chat_id, language, created_at, updated_at,"
            " consent_sharing, reminders_paused, enlistment_month, discharge_month)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            _people_rows(start, stop, created),
        )
        conn.executemany(
            "INSERT INTO scheduled_sends (person_id, entry_id, due_at, expires_at, status,"
            " sent_at, result, created_at) VALUES (?,?,?,?,?,?,?,?)",
            _send_rows(start, stop),
        )
    settings = load_settings(database_url=url)
    key = schedule_key(get_schedule(), settings.tz)
    conn.execute(
        "INSERT INTO timeline_state (key, value, updated_at) VALUES (?,?,?)",
        (DIGEST_KEY, key, created),
    )
    conn.commit()
    conn.close()


def reset_due(path: Path) -> None:
    """Make the 1,000 due rows pending again (between repetitions) and flush to disk."""
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE scheduled_sends SET status='pending', claimed_at=NULL, claim_token=NULL,"
        " sent_at=NULL, result=NULL WHERE person_id <= ? AND entry_id='training_support_30d'",
        (DUE,),
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    os.sync()  # the bulk load's dirty pages must not slow the timed tick down


async def timed_ticks(path: Path, repeat: int) -> list[float]:
    """Seconds of ``repeat`` ticks, each sending the same 1,000 due rows."""
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    settings = load_settings(database_url=url)
    sessions = create_sessionmaker(engine)
    times = []
    try:
        # The scheduler runs every 30 s: warm up with a pass that finds nothing due.
        await tick(sessions, CountingSender(), NOW - timedelta(days=1), settings=settings)
        for _ in range(repeat):
            await asyncio.to_thread(reset_due, path)
            sender = CountingSender()
            started = time.perf_counter()
            result = await tick(sessions, sender, NOW, settings=settings)
            times.append(time.perf_counter() - started)
            if result.sent != DUE or sender.count != DUE:
                raise SystemExit(f"expected {DUE} sends, got {result.summary()}")
    finally:
        await engine.dispose()
    return times


def main() -> int:
    """Run the sizes and print the bar line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--keep", type=Path, help="folder to keep the database files in")
    parser.add_argument("--repeat", type=int, default=3, help="timed ticks per size (median)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="xuatngu-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    times: dict[int, float] = {}
    for size in sizes:
        path = folder / f"scheduler-{size}.sqlite3"
        path.unlink(missing_ok=True)
        started = time.perf_counter()
        populate(path, size)
        built = time.perf_counter() - started
        runs = asyncio.run(timed_ticks(path, args.repeat))
        times[size] = statistics.median(runs)
        print(
            f"people={size:>9,}  rows={size * ROWS_PER_PERSON:>10,}  due={DUE}  "
            f"tick median={times[size] * 1000:7.1f} ms  "
            f"runs={', '.join(f'{t * 1000:.0f}' for t in runs)} ms  (built in {built:.1f} s)",
            flush=True,
        )
        if args.keep is None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    small, large = min(sizes), max(sizes)
    ok = times[large] <= 2 * times[small]
    print(
        f"bar: {large:,} tick {times[large] * 1000:.1f} ms <= 2 x {small:,} tick "
        f"{times[small] * 1000:.1f} ms -> {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
