"""The emulator's webhook settings answer as Telegram does: setWebhook keeps the URL and the
secret token, getWebhookInfo shows them, getUpdates is refused with 409 while one is set, and
updates are pushed to the URL: per chat in order, with the secret, retried until answered 2xx."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from tests.conftest import free_port
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


async def test_updates_are_pushed_in_order_per_chat_with_the_secret_and_retried() -> None:
    received: list[tuple[int, str, str | None]] = []
    failures = {"left": 2}

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        if failures["left"]:  # Telegram must try again, keeping the chat's order
            failures["left"] -= 1
            return web.Response(status=500)
        received.append(
            (
                update["message"]["chat"]["id"],
                update["message"]["text"],
                request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
            )
        )
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/tg/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with running_emulator() as (emulator, client):
        bot = make_bot(emulator.base_url)
        try:
            ann, binh = client.user(2001), client.user(2002)
            for n in range(3):
                await ann.send(f"an {n}")
                await binh.send(f"bình {n}")
            assert await bot.set_webhook(f"http://127.0.0.1:{port}/tg/hook", secret_token="k-1")
            for _ in range(100):
                if len(received) == 6:
                    break
                await asyncio.sleep(0.05)
            assert [t for c, t, _ in received if c == 2001] == ["an 0", "an 1", "an 2"]
            assert [t for c, t, _ in received if c == 2002] == ["bình 0", "bình 1", "bình 2"]
            assert {s for _, _, s in received} == {"k-1"}
            info = await bot.get_webhook_info()
            assert info.pending_update_count == 0
            assert (
                info.last_error_message
                == "Wrong response from the webhook: 500 Internal Server Error"
            )
        finally:
            await bot.session.close()
            await runner.cleanup()


async def test_a_webhook_that_cannot_be_reached_keeps_the_updates() -> None:
    async with running_emulator() as (emulator, client):
        bot = make_bot(emulator.base_url)
        try:
            await bot.set_webhook(f"http://127.0.0.1:{free_port()}/nobody")
            await client.user(2003).send("còn đó không")
            for _ in range(100):
                info = await bot.get_webhook_info()
                if info.last_error_message:
                    break
                await asyncio.sleep(0.05)
            assert info.last_error_message is not None
            assert info.last_error_message.startswith("Connection failed")
            assert info.pending_update_count == 1
            await bot.delete_webhook()
            updates = await bot.get_updates(timeout=0)
            assert [u.message.text for u in updates if u.message] == ["còn đó không"]
        finally:
            await bot.session.close()
