"""The bot in webhook mode against the emulator, which pushes updates to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from bot.app import BotApp
from emulator import Emulator, EmulatorClient, RateLimits
from storage.models import InboxUpdate
from tests.conftest import RunningBot, free_port, make_settings

SECRET = "s3cret-Webhook_token"


def webhook_settings(database_url: str, api_base: str, **extra: Any) -> Any:
    """Settings for webhook mode on a free local port."""
    port = free_port()
    return make_settings(
        database_url,
        api_base,
        webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
        webhook_secret=SECRET,
        webhook_port=port,
        **extra,
    )


@asynccontextmanager
async def webhook_bot(database_url: str) -> AsyncIterator[tuple[Emulator, RunningBot]]:
    """An emulator and the bot in webhook mode, the webhook registered as an operator would."""
    emulator = Emulator(RateLimits.off())
    base = await emulator.start()
    settings = webhook_settings(database_url, base)
    app = BotApp(settings, with_admin=False, with_scheduler=False)
    rb = RunningBot(settings=settings, emu=EmulatorClient(base), app=app)
    try:
        await app.start()
        assert rb.bot is not None and settings.webhook_url and settings.webhook_secret
        await wait_listening(settings.webhook_port)
        await rb.bot.set_webhook(
            settings.webhook_url, secret_token=settings.webhook_secret.get_secret_value()
        )
        yield emulator, rb
    finally:
        await rb.stop()
        await rb.emu.close()
        await emulator.stop()


async def wait_listening(port: int) -> None:
    """Until the bot's webhook server accepts connections (it starts after the recovery)."""
    async with asyncio.timeout(10):
        while True:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return


async def inbox_ids(rb: RunningBot) -> list[int]:
    """Ids of the updates in the bot's update inbox."""
    async with rb.sessionmaker() as session:
        return list(await session.scalars(select(InboxUpdate.update_id)))
