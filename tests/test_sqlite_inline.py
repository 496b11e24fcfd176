"""The bot's inline SQLite engine: statements on the event loop, the write lock awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import people as repo
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models.base import utcnow

Engines = tuple[AsyncEngine, AsyncEngine]


@pytest.fixture
async def engines(sqlite_url: str) -> AsyncIterator[Engines]:
    """The migrated database's side engine (aiosqlite) and the bot's inline engine."""
    side = create_engine(sqlite_url)
    await upgrade_async(side)
    bot = create_engine(sqlite_url, inline=True)
    try:
        yield side, bot
    finally:
        await bot.dispose()
        await side.dispose()


async def test_inline_engine_reads_and_writes_like_aiosqlite(engines: Engines) -> None:
    side, bot = engines
    assert bot.dialect.driver == "xuatngu_inline"
    sessions = create_sessionmaker(bot)
    async with sessions() as session:
        person = await repo.create_person(
            session, telegram_user_id=7, chat_id=7, language="vi", source="qr"
        )
        assert await repo.claim_update(session, bot_id=1, update_id=1)
        assert not await repo.claim_update(session, bot_id=1, update_id=1)
        await session.commit()
    async with create_sessionmaker(side)() as session:  # committed: the other engine sees it
        found = await repo.get_person(session, telegram_user_id=7)
        assert found is not None and found.id == person.id and found.source == "qr"
    async with sessions() as session:  # a rolled-back transaction leaves nothing
        await repo.create_person(session, telegram_user_id=8, chat_id=8, language="en", source=None)
        await session.rollback()
        assert await repo.get_person(session, telegram_user_id=8) is None
    async with bot.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_waiting_for_the_write_lock_does_not_block_the_event_loop(sqlite_url: str) -> None:
    """Another connection holds the write lock: the bot's transaction waits on the loop.

    The other connection is aiosqlite, which needs the event loop to finish its own
    transaction: a wait that blocked the loop would deadlock until the lock timeout.
    """
    side = create_engine(sqlite_url)
    await upgrade_async(side)
    bot = create_engine(sqlite_url, inline=True)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    try:
        async with side.connect() as other:
            await other.execute(text("BEGIN IMMEDIATE"))  # the write lock, held
            await other.execute(
                text(
                    "INSERT INTO processed_updates (bot_id, update_id, processed_at)"
                    " VALUES (1, 98, '2026-01-01')"
                )
            )

            async def bot_write() -> float:
                started = time.monotonic()
                async with create_sessionmaker(bot)() as session:
                    assert await repo.claim_update(session, bot_id=1, update_id=99)
                    await session.commit()
                return time.monotonic() - started

            waiting = asyncio.create_task(bot_write())
            before = ticks
            await asyncio.sleep(0.3)
            assert not waiting.done(), "the bot wrote while another connection held the lock"
            assert ticks - before >= 20, "the event loop stalled while the bot waited"
            await other.commit()
        waited = await asyncio.wait_for(waiting, 5)
        assert waited >= 0.3
        async with create_sessionmaker(side)() as session:
            assert not await repo.claim_update(session, bot_id=1, update_id=98)
            assert not await repo.claim_update(session, bot_id=1, update_id=99)
    finally:
        tick_task.cancel()
        await bot.dispose()
        await side.dispose()


async def test_lock_wait_gives_up_with_sqlites_error(
    engines: Engines, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import sqlite_inline

    monkeypatch.setattr(sqlite_inline, "LOCK_WAIT_SECONDS", 0.2)
    side, bot = engines
    async with side.connect() as other:
        await other.execute(text("BEGIN IMMEDIATE"))
        async with create_sessionmaker(bot)() as session:
            with pytest.raises(Exception, match="locked"):
                await repo.claim_update(session, bot_id=1, update_id=5)
        await other.rollback()


async def test_hot_writes_fail_like_session_execute(engines: Engines) -> None:
    from sqlalchemy import exc

    from storage import survey as survey_repo
    from storage.dialect import execute_write
    from storage.models import ProcessedUpdate

    _side, bot = engines
    async with create_sessionmaker(bot)() as session:
        answer = {
            "response_id": 999_999,  # no such response
            "question_id": "full_name",
            "value": "An",
            "raw_text": "An",
            "survey_version": "v1",
            "answered_at": utcnow(),
            "changed_count": 0,
        }
        with pytest.raises(exc.IntegrityError):  # SQLAlchemy's error, not sqlite3's
            await execute_write(session, survey_repo._answer_upsert("sqlite"), answer)
        await session.rollback()
        # every value must be given: a Python-side default is not run on this path
        with pytest.raises(ValueError, match="processed_at"):
            await execute_write(
                session, ProcessedUpdate.__table__.insert(), {"bot_id": 1, "update_id": 1}
            )


async def test_hot_writes_commit_the_same_rows_as_session_execute(
    engines: Engines, sqlite_url: str
) -> None:
    import sqlite3
    from datetime import UTC, datetime

    from storage import survey as survey_repo
    from storage.dialect import execute_write

    _side, bot = engines
    answered = datetime(2026, 11, 26, 8, 30, 15, 123456, tzinfo=UTC)
    value = {"codes": ["han", "dien"], "note": 'Hàn <b>điện</b> "x"'}
    async with create_sessionmaker(bot)() as session:
        people = [
            await repo.create_person(
                session, telegram_user_id=n, chat_id=n, language="vi", source=None
            )
            for n in (1, 2)
        ]
        responses = [await survey_repo.create_response(session, p, "v1") for p in people]
        upsert = survey_repo._answer_upsert("sqlite")
        for response, fast in zip(responses, (True, False), strict=True):
            params = {
                "response_id": response.id,
                "question_id": "trade_choices",
                "value": value,
                "raw_text": "hàn điện",
                "survey_version": "v1",
                "answered_at": answered,
                "changed_count": 0,
            }
            for _ in range(2):
                if fast:
                    await execute_write(session, upsert, params)
                else:
                    await session.execute(upsert, params)
        people[0].full_name = "first"  # pending, then a hot write of the same column
        await repo.write_person(session, people[0], full_name="second")
        assert await repo.claim_update(session, bot_id=1, update_id=7)
        assert not await repo.claim_update(session, bot_id=1, update_id=7)
        await session.commit()

    path = sqlite_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        fast_row, plain_row = db.execute(
            "SELECT question_id, value, raw_text, survey_version, answered_at, changed_count"
            " FROM answers ORDER BY response_id"
        ).fetchall()
        names = db.execute("SELECT full_name FROM people ORDER BY id").fetchall()
        claimed = db.execute("SELECT bot_id, update_id FROM processed_updates").fetchall()
    assert fast_row == plain_row
    assert fast_row[5] == 1  # updated once by the upsert's ON CONFLICT branch
    assert names == [("second",), (None,)]
    assert claimed == [(1, 7)]


async def test_hot_person_load_equals_the_orm_load(engines: Engines) -> None:
    """A person read on sqlite3 and attached is the object an ORM query gives."""
    from datetime import date

    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import select

    from storage import survey as survey_repo
    from storage.models import Person

    side, bot = engines
    async with create_sessionmaker(bot)() as session:
        person = await repo.create_person(
            session, telegram_user_id=7, chat_id=70, language="en", source="qr"
        )
        person.full_name = "Nguyễn <b>An</b>"
        person.discharge_month = date(2027, 3, 1)
        person.consent_at = utcnow()
        person.consent_sharing = True
        response = await survey_repo.create_response(session, person, "v1")
        await survey_repo.upsert_answer(
            session, response, question_id="branch", value="army", raw_text=None, version="v1"
        )
        await session.commit()
    async with create_sessionmaker(side)() as session:
        orm = await session.scalar(select(Person).where(Person.telegram_user_id == 7))
    assert orm is not None
    columns = [c.key for c in Person.__table__.columns]
    async with create_sessionmaker(bot)() as session:
        fast, state_response, answers = await survey_repo.person_with_latest(session, 7)
        assert fast is not None and state_response is not None
        assert {c: getattr(fast, c) for c in columns} == {c: getattr(orm, c) for c in columns}
        assert type(fast.consent_at) is type(orm.consent_at) and fast.consent_at.tzinfo
        assert answers == {"branch": "army"} and state_response.id == response.id
        state = sa_inspect(fast)
        assert state.persistent and not session.dirty  # loaded, nothing pending
        assert state.unloaded == sa_inspect(orm).unloaded  # relationships load on access
        # the same object again, as an ORM query in this session would give
        assert await repo.get_person(session, telegram_user_id=7) is fast
        fast.language = "vi"  # a change on it is flushed like any loaded object's
        await session.commit()
        assert await repo.get_person(session, telegram_user_id=8) is None
    async with create_sessionmaker(side)() as session:
        again = await session.scalar(select(Person).where(Person.telegram_user_id == 7))
        assert again is not None and again.language == "vi"


async def test_hot_insert_gives_the_object_the_orm_would(engines: Engines) -> None:
    """create_person on the inline engine: the row and the object hold the model's defaults."""
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import select

    from storage.models import Person

    side, bot = engines
    columns = [c.key for c in Person.__table__.columns]
    async with create_sessionmaker(bot)() as session:
        person = await repo.create_person(
            session, telegram_user_id=9, chat_id=90, language="en", source=None
        )
        assert sa_inspect(person).persistent and not session.dirty
        created = {c: getattr(person, c) for c in columns}
        await session.commit()
    async with create_sessionmaker(side)() as session:
        loaded = await session.scalar(select(Person).where(Person.telegram_user_id == 9))
    assert loaded is not None
    assert created == {c: getattr(loaded, c) for c in columns}
    assert created["consent_sharing"] is False and created["created_at"].tzinfo
