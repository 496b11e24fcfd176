# ruff: noqa: ASYNC109  # ``timeout=`` arguments are the documented test-facing API
"""EmulatedUser: one scripted Telegram user acting and waiting for the bot's reaction."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import aiohttp

from emulator.client.results import (
    JSON,
    BotMessage,
    EmulatorError,
    EmulatorTimeout,
    Reply,
    button_dict,
)

if TYPE_CHECKING:
    from emulator.client.control_client import EmulatorClient

BOT_EVENTS = ("message", "edit", "delete", "callback_answer")


class EmulatedUser:
    """One Telegram user talking to the bot through the emulator."""

    def __init__(
        self,
        emu: EmulatorClient,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str,
    ) -> None:
        self.emu = emu
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.mark = 0
        self.last_action = "nothing yet"
        self.last_update_id: int | None = None
        self.reply_keyboard: JSON | None = None
        self._messages: dict[int, BotMessage] = {}

    def _profile(self) -> JSON:
        """Profile fields sent with every action."""
        data: JSON = {"first_name": self.first_name, "language_code": self.language_code}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    async def _act(self, action: str, body: JSON, what: str) -> JSON:
        """Perform a user action and remember where the chat was."""
        path = f"/_emu/users/{self.id}/{action}"
        result = dict(await self.emu.request("POST", path, {**self._profile(), **body}))
        if "seq" in result:
            self.mark = int(result["seq"])
        self.last_update_id = result.get("update_id", self.last_update_id)
        self.last_action = what
        return result

    # ---- actions ----------------------------------------------------------------------

    async def ensure(self) -> JSON:
        """Create or update the user on the emulator."""
        return dict(
            await self.emu.request("POST", "/_emu/users", {"id": self.id, **self._profile()})
        )

    async def send(self, text: str) -> JSON:
        """Send text; returns {update_id, message_id, seq}."""
        return await self._act("send", {"text": text}, f"send {text!r}")

    async def send_contact(self, phone_number: str, user_id: int | bool | None = True) -> JSON:
        """Share a contact: own (default), another user id, or None for no user_id."""
        body: JSON = {"phone_number": phone_number}
        if user_id is not True:
            body["user_id"] = user_id
        return await self._act("contact", body, f"send contact {phone_number}")

    async def send_sticker(self, emoji: str = "👍") -> JSON:
        """Send a sticker."""
        return await self._act("sticker", {"emoji": emoji}, "send sticker")

    async def send_photo(self, caption: str | None = None) -> JSON:
        """Send a photo."""
        return await self._act("photo", {"caption": caption}, "send photo")

    async def press(
        self,
        text: str | None = None,
        *,
        callback_data: str | None = None,
        message_id: int | None = None,
        force: bool = False,
    ) -> JSON:
        """Press an inline button (by text on the latest message having it, or by data/id)."""
        body: JSON = {"text": text, "callback_data": callback_data, "message_id": message_id}
        body = {k: v for k, v in body.items() if v is not None}
        if force:
            body["force"] = True
        what = f"press {text or callback_data!r}" + (f" on #{message_id}" if message_id else "")
        return await self._act("press", body, what)

    async def press_reply(self, text: str, phone_number: str = "+84912345678") -> JSON:
        """Press a reply-keyboard button: shares the contact when it asks for one."""
        for row in (self.reply_keyboard or await self._keyboard() or {}).get("keyboard", []):
            for raw in row:
                button = button_dict(raw)
                if button["text"] == text and button.get("request_contact"):
                    return await self.send_contact(phone_number)
        return await self.send(text)

    async def block(self) -> None:
        """Block the bot."""
        await self.emu.request("POST", f"/_emu/users/{self.id}/block")

    async def unblock(self) -> None:
        """Unblock the bot."""
        await self.emu.request("POST", f"/_emu/users/{self.id}/unblock")

    # ---- reading ----------------------------------------------------------------------

    async def _keyboard(self) -> JSON | None:
        """The reply keyboard currently shown (from the emulator)."""
        try:
            view = await self.emu.chat(self.id)
        except EmulatorError:
            return None
        self.reply_keyboard = view.get("reply_keyboard")
        return self.reply_keyboard

    async def history(self) -> list[BotMessage]:
        """All bot messages of the chat (deleted ones flagged)."""
        self._absorb(await self.emu.chat(self.id))
        return self.messages()

    def messages(self) -> list[BotMessage]:
        """Bot messages seen so far by this client (call ``history()`` to refresh)."""
        return [self._messages[k] for k in sorted(self._messages)]

    @property
    def last(self) -> BotMessage | None:
        """The newest bot message seen so far that is not deleted."""
        alive = [m for m in self.messages() if not m.deleted]
        return alive[-1] if alive else None

    async def callback_answers(self) -> list[JSON]:
        """Every answerCallbackQuery for this chat."""
        return list((await self.emu.chat(self.id))["callback_answers"])

    def _absorb(self, view: JSON) -> None:
        """Cache the bot messages and the reply keyboard of a chat view or long-poll answer."""
        for snap in view["messages"]:
            if snap["from_bot"]:
                message = BotMessage.from_snapshot(snap, self.emu.base_url)
                self._messages[message.message_id] = message
        self.reply_keyboard = view.get("reply_keyboard")

    async def _poll(self, after: int, timeout: float) -> JSON:
        """One long poll of the chat's events after ``after``."""
        data = dict(
            await self.emu.request(
                "GET", f"/_emu/chats/{self.id}/wait", after=after, timeout=round(timeout, 3)
            )
        )
        self._absorb(data)
        return data

    async def events_since(
        self, count: int, kinds: tuple[str, ...], timeout: float
    ) -> tuple[list[JSON], bool]:
        """Events after the last action until ``count`` of ``kinds`` arrived; (events, ok)."""
        events: list[JSON] = []
        cursor = self.mark
        deadline = time.monotonic() + timeout
        while sum(e["kind"] in kinds for e in events) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return events, False
            data = await self._poll(cursor, remaining)
            events.extend(data["events"])
            cursor = data["seq"]
        return events, True

    async def wait_messages(self, count: int = 1, timeout: float = 10.0) -> list[BotMessage]:
        """Wait for ``count`` new bot messages since the last action; return them."""
        events, ok = await self.events_since(count, ("message",), timeout)
        ids = [e["message_id"] for e in events if e["kind"] == "message"]
        if not ok:
            raise EmulatorTimeout(await self._explain(f"{count} new message(s)", timeout, ids))
        return [self._messages[i] for i in ids if i in self._messages]

    async def expect_reply(self, timeout: float = 10.0, quiet: float = 0.25) -> Reply:
        """Wait for any bot reaction to the last action, then until ``quiet`` s pass silently."""
        events, ok = await self.events_since(1, BOT_EVENTS, timeout)
        if not ok:
            raise EmulatorTimeout(await self._explain("a reply", timeout, []))
        cursor = max([self.mark, *(e["seq"] for e in events)])
        while True:
            data = await self._poll(cursor, quiet)
            if not data["events"]:
                break
            events.extend(data["events"])
            cursor = data["seq"]
        return self._reply(events)

    def _reply(self, events: list[JSON]) -> Reply:
        """Build a Reply from chat events."""
        order: list[int] = []
        answers: list[JSON] = []
        for event in events:
            if event["kind"] in ("message", "edit") and event["message_id"] not in order:
                order.append(event["message_id"])
            elif event["kind"] == "callback_answer":
                answers.append(event["answer"])
        messages = [self._messages[i] for i in order if i in self._messages]
        return Reply(messages, answers, self.reply_keyboard)

    async def ask(self, text: str, timeout: float = 10.0, quiet: float = 0.25) -> Reply:
        """Send text and return the bot's reply."""
        await self.send(text)
        return await self.expect_reply(timeout, quiet)

    async def click(
        self,
        text: str | None = None,
        *,
        callback_data: str | None = None,
        message_id: int | None = None,
        timeout: float = 10.0,
        quiet: float = 0.25,
    ) -> Reply:
        """Press an inline button and return the bot's reaction (edits, messages, toast)."""
        await self.press(text, callback_data=callback_data, message_id=message_id)
        return await self.expect_reply(timeout, quiet)

    async def share_contact(
        self, phone_number: str, timeout: float = 10.0, quiet: float = 0.25
    ) -> Reply:
        """Share the own contact and return the bot's reply."""
        await self.send_contact(phone_number)
        return await self.expect_reply(timeout, quiet)

    async def _explain(self, wanted: str, timeout: float, got_ids: list[int]) -> str:
        """A readable account of what the chat got, for timeout errors."""
        lines = [f"user {self.id}: waited {timeout}s for {wanted} after {self.last_action}"]
        got = [str(self._messages[i]) for i in got_ids if i in self._messages]
        lines.append("new since then: " + ("\n".join(got) if got else "nothing"))
        try:
            recent = (await self.history())[-5:]
            lines.append("last bot messages in chat:")
            lines.extend(f"  {m}" for m in recent) if recent else lines.append("  (none)")
            errors = await self.emu.calls(chat_id=self.id, errors=True)
            if errors:
                lines.append("Bot API errors for this chat:")
                lines.extend(
                    f"  {e['method']}: {e.get('error_code')} {e.get('description')}"
                    for e in errors[-5:]
                )
        except (TimeoutError, EmulatorError, aiohttp.ClientError) as exc:
            lines.append(f"(could not read chat: {exc})")
        return "\n".join(lines)
