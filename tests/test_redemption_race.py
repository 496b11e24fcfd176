"""A card is redeemed once, even when two redemptions come at once: the conditional update of
the card (row lock on PostgreSQL) and the unique constraint on ``card_redemptions.card_id``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot import records
from bot.cards import redeem
from bot.config import get_settings
from storage import redemptions as repo
from storage.models import Person
from storage.models.cards import CardRedemption, TrainingCard
from storage.models.catalog import Institution
from tests.admin_helpers import admin_env
from tests.redemption_helpers import World, build_world, local_today, make_card, stored

OFFICER = records.Officer(actor="user:school_a", source="institution")


async def new_card(world: World, number: str) -> int:
    async with world.env.sessionmaker() as s:
        card = await make_card(s, number)
        await s.commit()
        return card.id


def row(world: World, card_id: int) -> CardRedemption:
    """A redemption of the card as the domain would build it (tick)."""
    today = local_today(world.env)
    return CardRedemption(
        card_id=card_id,
        institution_id=world.school_a,
        course_id=world.course_a,
        person_id=world.person_id,
        redeemed_on=today,
        redeemed_by=OFFICER.actor,
        declaration="tick",
        declared_to="Cán bộ Mai",
        start_date=today,
        course_days=60,
        tuition_vnd=3_000_000,
    )


async def attempt(world: World, session: AsyncSession, card_id: int) -> str:
    """One full redemption in its own session: ``won`` or the refusal's key."""
    inst = await session.get(Institution, world.school_a)
    card = await session.get(TrainingCard, card_id)
    person = await session.get(Person, world.person_id)
    assert inst is not None and card is not None and person is not None
    try:
        await redeem.redeem(
            session,
            inst,
            card,
            person,
            redeem.Terms(world.course_a),
            redeem.Declaration("tick", "Cán bộ Mai"),
            OFFICER,
            today=local_today(world.env),
            tz=get_settings().tz,
            in_scope=True,
        )
    except redeem.RedeemError as exc:
        await session.rollback()
        return exc.key
    await session.commit()
    return "won"


@pytest.mark.postgres
async def test_two_at_once_exactly_one_wins(pg_url: str, tmp_path: Path) -> None:
    async with admin_env(tmp_path, db_url=pg_url) as env:
        world = await build_world(env)
        card_id = await new_card(world, "QK9-0001")
        async with env.sessionmaker() as s1, env.sessionmaker() as s2:
            results = await asyncio.gather(attempt(world, s1, card_id), attempt(world, s2, card_id))
        assert sorted(results) == ["already_redeemed", "won"]
        status, rows = await stored(env, card_id)
        assert status == "redeemed" and len(rows) == 1


@pytest.mark.postgres
async def test_second_waits_for_the_first_and_loses(pg_url: str, tmp_path: Path) -> None:
    async with admin_env(tmp_path, db_url=pg_url) as env:
        world = await build_world(env)
        card_id = await new_card(world, "QK9-0002")
        async with env.sessionmaker() as s1, env.sessionmaker() as s2:
            assert await repo.add_redemption(s1, row(world, card_id))
            second = asyncio.create_task(repo.add_redemption(s2, row(world, card_id)))
            await asyncio.sleep(0.3)
            assert not second.done()  # held by the first one's lock on the card
            await s1.commit()
            assert await asyncio.wait_for(second, 10) is False
            await s2.rollback()
        status, rows = await stored(env, card_id)
        assert status == "redeemed" and len(rows) == 1


async def test_unique_constraint_backs_the_status(any_db_url: str, tmp_path: Path) -> None:
    db_url = None if any_db_url.startswith("sqlite") else any_db_url
    async with admin_env(tmp_path, db_url=db_url) as env:
        world = await build_world(env)
        card_id = await new_card(world, "QK9-0003")
        async with env.sessionmaker() as s:
            s.add(row(world, card_id))  # a redemption whose card was left "issued"
            await s.commit()
        async with env.sessionmaker() as s:
            assert await repo.add_redemption(s, row(world, card_id)) is False
            await s.commit()
        status, rows = await stored(env, card_id)
        assert status == "issued" and len(rows) == 1  # nothing of the second kept
