"""The control API under ``/_emu/``: plays users and reads back what the bot did."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from emulator.core import ControlError, EmulatorCore, find_message
from emulator.state import JSON, BotState, ChatState, MsgRecord, UserInfo, wait_event
from emulator.tg_html import utf16_len

MAX_WAIT = 60.0


def reply(data: Any, status: int = 200) -> web.Response:
    """A JSON response without ASCII escaping."""
    return web.Response(
        text=json.dumps(data, ensure_ascii=False), status=status, content_type="application/json"
    )


async def read_args(request: web.Request) -> JSON:
    """Query parameters merged with a JSON body."""
    args: JSON = dict(request.query)
    if request.can_read_body:
        try:
            body = await request.json()
        except ValueError as exc:
            raise ControlError(400, "body must be JSON") from exc
        if isinstance(body, dict):
            args.update(body)
    return args


def as_int(args: JSON, key: str, default: int | None = None) -> int | None:
    """An optional integer argument."""
    value = args.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ControlError(400, f"{key} must be an integer") from exc


def as_float(args: JSON, key: str, default: float) -> float:
    """An optional float argument."""
    value = args.get(key)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ControlError(400, f"{key} must be a number") from exc


class ControlApi:
    """Route handlers of the control API, bound to one emulator core."""

    def __init__(self, core: EmulatorCore) -> None:
        self.core = core

    def routes(self) -> list[web.RouteDef]:
        """All control routes."""
        return [
            web.get("/_emu/health", self.health),
            web.get("/_emu/bots", self.bots),
            web.get("/_emu/users", self.list_users),
            web.post("/_emu/users", self.put_user),
            web.post("/_emu/users/{uid}/send", self.send_text),
            web.post("/_emu/users/{uid}/contact", self.send_contact),
            web.post("/_emu/users/{uid}/sticker", self.send_sticker),
            web.post("/_emu/users/{uid}/photo", self.send_photo),
            web.post("/_emu/users/{uid}/press", self.press),
            web.post("/_emu/users/{uid}/block", self.block),
            web.post("/_emu/users/{uid}/unblock", self.unblock),
            web.get("/_emu/chats/{uid}", self.chat),
            web.get("/_emu/chats/{uid}/wait", self.wait),
            web.post("/_emu/redeliver", self.redeliver),
            web.route("*", "/_emu/settle", self.settle),
            web.post("/_emu/reset", self.reset),
            web.get("/_emu/stats", self.stats),
            web.get("/_emu/commands", self.commands),
            web.get("/_emu/calls", self.calls),
            web.get("/_emu/files/{file_id}", self.file),
        ]

    # ---- helpers ----------------------------------------------------------------------

    def _bot(self, args: JSON) -> BotState:
        """The bot selected by the ``bot`` argument."""
        return self.core.bot_for_control(args.get("bot"))

    def _user(self, request: web.Request, args: JSON) -> UserInfo:
        """The user of the URL, created with defaults when new."""
        try:
            uid = int(request.match_info["uid"])
        except ValueError as exc:
            raise ControlError(400, "user id must be an integer") from exc
        fields = {k: args.get(k) for k in ("first_name", "last_name", "username", "language_code")}
        return self.core.ensure_user(uid, **fields)

    def _chat(self, request: web.Request, args: JSON) -> tuple[BotState, ChatState]:
        """An existing chat of the selected bot."""
        bot = self._bot(args)
        try:
            uid = int(request.match_info["uid"])
        except ValueError as exc:
            raise ControlError(400, "user id must be an integer") from exc
        chat = bot.chats.get(uid)
        if chat is None:
            user = self.core.users.get(uid)
            if user is None:
                raise ControlError(404, f"no user {uid}")
            chat = bot.chat_for(user)
        return bot, chat

    def _user_message(self, bot: BotState, user: UserInfo, kind: str, payload: JSON) -> JSON:
        """Put a message from the user in the chat and queue its Update."""
        chat = bot.chat_for(user)
        chat.started = True
        chat.blocked = False
        msg: JSON = {
            "message_id": chat.new_message_id(),
            "from": user.tg(),
            "chat": chat.tg_chat(),
            "date": int(time.time()),
            **payload,
        }
        chat.add(MsgRecord(msg, False, kind, raw=msg.get("text")))
        chat.add_event("user_message", message_id=msg["message_id"])
        update = bot.push_update({"message": msg})
        return {
            "update_id": update["update_id"],
            "message_id": msg["message_id"],
            "chat_id": chat.chat_id,
            "seq": chat.seq,
        }

    # ---- routes -----------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        """Liveness."""
        return reply({"ok": True})

    async def bots(self, request: web.Request) -> web.Response:
        """Bots known by token."""
        return reply([b.summary() for b in self.core.bots.values()])

    async def list_users(self, request: web.Request) -> web.Response:
        """All users."""
        return reply([u.tg() for u in self.core.users.values()])

    async def put_user(self, request: web.Request) -> web.Response:
        """Create or update a user."""
        args = await read_args(request)
        uid = as_int(args, "id")
        if uid is None or uid <= 0:
            raise ControlError(400, "id (positive integer) is required")
        fields = {k: args.get(k) for k in ("first_name", "last_name", "username", "language_code")}
        return reply(self.core.ensure_user(uid, **fields).tg())

    async def send_text(self, request: web.Request) -> web.Response:
        """The user sends text (commands get a bot_command entity)."""
        args = await read_args(request)
        user = self._user(request, args)
        text = str(args.get("text") or "")
        if not text:
            raise ControlError(400, "text is required")
        payload: JSON = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            payload["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return reply(self._user_message(self._bot(args), user, "text", payload))

    async def send_contact(self, request: web.Request) -> web.Response:
        """The user shares a contact (their own unless user_id says otherwise)."""
        args = await read_args(request)
        user = self._user(request, args)
        phone = str(args.get("phone_number") or "")
        if not phone:
            raise ControlError(400, "phone_number is required")
        contact: JSON = {
            "phone_number": phone,
            "first_name": args.get("contact_first_name") or user.first_name,
        }
        last = args.get("contact_last_name", user.last_name)
        if last:
            contact["last_name"] = last
        owner = args.get("user_id", user.id)
        if owner is not None:
            contact["user_id"] = int(owner)
        return reply(self._user_message(self._bot(args), user, "contact", {"contact": contact}))

    async def send_sticker(self, request: web.Request) -> web.Response:
        """The user sends a sticker."""
        args = await read_args(request)
        user = self._user(request, args)
        sticker = {
            "file_id": "EMU_STICKER",
            "file_unique_id": "EMU_STICKER_U",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": str(args.get("emoji") or "👍"),
        }
        return reply(self._user_message(self._bot(args), user, "sticker", {"sticker": sticker}))

    async def send_photo(self, request: web.Request) -> web.Response:
        """The user sends a photo (tiny made-up file), optionally with a caption."""
        args = await read_args(request)
        user = self._user(request, args)
        stored = self.core.store_file(b"\x89PNG\r\n\x1a\n", "photo.png", "image/png")
        size = {
            "file_id": stored.file_id,
            "file_unique_id": f"u{stored.file_id}",
            "width": 90,
            "height": 90,
            "file_size": len(stored.data),
        }
        payload: JSON = {"photo": [size]}
        if args.get("caption"):
            payload["caption"] = str(args["caption"])
        return reply(self._user_message(self._bot(args), user, "photo", payload))

    async def press(self, request: web.Request) -> web.Response:
        """The user presses an inline button: by message_id/callback_data or by button text."""
        args = await read_args(request)
        user = self._user(request, args)
        bot = self._bot(args)
        chat = bot.chats.get(user.id)
        if chat is None:
            raise ControlError(404, f"user {user.id} has no chat with the bot")
        rec, button = self._find_button(chat, args)
        if "callback_data" not in button:
            return reply({"url": button.get("url"), "message_id": rec.message_id})
        query_id = f"{bot.bot_id}{next(self.core.callback_ids):08d}"
        bot.callback_queries[query_id] = {
            "chat_id": chat.chat_id,
            "message_id": rec.message_id,
            "data": button["callback_data"],
            "answered": False,
        }
        query = {
            "id": query_id,
            "from": user.tg(),
            "message": rec.message,
            "chat_instance": f"ci{bot.bot_id}_{chat.chat_id}",
            "data": button["callback_data"],
        }
        update = bot.push_update({"callback_query": query})
        return reply(
            {
                "update_id": update["update_id"],
                "callback_query_id": query_id,
                "message_id": rec.message_id,
                "data": button["callback_data"],
                "chat_id": chat.chat_id,
                "seq": chat.seq,
            }
        )

    def _find_button(self, chat: ChatState, args: JSON) -> tuple[MsgRecord, JSON]:
        """The message and button a press means."""
        mid = as_int(args, "message_id")
        data = args.get("callback_data")
        text = args.get("text")
        if mid is not None:
            rec = find_message(chat, mid)
            if rec is None or not rec.from_bot:
                raise ControlError(404, f"no bot message {mid} in chat {chat.chat_id}")
            candidates = [rec]
        else:
            candidates = [
                r for r in reversed(chat.messages.values()) if r.from_bot and not r.deleted
            ]
        for match in (_exact, _loose):
            for rec in candidates:
                for button in rec.inline_buttons():
                    if match(button, text, data):
                        return rec, button
        if args.get("force") and mid is not None and data:
            return candidates[0], {"text": text or data, "callback_data": str(data)}
        shown = [
            (b.get("text"), b.get("callback_data"))
            for r in candidates[:1]
            for b in r.inline_buttons()
        ]
        raise ControlError(
            404, f"no button text={text!r} callback_data={data!r}; latest buttons: {shown}"
        )

    async def block(self, request: web.Request) -> web.Response:
        """The user blocks the bot."""
        return await self._set_blocked(request, True)

    async def unblock(self, request: web.Request) -> web.Response:
        """The user unblocks the bot."""
        return await self._set_blocked(request, False)

    async def _set_blocked(self, request: web.Request, blocked: bool) -> web.Response:
        args = await read_args(request)
        chat = self._bot(args).chat_for(self._user(request, args))
        chat.blocked = blocked
        return reply({"blocked": blocked, "chat_id": chat.chat_id})

    async def chat(self, request: web.Request) -> web.Response:
        """Everything the chat holds."""
        args = await read_args(request)
        _, chat = self._chat(request, args)
        return reply(chat.view())

    async def wait(self, request: web.Request) -> web.Response:
        """Long poll until the chat has an event after ``after`` (or timeout)."""
        args = await read_args(request)
        _, chat = self._chat(request, args)
        after = as_int(args, "after", 0) or 0
        timeout = min(max(as_float(args, "timeout", 10.0), 0.0), MAX_WAIT)
        deadline = time.monotonic() + timeout
        while True:
            event = chat.pulse.current()
            if chat.seq > after or chat.closed or self.core.closing:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await wait_event(event, remaining):
                break
        events = chat.events[after:]
        ids = {e["message_id"] for e in events if "message_id" in e}
        messages = [chat.messages[i].snapshot() for i in sorted(ids) if i in chat.messages]
        return reply(
            {
                "seq": chat.seq,
                "events": events,
                "messages": messages,
                "reply_keyboard": chat.reply_keyboard,
                "blocked": chat.blocked,
            }
        )

    async def redeliver(self, request: web.Request) -> web.Response:
        """Queue an old update again, even if it was confirmed."""
        args = await read_args(request)
        update_id = as_int(args, "update_id")
        if update_id is None:
            raise ControlError(400, "update_id is required")
        selected = self._bot(args)
        for bot in [selected, *self.core.bots.values()]:
            if bot.requeue(update_id):
                return reply({"update_id": update_id, "queued": True})
        raise ControlError(404, f"no update {update_id}")

    async def settle(self, request: web.Request) -> web.Response:
        """Wait until the bot fetched every update and made no call for ``idle`` seconds."""
        args = await read_args(request)
        idle = as_float(args, "idle", 0.2)
        timeout = min(as_float(args, "timeout", 10.0), MAX_WAIT)
        bot = self._bot(args)
        started = time.monotonic()
        settled = await settle_bot(bot, idle, timeout)
        return reply(
            {
                "settled": settled,
                "waited": time.monotonic() - started,
                "pending_updates": len(bot.updates) + len(bot.redeliver),
                "undelivered": bot.has_undelivered(),
                "in_flight": bot.in_flight,
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        """Forget everything."""
        self.core.reset()
        return reply({"reset": True})

    async def stats(self, request: web.Request) -> web.Response:
        """Counters."""
        return reply(self.core.stats())

    async def commands(self, request: web.Request) -> web.Response:
        """Stored setMyCommands, optionally filtered by language_code and scope type."""
        args = await read_args(request)
        bot = self._bot(args)
        entries = list(bot.commands.values())
        if "language_code" in args:
            entries = [e for e in entries if e["language_code"] == args["language_code"]]
        if "scope" in args:
            entries = [e for e in entries if e["scope"].get("type") == args["scope"]]
        return reply(entries)

    async def calls(self, request: web.Request) -> web.Response:
        """The Bot API call log, filtered by method, chat_id, after (seq), errors."""
        args = await read_args(request)
        after = as_int(args, "after", 0) or 0
        method = str(args.get("method") or "").lower()
        chat_id = args.get("chat_id")
        errors = str(args.get("errors") or "").lower() in ("1", "true")
        found = []
        for entry in self.core.calls:
            if entry["seq"] <= after or (method and entry["method"].lower() != method):
                continue
            if chat_id not in (None, "") and str(entry["chat_id"]) != str(chat_id):
                continue
            if errors and entry["ok"]:
                continue
            found.append(entry)
        return reply(found)

    async def file(self, request: web.Request) -> web.Response:
        """Download the bytes of a stored file."""
        stored = self.core.files.get(request.match_info["file_id"])
        if stored is None:
            raise ControlError(404, "no such file")
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(stored.filename)}"}
        return web.Response(body=stored.data, content_type=stored.mime_type, headers=headers)


def _quote(name: str) -> str:
    """Percent-encode a filename for Content-Disposition."""
    from urllib.parse import quote

    return quote(name, safe="")


def _exact(button: JSON, text: Any, data: Any) -> bool:
    """Button matches text and/or callback_data exactly."""
    if text is None and data is None:
        return False
    if text is not None and button.get("text") != text:
        return False
    return data is None or button.get("callback_data") == data


def _loose(button: JSON, text: Any, data: Any) -> bool:
    """Button text matches ignoring case and surrounding spaces."""
    if text is None or data is not None:
        return False
    return str(button.get("text", "")).strip().casefold() == str(text).strip().casefold()


async def settle_bot(bot: BotState, idle: float, limit: float) -> bool:
    """True once no update is undelivered and no call happened for ``idle`` seconds."""
    deadline = time.monotonic() + limit
    while True:
        event = bot.activity.current()
        now = time.monotonic()
        if not bot.has_undelivered() and bot.in_flight == 0:
            quiet = now - bot.last_activity
            if quiet >= idle:
                return True
            wait = idle - quiet
        else:
            wait = deadline - now
        wait = min(wait, deadline - now)
        if wait <= 0:
            return False
        await wait_event(event, wait)


@web.middleware
async def control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn ControlError into a JSON error response."""
    try:
        return await handler(request)
    except ControlError as err:
        return reply({"error": err.message}, err.status)
