"""Storage on SQLite and PostgreSQL: migrations, FSM state (database, Redis), repeated updates."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from aiogram.fsm.storage.base import StorageKey
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from emulator import EmulatorTimeout
from storage import people as repo
from storage import updates
from storage.db import create_engine, create_sessionmaker
from storage.fsm import SqlStorage, current_session
from storage.migrate import alembic_config, pending_revisions, upgrade_async
from storage.models import FsmRecord, InboxUpdate, Person
from storage.models.base import utcnow
from tests.conftest import REDIS_URL, require_service, start_bot


async def test_migrations_up_and_down(any_db_url: str) -> None:
    engine = create_engine(any_db_url)
    try:
        assert await pending_revisions(engine)
        await upgrade_async(engine)
        assert await pending_revisions(engine) == []
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        expected = {"people", "answers", "trade_preferences", "fsm_states", "update_inbox"}
        assert expected <= tables

        def _down(conn: object) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")

        async with engine.begin() as conn:
            await conn.run_sync(_down)
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert "people" not in tables
        await upgrade_async(engine)  # and up again from nothing
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await engine.dispose()


async def test_sql_fsm_storage_roundtrip_and_shared_session(repo_engine: AsyncEngine) -> None:
    engine = repo_engine
    sessionmaker = create_sessionmaker(engine)
    storage = SqlStorage(sessionmaker)
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    assert await storage.get_state(key) is None and await storage.get_data(key) == {}
    await storage.set_state(key, "Survey:answering")
    await storage.set_data(key, {"q": "phone", "pending": {"codes": ["1", "2"]}})
    assert await storage.get_state(key) == "Survey:answering"
    assert (await storage.get_data(key))["pending"] == {"codes": ["1", "2"]}
    await storage.update_data(key, {"q": "branch"})
    assert (await storage.get_data(key))["q"] == "branch"
    # inside an update the storage joins the update's transaction: a rollback undoes it
    async with sessionmaker() as session:
        token = current_session.set(session)
        try:
            await storage.set_state(key, "Other:state")
            assert await storage.get_state(key) == "Other:state"
            await session.rollback()
        finally:
            current_session.reset(token)
    assert await storage.get_state(key) == "Survey:answering"
    # cleared (FSMContext.clear: no state, no data) is no row at all, in an update or not
    other = StorageKey(bot_id=1, chat_id=43, user_id=43)
    await storage.set_state(other, "Survey:summary")
    async with sessionmaker() as session:
        token = current_session.set(session)
        try:
            await storage.set_state(key, None)
            await storage.set_data(key, {})
            await session.commit()
        finally:
            current_session.reset(token)
    await storage.set_state(other, None)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 0
    assert await storage.get_state(key) is None and await storage.get_data(key) == {}


async def test_inbox_stores_once_and_claims_once(repo_engine: AsyncEngine) -> None:
    sessionmaker = create_sessionmaker(repo_engine)
    payload = {"update_id": 100, "message": {"text": "hi"}}
    async with sessionmaker() as session:
        stored = await updates.store_updates(
            session, bot_id=7, updates=[(100, payload), (101, {"update_id": 101})]
        )
        assert stored == {100, 101}
        # a repeated update keeps its row (and state); only the new one is stored
        again = await updates.store_updates(session, bot_id=7, updates=[(100, {}), (102, {})])
        assert again == {102}
        assert await updates.claim_update(session, bot_id=8, update_id=100) is False  # not stored
        await session.commit()
    async with sessionmaker() as session:
        assert await updates.claim_update(session, bot_id=7, update_id=100) is True
        await session.commit()
    async with sessionmaker() as session:
        assert await updates.claim_update(session, bot_id=7, update_id=100) is False
        await updates.mark_replied(session, bot_id=7, update_ids=[101])
        await session.commit()
    async with sessionmaker() as session:
        unfinished = await updates.unfinished_updates(session, bot_id=7, owner=None)
        assert unfinished == [(100, "handled", payload), (102, "received", {})]
        # a replied update keeps its ids, not what was said in it
        replied = await session.scalar(
            select(InboxUpdate.payload).where(InboxUpdate.update_id == 101)
        )
        assert replied == {}
        assert await updates.prune_updates(session, before=utcnow() + timedelta(seconds=1)) == 3
        await session.commit()


@pytest.mark.redis
async def test_redis_orders_a_persons_updates_and_state_stays_in_the_database(
    sqlite_url: str, emulator: str
) -> None:
    """With REDIS_URL a person's updates wait for the Redis lock that another bot process takes
    while it handles one of theirs; the conversation state stays in the database (written with
    the answer) and survives a restart."""
    require_service("Redis", "127.0.0.1", 6379)
    from aiogram.fsm.storage.redis import RedisEventIsolation
    from redis.asyncio import Redis

    db_index = 5
    url = REDIS_URL.rsplit("/", 1)[0] + f"/{db_index}"
    rb = await start_bot(sqlite_url, emulator, redis_url=url)
    user_id = 3000 + uuid.uuid4().int % 1000
    other = RedisEventIsolation.from_url(url)  # another bot process's view of the locks
    try:
        assert rb.bot is not None
        user = rb.emu.user(user_id, first_name="R", language_code="vi")
        await user.ask("/survey")
        await user.click("Đồng ý tất cả")
        async with rb.sessionmaker() as session:
            states = list(await session.scalars(select(FsmRecord.state)))
        assert any(state and "answering" in state for state in states), states
        key = StorageKey(bot_id=rb.bot.id, chat_id=user_id, user_id=user_id)
        async with other.lock(key):  # another process handles one of this person's updates
            await user.send("Hoàng Văn Rồng")
            with pytest.raises(EmulatorTimeout):
                await user.wait_messages(1, timeout=1.5)
        reply = await user.expect_reply()
        assert "Câu 2/14" in reply.text
        await rb.restart()
        reply = await user.ask("0912 345 678")
        assert "Câu 3/14" in reply.text
    finally:
        await rb.stop()
        await rb.emu.close()
        await other.redis.aclose(close_connection_pool=True)
        redis = Redis.from_url(url)
        await redis.flushdb()
        await redis.aclose()


async def _stored_person(session: AsyncSession, telegram_user_id: int, language: str) -> Person:
    person = repo.new_person(
        telegram_user_id=telegram_user_id, chat_id=telegram_user_id, language=language, source=None
    )
    await repo.store_person(session, person)
    return person


async def test_person_with_latest_reads_that_persons_latest_answers(
    repo_engine: AsyncEngine,
) -> None:
    """The one-query load of mid-survey updates: the person's own latest response, not another's."""
    from storage import survey as survey_repo

    engine = repo_engine
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        an = await _stored_person(session, 1, "vi")
        binh = await _stored_person(session, 2, "vi")
        old = await survey_repo.create_response(session, an, "v1")
        await survey_repo.upsert_answer(
            session, old, question_id="branch", value="army", raw_text=None, version="v1"
        )
        latest = await survey_repo.create_response(session, an, "v2")
        await survey_repo.upsert_answer(
            session, latest, question_id="full_name", value="An", raw_text="An", version="v2"
        )
        other = await survey_repo.create_response(session, binh, "v2")  # the newest row
        await survey_repo.upsert_answer(
            session, other, question_id="branch", value="police", raw_text=None, version="v2"
        )
        await survey_repo.update_response(session, latest, completed_at=None)
        await session.commit()
    async with sessions() as session:
        person, response, answers = await survey_repo.person_with_latest(session, 1)
        assert person is not None and person.id == an.id
        assert response is not None and response.id == latest.id
        assert response.survey_version == "v2"
        assert answers == {"full_name": "An"}
        assert await survey_repo.latest_with_answers(session, person) == (response, answers)
        nobody = await _stored_person(session, 3, "en")
        assert await survey_repo.person_with_latest(session, 3) == (nobody, None, {})
        assert await survey_repo.person_with_latest(session, 4) == (None, None, {})
