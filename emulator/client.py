# ruff: noqa: ASYNC109  # ``timeout=`` arguments are the documented test-facing API
"""Async client of the emulator's control API, for tests and benchmarks.

Typical use::

    async with EmulatorClient(base_url) as emu:
        user = emu.user(1001, first_name="An", language_code="vi")
        reply = await user.ask("/start")
        reply = await user.click("Đồng ý")
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

JSON = dict[str, Any]
BOT_EVENTS = ("message", "edit", "delete", "callback_answer")


class EmulatorError(RuntimeError):
    """The control API refused a request."""


class EmulatorTimeout(AssertionError):
    """The bot did not do what a test waited for; the message shows what it did."""


@dataclass
class Document:
    """A file the bot sent."""

    file_id: str
    filename: str
    size: int
    mime_type: str
    caption: str | None
    url: str


@dataclass
class BotMessage:
    """A message in the chat as the emulator last saw it (edits applied)."""

    message_id: int
    text: str | None
    html: str | None = None
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    edits: list[JSON] = field(default_factory=list)
    deleted: bool = False
    document: Document | None = None
    from_bot: bool = True
    kind: str = "text"
    raw: JSON = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, data: JSON, base_url: str) -> BotMessage:
        """Build from a control API message snapshot."""
        doc = data.get("document")
        document = None
        if doc:
            document = Document(
                file_id=doc["file_id"],
                filename=doc["filename"],
                size=doc["size"],
                mime_type=doc["mime_type"],
                caption=doc.get("caption"),
                url=base_url + doc["url"],
            )
        return cls(
            message_id=data["message_id"],
            text=data.get("text"),
            html=data.get("html"),
            parse_mode=data.get("parse_mode"),
            reply_markup=data.get("reply_markup"),
            edits=list(data.get("edits") or []),
            deleted=bool(data.get("deleted")),
            document=document,
            from_bot=bool(data.get("from_bot", True)),
            kind=data.get("kind", "text"),
            raw=data,
        )

    @property
    def edited(self) -> bool:
        """True once the bot edited the message."""
        return bool(self.edits)

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of (text, callback_data); url buttons have None."""
        markup = self.reply_markup or {}
        return [
            [(b.get("text", ""), b.get("callback_data")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]

    @property
    def button_texts(self) -> list[str]:
        """All inline button texts, row by row."""
        return [text for row in self.buttons for text, _ in row]

    @property
    def reply_keyboard(self) -> list[list[JSON]] | None:
        """Reply keyboard sent with this message as rows of button dicts, if any."""
        markup = self.reply_markup or {}
        if "keyboard" not in markup:
            return None
        return [[_button(b) for b in row] for row in markup["keyboard"]]

    @property
    def removes_keyboard(self) -> bool:
        """True when this message removed the reply keyboard."""
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    def has_button(self, text: str) -> bool:
        """True when an inline button has exactly this text."""
        return text in self.button_texts

    def __str__(self) -> str:
        flags = " (deleted)" if self.deleted else (" (edited)" if self.edited else "")
        body = self.text or ""
        if self.document:
            body = f"[document {self.document.filename}, {self.document.size} B] {body}"
        lines = [f"#{self.message_id}{flags}: {body}"]
        if self.buttons:
            lines.append(f"    buttons: {self.buttons}")
        if self.reply_keyboard:
            lines.append(f"    keyboard: {[[b['text'] for b in r] for r in self.reply_keyboard]}")
        return "\n".join(lines)


def _button(raw: Any) -> JSON:
    """Normalize a reply-keyboard button to a dict with ``text``."""
    return {"text": raw} if isinstance(raw, str) else dict(raw)


class Reply(list[BotMessage]):
    """Bot messages created or edited after a user action, oldest first."""

    def __init__(
        self,
        messages: list[BotMessage],
        callback_answers: list[JSON] | None = None,
        reply_keyboard: JSON | None = None,
    ) -> None:
        super().__init__(messages)
        self.callback_answers = callback_answers or []
        self.current_keyboard = reply_keyboard

    @property
    def visible(self) -> list[BotMessage]:
        """Messages not deleted."""
        return [m for m in self if not m.deleted]

    @property
    def text(self) -> str:
        """Texts (or captions) of the visible messages joined by blank lines."""
        return "\n\n".join(m.text or "" for m in self.visible)

    @property
    def last(self) -> BotMessage:
        """The newest visible message."""
        visible = self.visible
        if not visible:
            raise EmulatorTimeout(f"no visible bot message in reply: {self!r}")
        return visible[-1]

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard rows of all visible messages."""
        return [row for m in self.visible for row in m.buttons]

    @property
    def button_texts(self) -> list[str]:
        """All inline button texts."""
        return [text for m in self.visible for text in m.button_texts]

    @property
    def keyboard_texts(self) -> list[str]:
        """Texts of the reply keyboard shown to the user now."""
        rows = (self.current_keyboard or {}).get("keyboard", [])
        return [_button(b)["text"] for row in rows for b in row]

    @property
    def documents(self) -> list[Document]:
        """Documents among the messages."""
        return [m.document for m in self.visible if m.document]

    @property
    def toast(self) -> str | None:
        """Text of the last callback answer, if any."""
        return self.callback_answers[-1].get("text") if self.callback_answers else None

    def find(self, needle: str) -> BotMessage:
        """The first visible message whose text contains ``needle``."""
        for message in self.visible:
            if needle in (message.text or ""):
                return message
        raise AssertionError(f"no message containing {needle!r} in:\n{self}")

    def __str__(self) -> str:
        return "\n".join(str(m) for m in self) or "(no messages)"


class EmulatorClient:
    """Control API client; ``user()`` gives scripted users."""

    def __init__(
        self,
        base_url: str,
        *,
        bot: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot = bot
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> EmulatorClient:
        """Open the HTTP session."""
        self._http()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        """Close the HTTP session."""
        await self.close()

    def _http(self) -> aiohttp.ClientSession:
        """The HTTP session, created on first use."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(connector=connector)
            self._own_session = True
        return self._session

    async def close(self) -> None:
        """Close the session if this client made it."""
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    async def request(self, verb: str, path: str, body: JSON | None = None, **query: Any) -> Any:
        """One control API call; raises EmulatorError on an error status."""
        params = {k: str(v) for k, v in query.items() if v is not None}
        if self.bot and "bot" not in params:
            params["bot"] = self.bot
        url = f"{self.base_url}{path}"
        async with self._http().request(verb, url, json=body, params=params) as resp:
            data = await resp.json(content_type=None)
            if resp.status >= 400:
                raise EmulatorError(f"{verb} {path}: {resp.status} {data}")
            return data

    # ---- users ------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "vi",
    ) -> EmulatedUser:
        """A scripted user (created on the emulator with its first action)."""
        return EmulatedUser(
            self, user_id, first_name or f"User{user_id}", last_name, username, language_code
        )

    # ---- whole emulator ---------------------------------------------------------------

    async def settle(self, idle: float = 0.2, timeout: float = 10.0) -> bool:
        """Wait until the bot fetched all updates and stayed quiet ``idle`` seconds."""
        data = await self.request("POST", "/_emu/settle", idle=idle, timeout=timeout)
        return bool(data["settled"])

    async def reset(self) -> None:
        """Forget all users, chats, updates and logs."""
        await self.request("POST", "/_emu/reset")

    async def stats(self) -> JSON:
        """Counters."""
        return dict(await self.request("GET", "/_emu/stats"))

    async def commands(self, language_code: str | None = None, scope: str | None = None) -> Any:
        """Stored setMyCommands entries: [{scope, language_code, commands}]."""
        return await self.request("GET", "/_emu/commands", language_code=language_code, scope=scope)

    async def calls(
        self,
        method: str | None = None,
        chat_id: int | None = None,
        errors: bool = False,
        after: int = 0,
    ) -> list[JSON]:
        """The Bot API call log (method, chat_id, ok, error_code, description, retry_after)."""
        return list(
            await self.request(
                "GET",
                "/_emu/calls",
                method=method,
                chat_id=chat_id,
                errors="1" if errors else None,
                after=after,
            )
        )

    async def redeliver(self, update_id: int) -> None:
        """Send an update to the bot again (even if already confirmed)."""
        await self.request("POST", "/_emu/redeliver", {"update_id": update_id})

    async def chat(self, chat_id: int) -> JSON:
        """Raw view of a chat."""
        return dict(await self.request("GET", f"/_emu/chats/{chat_id}"))

    async def download(self, doc: Document | str) -> bytes:
        """Bytes of a document the bot sent."""
        url = doc.url if isinstance(doc, Document) else doc
        if url.startswith("/"):
            url = self.base_url + url
        async with self._http().get(url) as resp:
            resp.raise_for_status()
            return await resp.read()


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
                button = _button(raw)
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
        view = await self.emu.chat(self.id)
        self.reply_keyboard = view.get("reply_keyboard")
        for snap in view["messages"]:
            if snap["from_bot"]:
                self._remember(snap)
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

    def _remember(self, snap: JSON) -> BotMessage:
        """Cache a message snapshot."""
        message = BotMessage.from_snapshot(snap, self.emu.base_url)
        self._messages[message.message_id] = message
        return message

    async def _poll(self, after: int, timeout: float) -> JSON:
        """One long poll of the chat's events after ``after``."""
        data = dict(
            await self.emu.request(
                "GET", f"/_emu/chats/{self.id}/wait", after=after, timeout=round(timeout, 3)
            )
        )
        for snap in data["messages"]:
            if snap["from_bot"]:
                self._remember(snap)
        self.reply_keyboard = data.get("reply_keyboard")
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
