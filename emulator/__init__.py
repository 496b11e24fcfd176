"""Telegram Bot API emulator: aiohttp server, control API client and demo web chat.

The real aiogram client talks to it over HTTP with
``AiohttpSession(api=TelegramAPIServer.from_base(base_url))``.
"""

from emulator.client import (
    BotMessage,
    Document,
    EmulatedUser,
    EmulatorClient,
    EmulatorError,
    EmulatorTimeout,
    Reply,
)
from emulator.limits import RateLimits
from emulator.server import Emulator, build_app, run_emulator, serve_forever

__all__ = [
    "BotMessage",
    "Document",
    "EmulatedUser",
    "Emulator",
    "EmulatorClient",
    "EmulatorError",
    "EmulatorTimeout",
    "RateLimits",
    "Reply",
    "build_app",
    "run_emulator",
    "serve_forever",
]
