# ruff: noqa: ASYNC109  # ``timeout=`` arguments are the documented test-facing API
"""EmulatedGroup: a group or supergroup the bot is in, where people and bots write, reply to
messages and press buttons."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from emulator.client.results import JSON, BotMessage, EmulatorTimeout
from emulator.client.user import EmulatedUser

if TYPE_CHECKING:
    from emulator.client.control_client import EmulatorClient

# who acts in a group: a person, a bot (its user id), or no one named (no ``from``)
Sender = EmulatedUser | int | None


class EmulatedGroup:
    """One group chat (negative id; ``kind`` "group" or "supergroup") with the bot in it."""

    def __init__(self, emu: EmulatorClient, chat_id: int, kind: str, title: str) -> None:
        self.emu = emu
        self.id = chat_id
        self.kind = kind
        self.title = title
        self.mark = 0  # chat events up to here have been read

    def _body(self, sender: Sender) -> JSON:
        """The group and who acts: a user, a bot (its id), or no sender at all."""
        body: JSON = {"type": self.kind, "title": self.title}
        if isinstance(sender, EmulatedUser):
            body.update(user_id=sender.id, first_name=sender.first_name)
            body["language_code"] = sender.language_code
        elif sender is not None:
            body["bot_id"] = sender
        return body

    async def create(self) -> JSON:
        """Make the group on the emulator now (the bot is in it), so the bot may write first."""
        body = {**self._body(None), "chat_id": self.id}
        return dict(await self.emu.request("POST", "/_emu/groups", body))

    async def send(self, text: str, sender: Sender, *, reply_to: int | None = None) -> JSON:
        """``sender`` writes ``text`` (a user, a bot's id, or None: no ``from``), replying to
        message ``reply_to`` if given."""
        body = {**self._body(sender), "text": text}
        if reply_to is not None:
            body["reply_to_message_id"] = reply_to
        result = dict(await self.emu.request("POST", f"/_emu/groups/{self.id}/send", body))
        self.mark = int(result["seq"])
        return result

    async def press(self, user: EmulatedUser, callback_data: str, message_id: int) -> JSON:
        """``user`` presses a button with ``callback_data`` under message ``message_id``."""
        body = {**self._body(user), "callback_data": callback_data, "message_id": message_id}
        result = dict(await self.emu.request("POST", f"/_emu/groups/{self.id}/press", body))
        self.mark = int(result["seq"])
        return result

    async def bot_messages(self) -> list[BotMessage]:
        """Everything the bot wrote in the group so far."""
        view = await self.emu.chat(self.id)
        return [
            BotMessage.from_snapshot(m, self.emu.base_url)
            for m in view["messages"]
            if m["from_bot"]
        ]

    async def wait_bot_messages(self, count: int = 1, timeout: float = 10.0) -> list[BotMessage]:
        """Wait for ``count`` new bot messages since the last member's action or wait."""
        found: list[BotMessage] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                texts = [m.text for m in found]
                raise EmulatorTimeout(
                    f"group {self.id}: wanted {count} bot message(s), got {texts}"
                )
            path = f"/_emu/chats/{self.id}/wait"
            data = await self.emu.request("GET", path, after=self.mark, timeout=round(remaining, 3))
            self.mark = int(data["seq"])
            snaps = {s["message_id"]: s for s in data["messages"] if s["from_bot"]}
            for event in data["events"]:
                snap = snaps.get(event.get("message_id"))
                if event["kind"] == "message" and snap is not None:
                    found.append(BotMessage.from_snapshot(snap, self.emu.base_url))
        return found
