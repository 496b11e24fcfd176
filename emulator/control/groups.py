"""Control endpoints that play a group or supergroup: members (people, bots, or a sender the
update does not name) write there and press buttons under the bot's messages."""

from __future__ import annotations

import time

from aiohttp import web

from emulator.control.common import (
    ControlGroup,
    as_int,
    command_entities,
    profile_fields,
    read_args,
)
from emulator.core import ControlError, find_message
from emulator.state import JSON, BotState, GroupChatState, MsgRecord
from emulator.wire import json_response

KINDS = ("group", "supergroup")


class GroupActions(ControlGroup):
    """Someone acts in a group; each action queues the Update the bot will get."""

    def _group(self, request: web.Request, args: JSON) -> tuple[BotState, GroupChatState]:
        """The group of the URL (negative id), created with the given type and title."""
        try:
            chat_id = int(request.match_info["gid"])
        except ValueError as exc:
            raise ControlError(400, "group id must be an integer") from exc
        kind = str(args.get("type") or "group")
        if chat_id >= 0 or kind not in KINDS:
            raise ControlError(400, f"a group id is negative and its type one of {KINDS}")
        bot = self._bot(args)
        return bot, bot.group_chat(chat_id, kind, str(args.get("title") or f"Group {-chat_id}"))

    def _sender(self, args: JSON) -> JSON | None:
        """``from`` of the update: a user (``user_id``), a bot (``bot_id``), or no one."""
        user_id, bot_id = as_int(args, "user_id"), as_int(args, "bot_id")
        if user_id is not None:
            return self.core.ensure_user(user_id, **profile_fields(args)).tg()
        if bot_id is not None:
            name = str(args.get("first_name") or f"Bot {bot_id}")
            return {"id": bot_id, "is_bot": True, "first_name": name, "username": f"b{bot_id}_bot"}
        return None

    async def send_text(self, request: web.Request) -> web.Response:
        """A member writes in the group (commands get a bot_command entity)."""
        args = await read_args(request)
        bot, chat = self._group(request, args)
        text = str(args.get("text") or "")
        if not text:
            raise ControlError(400, "text is required")
        msg: JSON = {
            "message_id": chat.new_message_id(),
            "chat": chat.tg_chat(),
            "date": int(time.time()),
            "text": text,
            **command_entities(text),
        }
        sender = self._sender(args)
        if sender is not None:
            msg["from"] = sender
        chat.add(MsgRecord(msg, False, "text", raw=text))
        chat.add_event("user_message", message_id=msg["message_id"])
        update = bot.push_update({"message": msg})
        return json_response(
            {"update_id": update["update_id"], "message_id": msg["message_id"], "seq": chat.seq}
        )

    async def press(self, request: web.Request) -> web.Response:
        """A member presses a button (``callback_data``) under a message of the group."""
        args = await read_args(request)
        bot, chat = self._group(request, args)
        sender = self._sender(args)
        message_id, data = as_int(args, "message_id"), args.get("callback_data")
        rec = find_message(chat, message_id) if message_id is not None else None
        if sender is None or rec is None or not data:
            raise ControlError(400, "user_id, message_id of a message and callback_data needed")
        query_id = f"{bot.bot_id}{next(self.core.callback_ids):08d}"
        bot.callback_queries[query_id] = {
            "chat_id": chat.chat_id,
            "message_id": rec.message_id,
            "data": str(data),
            "answered": False,
        }
        query = {
            "id": query_id,
            "from": sender,
            "message": rec.message,
            "chat_instance": f"ci{bot.bot_id}_{chat.chat_id}",
            "data": str(data),
        }
        update = bot.push_update({"callback_query": query})
        return json_response(
            {"update_id": update["update_id"], "callback_query_id": query_id, "seq": chat.seq}
        )
