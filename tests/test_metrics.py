"""/metrics on the admin app: counters move when a scripted user answers through the emulator
and a broadcast goes out; METRICS_TOKEN is enforced; the gauges show the backlog."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from admin.app import create_app
from bot.config import load_settings
from bot.sending import Sender
from bot.timeline.tick import run_scheduler
from emulator import Emulator, EmulatorClient, RateLimits
from storage.segments import Segment
from tests.admin_helpers import admin_env
from tests.broadcast_helpers import add_recipients, daytime, open_chats, queue, wait_status
from tests.conftest import RunningBot, free_port, start_bot
from tests.emulator_helpers import make_bot
from tests.survey_helpers import start_survey

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one sample moved between two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(RateLimits.off())
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def rb(sqlite_url: str, emu: Emulator) -> AsyncIterator[RunningBot]:
    """The bot polling the emulator, its outbox sender on, outside quiet hours."""
    bot = await start_bot(sqlite_url, emu.base_url, **daytime())
    try:
        yield bot
    finally:
        await bot.stop()
        await bot.emu.close()


async def test_counters_move_after_answers_and_a_broadcast(rb: RunningBot, emu: Emulator) -> None:
    app = create_app(rb.settings, rb.sessionmaker)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://admin"
    ) as admin:
        before_page = await admin.get("/metrics")
        assert before_page.status_code == 200
        assert before_page.headers["content-type"].startswith("text/plain")
        before = parse(before_page.text)

        client = EmulatorClient(emu.base_url)
        user = client.user(61_001)
        await start_survey(user)  # /survey, then a tap on the consent button
        reply = await user.ask("Nguyễn Văn Ánh")
        assert "Câu" in reply.text
        await add_recipients(rb.sessionmaker, [61_101, 61_102])
        open_chats(emu, [61_101])  # 61_102 never pressed Start: chat not found
        mid = await queue(rb.sessionmaker, "Chào bạn", segment=Segment(communes=("6187",)))
        await wait_status(rb.sessionmaker, mid)
        after = parse((await admin.get("/metrics")).text)
        await client.close()

    assert moved(before, after, "xuatngu_updates_handled_total", outcome="handled") == 3
    assert moved(before, after, "xuatngu_updates_handled_total", outcome="error") == 0
    assert moved(before, after, "xuatngu_update_handling_seconds_count") == 3
    assert moved(before, after, "xuatngu_update_handling_seconds_sum") > 0
    assert moved(before, after, "xuatngu_messages_sent_total", status="sent", kind="outbox") == 1
    assert (
        moved(before, after, "xuatngu_messages_sent_total", status="not_found", kind="outbox") == 1
    )
    assert moved(before, after, "xuatngu_telegram_429_total") == 0
    assert value(after, "xuatngu_outbox_backlog") == 0
    assert value(after, "xuatngu_outbox_lag_seconds") == 0
    assert value(after, "xuatngu_reminders_due") == 0


async def test_429_answers_counted(rb: RunningBot, emu: Emulator) -> None:
    """A three-second 429 storm during a broadcast: every 429 answer is counted once, and every
    message still goes out once."""
    chats = [62_001, 62_002, 62_003]
    await add_recipients(rb.sessionmaker, chats)
    open_chats(emu, chats)
    app = create_app(rb.settings, rb.sessionmaker)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://admin"
    ) as admin:
        before = parse((await admin.get("/metrics")).text)
        emu.core.faults.storm(3.0, retry_after=1)  # the runner looks every second
        await wait_status(rb.sessionmaker, await queue(rb.sessionmaker))
        after = parse((await admin.get("/metrics")).text)
    storms = emu.core.faults.counts["429_storm"]
    assert storms >= 1
    assert (
        value(after, "xuatngu_telegram_429_total") - value(before, "xuatngu_telegram_429_total")
        == storms
    )
    sent = ("xuatngu_messages_sent_total", {"status": "sent", "kind": "outbox"})
    assert value(after, sent[0], **sent[1]) - value(before, sent[0], **sent[1]) == 3


async def test_token_required_when_set(tmp_path: Path) -> None:
    async with admin_env(tmp_path) as env:
        client = env.client()
        open_page = await client.get("/metrics")
        env.app.state.settings = load_settings(database_url=env.db_url, metrics_token="s3cret")
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert open_page.status_code == 200
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
    assert wrong.status_code == 401 and "xuatngu" not in wrong.text
    assert right.status_code == 200
    assert "xuatngu_messages_sent" in {f.name for f in text_string_to_metric_families(right.text)}


async def test_scheduler_passes_are_timed(tmp_path: Path) -> None:
    """The scheduler loop on a fresh database: each pass adds one tick duration."""
    name = "xuatngu_scheduler_tick_seconds_count"
    async with admin_env(tmp_path) as env:
        before = REGISTRY.get_sample_value(name) or 0.0
        settings = load_settings(database_url=env.db_url)
        stop = asyncio.Event()
        sender = Sender(make_bot(f"http://127.0.0.1:{free_port()}"))  # never called: nothing due
        loop = asyncio.create_task(
            run_scheduler(env.sessionmaker, sender, settings, stop, interval=0.05)
        )
        try:
            for _ in range(1000):  # two passes within 20 s
                if (REGISTRY.get_sample_value(name) or 0.0) >= before + 2:
                    break
                await asyncio.sleep(0.02)
        finally:
            stop.set()
            await loop
            await sender.bot.session.close()
    assert (REGISTRY.get_sample_value(name) or 0.0) >= before + 2
