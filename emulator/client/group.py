"""EmulatedGroup: a group or supergroup the bot is in, where people and bots write."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.client.results import JSON, BotMessage
from emulator.client.user import EmulatedUser

if TYPE_CHECKING:
    from emulator.client.control_client import EmulatorClient


class EmulatedGroup:
    """One group chat (negative id; ``kind`` "group" or "supergroup") with the bot in it."""

    def __init__(self, emu: EmulatorClient, chat_id: int, kind: str, title: str) -> None:
        self.emu = emu
        self.id = chat_id
        self.kind = kind
        self.title = title

    def _body(self, sender: EmulatedUser | int | None) -> JSON:
        """The group and who acts: a user, a bot (its id), or no sender at all."""
        body: JSON = {"type": self.kind, "title": self.title}
        if isinstance(sender, EmulatedUser):
            body.update(user_id=sender.id, first_name=sender.first_name)
            body["language_code"] = sender.language_code
        elif sender is not None:
            body["bot_id"] = sender
        return body

    async def send(self, text: str, sender: EmulatedUser | int | None) -> JSON:
        """``sender`` writes ``text`` (a user, a bot's id, or None: no ``from``)."""
        body = {**self._body(sender), "text": text}
        return dict(await self.emu.request("POST", f"/_emu/groups/{self.id}/send", body))

    async def press(self, user: EmulatedUser, callback_data: str, message_id: int) -> JSON:
        """``user`` presses a button with ``callback_data`` under message ``message_id``."""
        body = {**self._body(user), "callback_data": callback_data, "message_id": message_id}
        return dict(await self.emu.request("POST", f"/_emu/groups/{self.id}/press", body))

    async def bot_messages(self) -> list[BotMessage]:
        """What the bot wrote in the group."""
        view = await self.emu.chat(self.id)
        return [
            BotMessage.from_snapshot(m, self.emu.base_url)
            for m in view["messages"]
            if m["from_bot"]
        ]
