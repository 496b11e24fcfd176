"""In-memory state of the emulator: bots (one per token), users, chats, messages, updates."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from emulator.limits import RateLimiter, RateLimits

JSON = dict[str, Any]


class ApiError(Exception):
    """A Bot API error answered as ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        """The JSON body Telegram would send."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class Pulse:
    """Broadcast signal: every waiter holding the current event wakes on ``fire()``."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        """The event to wait on; take it before checking the condition."""
        return self._event

    def fire(self) -> None:
        """Wake all waiters and start a new round."""
        self._event.set()
        self._event = asyncio.Event()


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait for ``event`` at most ``seconds``; True if it was set."""
    if seconds <= 0:
        return event.is_set()
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True


@dataclass
class UserInfo:
    """A Telegram user played by the control API."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "vi"

    def tg(self) -> JSON:
        """As a Telegram ``User`` object."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


@dataclass
class StoredFile:
    """Bytes uploaded by a bot (sendDocument) or made up for a user (photo)."""

    file_id: str
    data: bytes
    filename: str
    mime_type: str

    def tg_file(self) -> JSON:
        """The fields every Telegram file object has."""
        return {
            "file_id": self.file_id,
            "file_unique_id": f"u{self.file_id}",
            "file_size": len(self.data),
        }


@dataclass
class MsgRecord:
    """One message in a chat plus what the emulator remembers about it."""

    message: JSON
    from_bot: bool
    kind: str
    raw: str | None = None
    parse_mode: str | None = None
    markup: JSON | None = None
    history: list[JSON] = field(default_factory=list)
    deleted: bool = False
    document: JSON | None = None

    @property
    def message_id(self) -> int:
        """The Telegram message id."""
        return int(self.message["message_id"])

    def inline_buttons(self) -> list[JSON]:
        """All inline buttons of the message, row by row."""
        if not self.markup or "inline_keyboard" not in self.markup:
            return []
        return [btn for row in self.markup["inline_keyboard"] for btn in row]

    def html(self) -> str | None:
        """The text as HTML: as sent with parse_mode HTML, escaped otherwise."""
        if self.raw is None:
            return None
        if (self.parse_mode or "").lower() == "html":
            return self.raw
        return self.raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def snapshot(self) -> JSON:
        """JSON view for the control API."""
        msg = self.message
        data: JSON = {
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "kind": self.kind,
            "date": msg.get("date"),
            "text": msg.get("text", msg.get("caption")),
            "html": self.html(),
            "parse_mode": self.parse_mode,
            "reply_markup": self.markup,
            "edits": self.history,
            "edited": bool(self.history),
            "deleted": self.deleted,
            "document": self.document,
        }
        for key in ("contact", "sticker", "photo"):
            if key in msg:
                data[key] = msg[key]
        return data


class ChatState:
    """A private chat between one user and one bot."""

    def __init__(self, user: UserInfo) -> None:
        self.user = user
        self.chat_id = user.id
        self.started = False
        self.blocked = False
        self.closed = False
        self.messages: dict[int, MsgRecord] = {}
        self.next_message_id = 1
        self.events: list[JSON] = []
        self.pulse = Pulse()
        self.reply_keyboard: JSON | None = None
        self.callback_answers: list[JSON] = []

    @property
    def seq(self) -> int:
        """Monotonic event counter of the chat."""
        return len(self.events)

    def new_message_id(self) -> int:
        """Allocate the next message id."""
        mid = self.next_message_id
        self.next_message_id += 1
        return mid

    def add_event(self, kind: str, **data: Any) -> JSON:
        """Record an event (new message, edit, delete, answer) and wake waiters."""
        event: JSON = {"seq": len(self.events) + 1, "kind": kind, "time": time.time(), **data}
        self.events.append(event)
        self.pulse.fire()
        return event

    def tg_chat(self) -> JSON:
        """As a Telegram ``Chat`` object."""
        chat: JSON = {"id": self.chat_id, "type": "private", "first_name": self.user.first_name}
        if self.user.last_name:
            chat["last_name"] = self.user.last_name
        if self.user.username:
            chat["username"] = self.user.username
        return chat

    def add(self, record: MsgRecord) -> None:
        """Store a message."""
        self.messages[record.message_id] = record

    def view(self) -> JSON:
        """JSON view of the whole chat."""
        return {
            "chat_id": self.chat_id,
            "user": self.user.tg(),
            "started": self.started,
            "blocked": self.blocked,
            "seq": self.seq,
            "messages": [rec.snapshot() for rec in self.messages.values()],
            "reply_keyboard": self.reply_keyboard,
            "callback_answers": self.callback_answers,
        }


class GroupChat(ChatState):
    """A group or supergroup the bot is a member of (``chat_id`` negative, as in Telegram).

    Members (people, bots, or a sender the update does not name) write in it and press buttons
    through the control API, replying to a message or not; every message reaches the bot (as
    with privacy mode off). No membership list, admins or rights.
    """

    def __init__(self, chat_id: int, kind: str, title: str) -> None:
        super().__init__(UserInfo(chat_id, title))  # the group stands in for the "user"
        self.kind = kind
        self.title = title
        self.started = True  # the bot is a member: it may write there

    def tg_chat(self) -> JSON:
        """As a Telegram ``Chat`` object."""
        return {"id": self.chat_id, "type": self.kind, "title": self.title}

    def view(self) -> JSON:
        """JSON view of the whole chat (``chat``: the group; no ``user``)."""
        view = super().view()
        del view["user"]
        return {**view, "chat": self.tg_chat()}


def bot_identity(token: str) -> JSON:
    """The bot ``User`` for a token: id from the digits before ':' when numeric."""
    head = token.split(":", 1)[0]
    if head.isdigit() and 0 < int(head) < 2**52:
        bot_id = int(head)
    else:
        bot_id = 10**9 + int(hashlib.sha256(token.encode()).hexdigest()[:7], 16)
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": "Emulator Bot",
        "username": f"emu{bot_id}_bot",
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


class BotState:
    """Everything one bot token sees: update queue, chats, commands, limits."""

    def __init__(self, token: str, limits: RateLimits, update_ids: itertools.count[int]) -> None:
        self.token = token
        self.user = bot_identity(token)
        self.update_ids = update_ids
        self.updates: deque[JSON] = deque()
        self.redeliver: deque[JSON] = deque()
        self.all_updates: dict[int, JSON] = {}
        self.update_pulse = Pulse()
        self.delivered_upto = 0
        self.poll_generation = 0
        self.chats: dict[int, ChatState] = {}
        self.commands: dict[tuple[str, str], JSON] = {}
        self.settings: JSON = {"webhook": {"url": ""}}
        self.limiter = RateLimiter(limits)
        self.in_flight = 0
        self.last_activity = time.monotonic()
        self.activity = Pulse()
        self.callback_queries: dict[str, JSON] = {}
        self.counts: Counter[str] = Counter()

    @property
    def bot_id(self) -> int:
        """The bot's user id."""
        return int(self.user["id"])

    def adopt(self, token: str) -> None:
        """Give a placeholder state (created before any bot call) its real token."""
        self.token = token
        self.user = bot_identity(token)

    def chat_for(self, user: UserInfo) -> ChatState:
        """The chat with ``user``, created on first use."""
        chat = self.chats.get(user.id)
        if chat is None:
            chat = ChatState(user)
            self.chats[user.id] = chat
        return chat

    def group_chat(self, chat_id: int, kind: str, title: str) -> GroupChat:
        """The group ``chat_id`` with the bot in it, created on first use."""
        chat = self.chats.get(chat_id)
        if not isinstance(chat, GroupChat):
            chat = GroupChat(chat_id, kind, title)
            self.chats[chat_id] = chat
        return chat

    def touch(self) -> None:
        """Note bot activity (for settle)."""
        self.last_activity = time.monotonic()
        self.activity.fire()

    def push_update(self, payload: JSON) -> JSON:
        """Queue a new Update for the bot."""
        update: JSON = {"update_id": next(self.update_ids), **payload}
        self.updates.append(update)
        self.all_updates[update["update_id"]] = update
        self.counts["updates"] += 1
        self.update_pulse.fire()
        self.activity.fire()
        return update

    def requeue(self, update_id: int) -> bool:
        """Deliver an old update once more (as after a bot crash)."""
        update = self.all_updates.get(update_id)
        if update is None:
            return False
        self.redeliver.append(update)
        self.counts["redelivered"] += 1
        self.update_pulse.fire()
        self.activity.fire()
        return True

    def confirm(self, offset: int) -> None:
        """Forget updates confirmed by ``offset`` (Telegram getUpdates semantics)."""
        queue = self.updates
        if offset < 0:
            while len(queue) > -offset:
                queue.popleft()
            return
        while queue and queue[0]["update_id"] < offset:
            queue.popleft()

    def take(self, limit: int) -> list[JSON]:
        """Up to ``limit`` pending updates (redeliveries first)."""
        batch: list[JSON] = []
        while self.redeliver and len(batch) < limit:
            batch.append(self.redeliver.popleft())
        for update in self.updates:
            if len(batch) >= limit:
                break
            batch.append(update)
        if batch:
            top = max(u["update_id"] for u in batch)
            self.delivered_upto = max(self.delivered_upto, top)
            self.touch()
        return batch

    def has_undelivered(self) -> bool:
        """True while some update was never handed to the bot."""
        if self.redeliver:
            return True
        return bool(self.updates) and self.updates[-1]["update_id"] > self.delivered_upto

    def summary(self) -> JSON:
        """Short JSON view."""
        return {
            "id": self.bot_id,
            "username": self.user["username"],
            "token_hint": self.token.split(":", 1)[0],
            "connected": bool(self.token),
            "pending_updates": len(self.updates) + len(self.redeliver),
            "chats": len(self.chats),
            "counts": dict(self.counts),
        }
