"""Helpers to run aiogram bots against the in-process Telegram emulator in tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from emulator import Emulator, EmulatorClient, RateLimits

TEST_TOKEN = "123456:TEST-token"


def make_bot(base_url: str, token: str = TEST_TOKEN) -> Bot:
    """An aiogram Bot whose API calls go to the emulator at ``base_url``."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    return Bot(token, session=session)


@asynccontextmanager
async def running_emulator(
    rate_limits: RateLimits | None = None,
) -> AsyncIterator[tuple[Emulator, EmulatorClient]]:
    """Start an emulator (limits off by default) and a control client; stop both after."""
    emulator = Emulator(rate_limits or RateLimits.off())
    base = await emulator.start()
    client = EmulatorClient(base)
    try:
        yield emulator, client
    finally:
        await client.close()
        await emulator.stop()
