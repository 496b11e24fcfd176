"""Filters checked on the event loop.

aiogram calls a plain (non-async) filter, a magic filter such as ``F.text`` included, through
``asyncio.to_thread``: a hop to a worker thread and back for every check of every update. These
async filters do the same checks in place.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Magic(Filter):
    """A magic filter (``Magic(F.text)``) resolved in the handler's coroutine."""

    def __init__(self, magic: MagicFilter):
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool | dict[str, Any]:
        result = self.magic.resolve(event)
        return result if isinstance(result, dict) else bool(result)
