"""What one SQL statement costs the bot's process, by layer, on PostgreSQL and SQLite.

Run: ``.venv/bin/python bench/statements.py [--n 3000]``.

For each database the same one-row ``SELECT`` runs ``n`` times, one after the other, through
each layer the bot's update path uses, and the process CPU time (user + system, all threads) per
statement is printed with its ratio to the bare driver in the same run:

- the driver alone (asyncpg; for SQLite aiosqlite, and the synchronous ``sqlite3`` module as a
  floor: no thread at all);
- SQLAlchemy Core, ``AsyncConnection.execute``;
- SQLAlchemy ORM, ``AsyncSession.execute`` (what repositories call);
- one whole update-sized transaction: a session, one statement, ``COMMIT``, close.

It explains the gap ``bench/updates.py`` measures: the per-statement price of the async SQLite
driver (each statement is several hops to aiosqlite's thread and back) sets the SQLite ceiling,
whatever the bot does around it. No bar: figures only (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite
import asyncpg
from sqlalchemy import bindparam, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

PG_URL = os.environ.get("XUATNGU_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
STATEMENT = select(literal(1)).where(literal(1) == bindparam("x"))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def per_call(n: int, body: Callable[[], Awaitable[object]]) -> float:
    """CPU microseconds per call of ``body`` (after a short warm-up)."""
    for _ in range(50):
        await body()
    start = cpu_seconds()
    for _ in range(n):
        await body()
    return (cpu_seconds() - start) / n * 1e6


async def layers(engine: AsyncEngine, n: int) -> dict[str, float]:
    """The SQLAlchemy layers on one engine."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    figures: dict[str, float] = {}
    async with engine.connect() as conn:
        figures["SQLAlchemy Core (AsyncConnection.execute)"] = await per_call(
            n, lambda: conn.execute(STATEMENT, {"x": 1})
        )
    async with sessions() as session:
        figures["SQLAlchemy ORM (AsyncSession.execute)"] = await per_call(
            n, lambda: session.execute(STATEMENT, {"x": 1})
        )

    async def transaction() -> None:
        session = sessions()
        try:
            await session.execute(STATEMENT, {"x": 1})
            await session.commit()
        finally:
            await session.close()

    figures["one transaction (session, statement, COMMIT, close)"] = await per_call(
        n // 3, transaction
    )
    return figures


async def postgres(n: int) -> dict[str, float]:
    raw = await asyncpg.connect(PG_URL)
    try:
        prepared = await raw.prepare("SELECT 1 WHERE 1 = $1")
        figures = {"driver (asyncpg, prepared)": await per_call(n, lambda: prepared.fetch(1))}
    finally:
        await raw.close()
    engine = create_async_engine(PG_URL.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        figures.update(await layers(engine, n))
    finally:
        await engine.dispose()
    return figures


async def sqlite(n: int, folder: Path) -> dict[str, float]:
    path = folder / "bench.sqlite"
    sync = sqlite3.connect(path)
    sync.execute("PRAGMA journal_mode=WAL")

    async def sync_call() -> object:
        return sync.execute("SELECT 1 WHERE 1 = ?", (1,)).fetchall()

    floor = await per_call(n, sync_call)
    sync.close()
    async with aiosqlite.connect(path) as conn:
        figures = {
            "driver (aiosqlite, execute_fetchall)": await per_call(
                n, lambda: conn.execute_fetchall("SELECT 1 WHERE 1 = ?", (1,))
            )
        }
    figures["sqlite3, synchronous (no thread)"] = floor
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", pool_size=1, max_overflow=0)
    try:
        figures.update(await layers(engine, n))
    finally:
        await engine.dispose()
    return figures


def report(name: str, figures: dict[str, float]) -> None:
    base = next(iter(figures.values()))
    print(f"\n{name}: CPU µs per statement (ratio to the driver, same run)")
    for label, micros in figures.items():
        print(f"  {label:<55} {micros:8.0f} µs  {micros / base:5.1f}x")


async def main(n: int) -> None:
    print(f"bench/statements.py — {n} statements per layer, one at a time, {os.cpu_count()} CPUs")
    started = time.perf_counter()
    try:
        report("PostgreSQL", await postgres(n))
    except OSError as error:
        print(f"\nPostgreSQL: skipped, cannot connect to {PG_URL} ({error})")
    with tempfile.TemporaryDirectory() as folder:
        report("SQLite", await sqlite(n, Path(folder)))
    print(f"\ntook {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="statements per layer")
    asyncio.run(main(parser.parse_args().n))
