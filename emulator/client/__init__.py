"""Async client of the emulator's control API, for tests and benchmarks.

Typical use::

    async with EmulatorClient(base_url) as emu:
        user = emu.user(1001, first_name="An", language_code="vi")
        reply = await user.ask("/start")
        reply = await user.click("Đồng ý")

Modules: ``control_client`` (EmulatorClient), ``user`` (EmulatedUser), ``group``
(EmulatedGroup), ``results`` (BotMessage, Reply, Document and the errors).
"""

from emulator.client.control_client import EmulatorClient
from emulator.client.group import EmulatedGroup
from emulator.client.results import (
    BotMessage,
    Document,
    EmulatorError,
    EmulatorTimeout,
    Reply,
)
from emulator.client.user import EmulatedUser

__all__ = [
    "BotMessage",
    "Document",
    "EmulatedGroup",
    "EmulatedUser",
    "EmulatorClient",
    "EmulatorError",
    "EmulatorTimeout",
    "Reply",
]
