"""Filters checked on the event loop.

aiogram calls a plain (non-async) filter, a magic filter such as ``F.text`` included, through
``asyncio.to_thread``: a hop to a worker thread and back for every check of every update. These
async filters do the same checks in place.
"""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter

from bot import people
from storage.models import Person

GROUP_CHATS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})


class Magic(Filter):
    """A magic filter (``Magic(F.text)``) resolved in the handler's coroutine."""

    def __init__(self, magic: MagicFilter):
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool | dict[str, Any]:
        result = self.magic.resolve(event)
        return result if isinstance(result, dict) else bool(result)


def private_message() -> Magic:
    """A message from a person (not a bot, not anonymous) in a private chat with the bot."""
    return Magic((F.chat.type == ChatType.PRIVATE) & F.from_user.is_bot.is_(False))


def private_button() -> Magic:
    """A button pressed by a person under a message in a private chat with the bot."""
    return Magic((F.message.chat.type == ChatType.PRIVATE) & F.from_user.is_bot.is_(False))


def group_message() -> Magic:
    """A message in a group or supergroup (from anyone, bots and anonymous senders included)."""
    return Magic(F.chat.type.in_(GROUP_CHATS))


def group_button() -> Magic:
    """A button pressed under a message in a group or supergroup."""
    return Magic(F.message.chat.type.in_(GROUP_CHATS))


class Consented(Filter):
    """The person behind the update consented (has a row); see ``bot/people.py``."""

    async def __call__(self, event: TelegramObject, person: Person | None = None) -> bool:
        return person is not None and people.is_stored(person)
