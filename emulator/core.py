"""The emulator's shared core: bots by token, users, files and the API call log."""

from __future__ import annotations

import itertools
import time
from collections import Counter, deque
from typing import Any

from emulator.faults import Faults
from emulator.limits import RateLimits
from emulator.state import JSON, BotState, ChatState, MsgRecord, StoredFile, UserInfo
from emulator.webhook import WebhookPusher

PLACEHOLDER = ""


class ControlError(Exception):
    """An error of the control API (``{"error": ...}`` with an HTTP status)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class EmulatorCore:
    """State shared by the Bot API side and the control API side."""

    def __init__(
        self,
        limits: RateLimits | None = None,
        default_token: str | None = None,
        long_poll_max: float = 50.0,
        log_limit: int = 100_000,
    ) -> None:
        self.limits = limits if limits is not None else RateLimits()
        self.faults = Faults()
        self.default_token = default_token
        self.long_poll_max = long_poll_max
        self.update_ids = itertools.count(1)
        self.file_ids = itertools.count(1)
        self.callback_ids = itertools.count(1)
        self.call_seq = itertools.count(1)
        self.calls: deque[JSON] = deque(maxlen=log_limit)
        self.call_counts: Counter[str] = Counter()
        self.error_counts: Counter[str] = Counter()
        self.closing = False
        self.started_at = time.time()
        self.bots: dict[str, BotState] = {}
        self.users: dict[int, UserInfo] = {}
        self.files: dict[str, StoredFile] = {}
        self.pushers: dict[int, WebhookPusher] = {}  # by bot id, while a webhook is set

    # ---- bots -------------------------------------------------------------------------

    def bot_for_token(self, token: str) -> BotState:
        """The state of a token, adopting the placeholder made before any bot call."""
        bot = self.bots.get(token)
        if bot is not None:
            return bot
        placeholder = self.bots.get(PLACEHOLDER)
        if placeholder is not None and token != PLACEHOLDER and len(self.bots) == 1:
            del self.bots[PLACEHOLDER]
            placeholder.adopt(token)
            self.bots[token] = placeholder
            return placeholder
        bot = BotState(token, self.limits, self.update_ids)
        self.bots[token] = bot
        return bot

    def bot_for_control(self, selector: str | None) -> BotState:
        """The bot a control call means: by token, bot id or username; default otherwise."""
        if selector:
            for token, bot in self.bots.items():
                if selector in (token, str(bot.bot_id), bot.user["username"]):
                    return bot
            if ":" in selector:
                return self.bot_for_token(selector)
            raise ControlError(404, f"unknown bot {selector!r}")
        if self.default_token:
            return self.bot_for_token(self.default_token)
        if self.bots:
            return next(iter(self.bots.values()))
        return self.bot_for_token(PLACEHOLDER)

    async def webhook_changed(self, bot: BotState) -> None:
        """Stop the old webhook's pusher; start one for the new URL, if any."""
        old = self.pushers.pop(bot.bot_id, None)
        if old is not None:
            await old.stop()
        if bot.settings["webhook"]["url"]:
            pusher = WebhookPusher(bot, bot.settings["webhook"])
            pusher.start()
            self.pushers[bot.bot_id] = pusher

    async def stop_pushers(self) -> None:
        """Stop every webhook pusher."""
        pushers, self.pushers = list(self.pushers.values()), {}
        for pusher in pushers:
            await pusher.stop()

    # ---- users ------------------------------------------------------------------------

    def ensure_user(self, user_id: int, **fields: Any) -> UserInfo:
        """Create the user or update the fields given."""
        user = self.users.get(user_id)
        if user is None:
            user = UserInfo(id=user_id, first_name=fields.get("first_name") or f"User {user_id}")
            self.users[user_id] = user
        for key in ("first_name", "last_name", "username", "language_code"):
            if fields.get(key) is not None:
                setattr(user, key, fields[key])
        return user

    # ---- files ------------------------------------------------------------------------

    def store_file(self, data: bytes, filename: str, mime_type: str) -> StoredFile:
        """Keep uploaded bytes under a new file_id."""
        file_id = f"EMU{next(self.file_ids):06d}_{len(data)}"
        stored = StoredFile(file_id, data, filename, mime_type)
        self.files[file_id] = stored
        return stored

    # ---- log --------------------------------------------------------------------------

    def log_call(self, bot: BotState, method: str, chat_id: Any, error: Any = None) -> None:
        """Append one Bot API call to the log."""
        entry: JSON = {
            "seq": next(self.call_seq),
            "time": time.time(),
            "bot_id": bot.bot_id,
            "method": method,
            "chat_id": chat_id,
            "ok": error is None,
        }
        self.call_counts[method] += 1
        if error is not None:
            entry["error_code"] = error.code
            entry["description"] = error.description
            if error.retry_after is not None:
                entry["retry_after"] = error.retry_after
            self.error_counts[str(error.code)] += 1
        self.calls.append(entry)

    def delivered(self) -> Counter[int]:
        """Messages each chat received from the bots (what the user saw, whatever the bot was
        answered)."""
        counts: Counter[int] = Counter()
        for bot in self.bots.values():
            for chat in bot.chats.values():
                counts[chat.chat_id] += sum(rec.from_bot for rec in chat.messages.values())
        return counts

    # ---- whole emulator ---------------------------------------------------------------

    def wake_all(self, close_chats: bool = False) -> None:
        """Wake every getUpdates, settle and chat long poll; ``close_chats`` ends chat polls."""
        for bot in self.bots.values():
            bot.update_pulse.fire()
            bot.activity.fire()
            for chat in bot.chats.values():
                if close_chats:
                    chat.closed = True
                chat.pulse.fire()

    def reset(self) -> None:
        """Forget users, chats, updates and logs (update ids keep growing)."""
        self.wake_all(close_chats=True)
        for pusher in self.pushers.values():
            pusher.cancel()
        self.pushers.clear()
        self.bots.clear()
        self.users.clear()
        self.files.clear()
        self.calls.clear()
        self.call_counts.clear()
        self.error_counts.clear()
        self.faults = Faults()

    def stats(self) -> JSON:
        """Counters for benchmarks."""
        chats = sum(len(b.chats) for b in self.bots.values())
        totals: Counter[str] = Counter()
        for bot in self.bots.values():
            totals.update(bot.counts)
        return {
            "uptime": time.time() - self.started_at,
            "bots": [b.summary() for b in self.bots.values()],
            "users": len(self.users),
            "chats": chats,
            "calls": dict(self.call_counts),
            "errors": dict(self.error_counts),
            "totals": dict(totals),
            "rate_limits": self.limits.enabled,
            "faults": dict(self.faults.counts),
        }


def find_message(chat: ChatState, message_id: int) -> MsgRecord | None:
    """A message of the chat that is not deleted."""
    rec = chat.messages.get(message_id)
    if rec is None or rec.deleted:
        return None
    return rec
