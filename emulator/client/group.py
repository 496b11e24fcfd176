# ruff: noqa: ASYNC109  # ``timeout=`` arguments are the documented test-facing API
"""EmulatedGroup: a group chat the bot is in, where scripted members write and reply."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from emulator.client.results import JSON, BotMessage, EmulatorTimeout

if TYPE_CHECKING:
    from emulator.client.control_client import EmulatorClient


class EmulatedGroup:
    """One group chat: members' messages go to the bot; the bot's messages are read back."""

    def __init__(self, emu: EmulatorClient, chat_id: int, title: str) -> None:
        self.emu = emu
        self.id = chat_id
        self.title = title
        self.mark = 0  # chat events up to here have been read

    async def create(self) -> JSON:
        """Create the group on the emulator, with the bot in it."""
        body = {"chat_id": self.id, "title": self.title}
        return dict(await self.emu.request("POST", "/_emu/groups", body))

    async def say(
        self,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        first_name: str | None = None,
    ) -> JSON:
        """Member ``user_id`` writes ``text`` (replying to message ``reply_to``)."""
        body: JSON = {"user_id": user_id, "text": text, "first_name": first_name}
        if reply_to is not None:
            body["reply_to_message_id"] = reply_to
        path = f"/_emu/groups/{self.id}/send"
        result = dict(await self.emu.request("POST", path, body))
        self.mark = int(result["seq"])
        return result

    async def bot_messages(self, count: int = 1, timeout: float = 10.0) -> list[BotMessage]:
        """Wait for ``count`` new bot messages since the last read or member's message."""
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
