"""Control endpoints for groups: create a group with the bot in it, a member writes in it."""

from __future__ import annotations

import time

from aiohttp import web

from emulator.control.common import ControlGroup, as_int, profile_fields, read_args
from emulator.core import ControlError, find_message
from emulator.state import JSON, GroupChat, MsgRecord
from emulator.tg_html import utf16_len
from emulator.wire import json_response


class Groups(ControlGroup):
    """Groups the bot is a member of; their members' messages become the bot's updates."""

    async def create(self, request: web.Request) -> web.Response:
        """Create (or keep) the group ``chat_id`` (negative) with the bot in it."""
        args = await read_args(request)
        chat_id = as_int(args, "chat_id")
        if chat_id is None or chat_id >= 0:
            raise ControlError(400, "chat_id (a negative integer) is required")
        bot = self._bot(args)
        chat = bot.chats.get(chat_id)
        if chat is None:
            chat = GroupChat(chat_id, str(args.get("title") or f"Group {chat_id}"))
            bot.chats[chat_id] = chat
        return json_response(chat.tg_chat())

    async def send(self, request: web.Request) -> web.Response:
        """A member (``user_id``) writes ``text``, replying to ``reply_to_message_id`` if given."""
        args = await read_args(request)
        bot = self._bot(args)
        try:
            chat = bot.chats.get(int(request.match_info["chat_id"]))
        except ValueError as exc:
            raise ControlError(400, "chat id must be an integer") from exc
        if not isinstance(chat, GroupChat):
            raise ControlError(404, "no such group: create it with POST /_emu/groups")
        uid = as_int(args, "user_id")
        if uid is None or uid <= 0:
            raise ControlError(400, "user_id (positive integer) is required")
        user = self.core.ensure_user(uid, **profile_fields(args))
        text = str(args.get("text") or "")
        if not text:
            raise ControlError(400, "text is required")
        msg: JSON = {
            "message_id": chat.new_message_id(),
            "from": user.tg(),
            "chat": chat.tg_chat(),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        reply_to = as_int(args, "reply_to_message_id")
        if reply_to is not None:
            target = find_message(chat, reply_to)
            if target is None:
                raise ControlError(404, f"no message {reply_to} in group {chat.chat_id}")
            msg["reply_to_message"] = target.message
        chat.add(MsgRecord(msg, False, "text", raw=text))
        chat.add_event("user_message", message_id=msg["message_id"])
        update = bot.push_update({"message": msg})
        return json_response(
            {
                "update_id": update["update_id"],
                "message_id": msg["message_id"],
                "chat_id": chat.chat_id,
                "seq": chat.seq,
            }
        )
