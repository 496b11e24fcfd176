"""Webhook mode end to end: the emulator pushes each update to the bot's aiohttp handler, which
stores it before answering 200 and handles it as polling does; a request without the right
secret token gets 401 and stores nothing; a redelivered update is handled once."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import REGISTRY

from tests.survey_helpers import run_to_trades, stored_answers
from tests.webhook_helpers import SECRET, inbox_ids, webhook_bot


async def test_survey_answered_through_the_webhook(any_db_url: str) -> None:
    async with webhook_bot(any_db_url) as (emulator, rb):
        soldiers = [rb.emu.user(3001 + n, language_code="vi") for n in range(2)]
        for soldier, name in zip(soldiers, ["Hoàng Văn Minh", "Lường Thị Hoa"], strict=True):
            reply = await run_to_trades(soldier, name=name)
            assert "Câu 8/14" in reply.text
        first, second = await stored_answers(rb, 3001), await stored_answers(rb, 3002)
        assert first["full_name"] == "Hoàng Văn Minh" and second["full_name"] == "Lường Thị Hoa"
        assert first["phone"] == "+84912345678"
        assert first["enlistment_month"] == "2024-03" and first["discharge_month"] == "2026-03"
        counts = emulator.core.call_counts
        assert counts["getUpdates"] == 0 and counts["deleteWebhook"] == 0
        assert emulator.core.stats()["bots"][0]["counts"]["webhook_posts"] >= 16
        assert (await rb.bot.get_webhook_info()).pending_update_count == 0


async def test_wrong_or_missing_secret_is_refused_and_nothing_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhook_bot(f"sqlite+aiosqlite:///{tmp_path}/w.sqlite3") as (_emulator, rb):
        url = rb.settings.webhook_url
        assert url is not None
        update = {
            "update_id": 77,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": 3101, "type": "private", "first_name": "Kẻ giả"},
                "from": {"id": 3101, "is_bot": False, "first_name": "Kẻ giả"},
                "text": "/start",
            },
        }
        caplog.set_level(logging.WARNING, logger="handlers.webhook")
        before = webhook_errors("secret")
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}):
                async with http.post(url, json=update, headers=headers) as resp:
                    assert resp.status == 401
        refusals = [r for r in caplog.records if "secret token" in r.getMessage()]
        assert len(refusals) == 2
        assert webhook_errors("secret") == before + 2  # the metric counts them too
        assert await inbox_ids(rb) == []
        assert await rb.emu.calls(method="sendMessage") == []


def webhook_errors(reason: str) -> float:
    """The process's xuatngu webhook error counter for ``reason`` (prometheus_client's registry)."""
    value = REGISTRY.get_sample_value("xuatngu_webhook_errors_total", {"reason": reason})
    return value or 0.0


async def test_a_redelivered_update_is_stored_and_answered_once(tmp_path: Path) -> None:
    async with webhook_bot(f"sqlite+aiosqlite:///{tmp_path}/w.sqlite3") as (emulator, rb):
        soldier = rb.emu.user(3201, language_code="vi")
        await soldier.ask("/start")
        sent = len(await rb.emu.calls(method="sendMessage", chat_id=3201))
        assert sent >= 1
        stored = await inbox_ids(rb)
        assert len(stored) == 1
        posts = emulator.core.stats()["bots"][0]["counts"]["webhook_posts"]
        await rb.emu.redeliver(stored[0])
        assert await rb.emu.settle(idle=0.3)
        assert emulator.core.stats()["bots"][0]["counts"]["webhook_posts"] == posts + 1
        assert len(await rb.emu.calls(method="sendMessage", chat_id=3201)) == sent
        assert await inbox_ids(rb) == stored
