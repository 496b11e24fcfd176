"""Retention: the scheduler erases people five years after discharge (or last contact) and
forgets old updates; the migration that makes people ids never reused (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update

from bot.retention import RETENTION_COUNT, years_before
from storage import people as repo
from storage import updates as inbox
from storage.db import create_engine
from storage.migrate import upgrade_async
from storage.models import FsmRecord, InboxUpdate, Person
from storage.models.admin import AuditEntry
from storage.models.base import utcnow
from tests.conftest import RunningBot
from tests.survey_helpers import start_survey

NOT_AGREED = "Bạn chưa đồng ý cho mình lưu thông tin nên mình chưa nhắc bạn được."


def test_years_before() -> None:
    assert years_before(date(2031, 3, 1), 5) == date(2026, 3, 1)
    assert years_before(date(2032, 2, 29), 5) == date(2027, 2, 28)
    moment = datetime(2031, 6, 2, 10, 30, tzinfo=UTC)
    assert years_before(moment, 5) == datetime(2026, 6, 2, 10, 30, tzinfo=UTC)


async def _set(rb: RunningBot, user_id: int, **values: Any) -> None:
    async with rb.sessionmaker() as session:
        await session.execute(
            update(Person).where(Person.telegram_user_id == user_id).values(**values)
        )
        await session.commit()


async def _stored_ids(rb: RunningBot) -> set[int]:
    async with rb.sessionmaker() as session:
        return set((await session.scalars(select(Person.telegram_user_id))).all())


async def test_the_scheduler_erases_people_after_five_years(running_bot_any_db: RunningBot) -> None:
    rb = running_bot_any_db
    today = utcnow().astimezone(rb.settings.tz).date()
    long_ago = utcnow() - timedelta(days=6 * 366)
    users = {uid: rb.emu.user(uid, first_name=f"U{uid}") for uid in range(7001, 7006)}
    for user in users.values():
        await start_survey(user)
    # 7001: discharged in the month five years ago today → erased
    await _set(rb, 7001, discharge_month=years_before(today, 5).replace(day=1))
    # 7002: discharged a month later → kept until then
    next_month = (years_before(today, 5).replace(day=1) + timedelta(days=32)).replace(day=1)
    await _set(rb, 7002, discharge_month=next_month)
    # 7003: no discharge month, silent for six years → erased
    await _set(rb, 7003, last_contact_at=long_ago, created_at=long_ago)
    # 7004: the same, but writes again today → its last contact moves → kept
    await _set(rb, 7004, last_contact_at=long_ago, created_at=long_ago)
    await users[7004].ask("/help")
    # 7005: discharged last year → kept
    await _set(rb, 7005, discharge_month=date(today.year - 1, 1, 1))
    async with rb.sessionmaker() as session:  # a finished update of two days ago
        await inbox.store_updates(session, bot_id=rb.bot.id, updates=[(1, {})])
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == 1)
            .values(state="replied", received_at=utcnow() - timedelta(days=2))
        )
        await session.commit()

    rb.with_scheduler = True
    await rb.restart()  # the retention pass runs when the scheduler starts
    for _ in range(100):
        if 7001 not in await _stored_ids(rb):
            break
        await asyncio.sleep(0.1)
    assert await _stored_ids(rb) == {7002, 7004, 7005}
    async with rb.sessionmaker() as session:
        assert await repo.get_count(session, RETENTION_COUNT) == 2
        audited = (
            await session.execute(
                select(AuditEntry.actor, AuditEntry.detail).where(AuditEntry.action == "erasure")
            )
        ).all()
        keys = (await session.scalars(select(FsmRecord.key))).all()
        updates = (await session.scalars(select(InboxUpdate.update_id))).all()
    assert audited == [("scheduler", {"by": "retention", "people": 2})]
    assert not [k for k in keys if ":7001:" in k or ":7003:" in k]  # their conversations too
    assert any(":7002:" in k for k in keys)
    assert 1 not in updates  # the inbox forgets updates after a day
    # an erased person is someone new: nothing stored, no reminders
    assert NOT_AGREED in (await users[7001].ask("/reminders")).text


async def test_migration_keeps_consented_people_and_stops_id_reuse(any_db_url: str) -> None:
    """0007 on a database with people made before it: those who never consented go (with their
    survey rows and questions), the others stay with theirs, and an erased id is never reused."""
    engine = create_engine(any_db_url)
    now = utcnow()
    try:
        await upgrade_async(engine, "0006")
        ids = []
        async with engine.begin() as conn:
            for n, consent in enumerate((now, None, now), start=1):
                pid = await conn.scalar(
                    text(
                        "INSERT INTO people (telegram_user_id, chat_id, language, created_at,"
                        " updated_at, consent_at, consent_sharing, reminders_paused) VALUES"
                        " (:tg, :tg, 'vi', :now, :now, :consent, false, false) RETURNING id"
                    ),
                    {"tg": 100 + n, "now": now, "consent": consent},
                )
                ids.append(pid)
                await conn.execute(
                    text(
                        "INSERT INTO survey_responses (person_id, survey_version, started_at,"
                        " updated_at) VALUES (:id, 'v1', :now, :now)"
                    ),
                    {"id": pid, "now": now},
                )
                await conn.execute(
                    text(
                        "INSERT INTO questions (person_id, text, asked_at)"
                        " VALUES (:id, 'Học nghề ở đâu?', :now)"
                    ),
                    {"id": pid, "now": now},
                )
        assert ids == [1, 2, 3]
        await upgrade_async(engine)
        async with engine.begin() as conn:
            people = (await conn.execute(text("SELECT id, last_contact_at FROM people"))).all()
            assert [p[0] for p in people] == [1, 3] and all(p[1] is not None for p in people)
            responses = await conn.scalars(text("SELECT person_id FROM survey_responses"))
            assert sorted(responses) == [1, 3]
            questions = await conn.scalars(text("SELECT person_id FROM questions"))
            assert sorted(questions) == [1, 3]
            # foreign keys are on again: deleting a person still cascades
            await conn.execute(text("DELETE FROM people WHERE id = 3"))
            assert await conn.scalar(text("SELECT count(*) FROM survey_responses")) == 1
            await conn.execute(
                text(
                    "INSERT INTO people (telegram_user_id, chat_id, language, created_at,"
                    " updated_at, consent_sharing, reminders_paused)"
                    " VALUES (104, 104, 'vi', :now, :now, false, false)"
                ),
                {"now": now},
            )
            newest = await conn.scalar(select(func.max(Person.id)))
        assert newest == 4  # not 3, the erased person's
    finally:
        await engine.dispose()
