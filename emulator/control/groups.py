"""Control endpoints that play a group or supergroup the bot is in: members (people, bots, or a
sender the update does not name) write there, reply to messages and press buttons under the
bot's messages. What the bot writes there is read back like any chat (``/_emu/chats/{gid}``)."""

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
from emulator.state import JSON, BotState, GroupChat, MsgRecord
from emulator.wire import json_response

KINDS = ("group", "supergroup")


class GroupActions(ControlGroup):
    """Groups the bot is a member of; each member's action queues the Update the bot will get."""

    def _group(self, chat_id: int | None, args: JSON) -> tuple[BotState, GroupChat]:
        """The group ``chat_id`` (negative), made on first use with the given type and title."""
        kind = str(args.get("type") or "group")
        if chat_id is None or chat_id >= 0 or kind not in KINDS:
            raise ControlError(400, f"a group id is negative and its type one of {KINDS}")
        bot = self._bot(args)
        title = str(args.get("title") or f"Group {-chat_id}")
        return bot, bot.group_chat(chat_id, kind, title)

    def _url_group(self, request: web.Request, args: JSON) -> tuple[BotState, GroupChat]:
        """The group of the URL (``{gid}``)."""
        try:
            chat_id = int(request.match_info["gid"])
        except ValueError as exc:
            raise ControlError(400, "group id must be an integer") from exc
        return self._group(chat_id, args)

    def _sender(self, args: JSON) -> JSON | None:
        """``from`` of the update: a user (``user_id``), a bot (``bot_id``), or no one."""
        user_id, bot_id = as_int(args, "user_id"), as_int(args, "bot_id")
        if user_id is not None:
            return self.core.ensure_user(user_id, **profile_fields(args)).tg()
        if bot_id is not None:
            name = str(args.get("first_name") or f"Bot {bot_id}")
            return {"id": bot_id, "is_bot": True, "first_name": name, "username": f"b{bot_id}_bot"}
        return None

    async def create(self, request: web.Request) -> web.Response:
        """Make (or keep) the group ``chat_id`` with the bot in it, so the bot may write first."""
        args = await read_args(request)
        _, chat = self._group(as_int(args, "chat_id"), args)
        return json_response(chat.tg_chat())

    async def send_text(self, request: web.Request) -> web.Response:
        """A member writes in the group (commands get a bot_command entity), replying to
        ``reply_to_message_id`` if given."""
        args = await read_args(request)
        bot, chat = self._url_group(request, args)
        text = str(args.get("text") or "")
        if not text:
            raise ControlError(400, "text is required")
        reply_to = as_int(args, "reply_to_message_id")
        target = find_message(chat, reply_to) if reply_to is not None else None
        if reply_to is not None and target is None:
            raise ControlError(404, f"no message {reply_to} in group {chat.chat_id}")
        sender = self._sender(args)
        msg: JSON = {
            "message_id": chat.new_message_id(),
            "chat": chat.tg_chat(),
            "date": int(time.time()),
            "text": text,
            **command_entities(text),
        }
        if sender is not None:
            msg["from"] = sender
        if target is not None:
            # as in Telegram, the replied-to message comes without its own reply_to_message
            msg["reply_to_message"] = {
                k: v for k, v in target.message.items() if k != "reply_to_message"
            }
        chat.add(MsgRecord(msg, False, "text", raw=text))
        chat.add_event("user_message", message_id=msg["message_id"])
        update = bot.push_update({"message": msg})
        return json_response(
            {"update_id": update["update_id"], "message_id": msg["message_id"], "seq": chat.seq}
        )

    async def press(self, request: web.Request) -> web.Response:
        """A member presses a button (``callback_data``) under a message of the group."""
        args = await read_args(request)
        bot, chat = self._url_group(request, args)
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
