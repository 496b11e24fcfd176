"""Control endpoints that read back what the bot did: chats, long polls, logs, files."""

from __future__ import annotations

import time

from aiohttp import web

from emulator.control.common import MAX_WAIT, ControlGroup, as_float, as_int, read_args
from emulator.core import ControlError
from emulator.state import wait_event
from emulator.wire import json_response


class ReadBack(ControlGroup):
    """What the emulator holds: bots, users, chats, the call log, stored files."""

    async def health(self, request: web.Request) -> web.Response:
        """Liveness."""
        return json_response({"ok": True})

    async def bots(self, request: web.Request) -> web.Response:
        """Bots known by token."""
        return json_response([b.summary() for b in self.core.bots.values()])

    async def list_users(self, request: web.Request) -> web.Response:
        """All users."""
        return json_response([u.tg() for u in self.core.users.values()])

    async def chat(self, request: web.Request) -> web.Response:
        """Everything the chat holds."""
        args = await read_args(request)
        _, chat = self._chat(request, args)
        return json_response(chat.view())

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
        return json_response(
            {
                "seq": chat.seq,
                "events": events,
                "messages": messages,
                "reply_keyboard": chat.reply_keyboard,
                "blocked": chat.blocked,
            }
        )

    async def stats(self, request: web.Request) -> web.Response:
        """Counters."""
        return json_response(self.core.stats())

    async def delivered(self, request: web.Request) -> web.Response:
        """Messages each chat received from the bots, by chat id (faults included)."""
        return json_response({str(k): v for k, v in self.core.delivered().items()})

    async def commands(self, request: web.Request) -> web.Response:
        """Stored setMyCommands, optionally filtered by language_code and scope type."""
        args = await read_args(request)
        bot = self._bot(args)
        entries = list(bot.commands.values())
        if "language_code" in args:
            entries = [e for e in entries if e["language_code"] == args["language_code"]]
        if "scope" in args:
            entries = [e for e in entries if e["scope"].get("type") == args["scope"]]
        return json_response(entries)

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
        return json_response(found)

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
