"""The emulator's webhook settings answer as Telegram does: setWebhook keeps the URL and the
secret token, getWebhookInfo shows them, and getUpdates is refused with 409 while one is set."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError

from tests.emulator_helpers import make_bot, running_emulator

URL = "https://bot.example.vn/tg/hook"


async def test_set_webhook_blocks_get_updates_until_deleted() -> None:
    async with running_emulator() as (emulator, client):
        bot = make_bot(emulator.base_url)
        try:
            assert await bot.set_webhook(URL, secret_token="s3cret_-X")
            info = await bot.get_webhook_info()
            assert info.url == URL
            await client.user(1001).send("xin chào")
            with pytest.raises(TelegramConflictError, match="webhook is active"):
                await bot.get_updates(timeout=0)
            assert (await bot.get_webhook_info()).pending_update_count == 1
            assert await bot.delete_webhook(drop_pending_updates=False)
            assert (await bot.get_webhook_info()).url == ""
            updates = await bot.get_updates(timeout=0)
            assert [u.message.text for u in updates if u.message] == ["xin chào"]
        finally:
            await bot.session.close()


async def test_set_webhook_refuses_a_secret_token_telegram_refuses() -> None:
    async with running_emulator() as (emulator, _client):
        bot = make_bot(emulator.base_url)
        try:
            with pytest.raises(TelegramBadRequest, match="unallowed characters"):
                await bot.set_webhook(URL, secret_token="có dấu")
            assert (await bot.get_webhook_info()).url == ""
        finally:
            await bot.session.close()
