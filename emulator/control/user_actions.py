"""Control endpoints that play the user: write, share a contact, press buttons, block."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from emulator.control.common import (
    ControlGroup,
    as_int,
    command_entities,
    profile_fields,
    read_args,
)
from emulator.core import ControlError, find_message
from emulator.state import JSON, BotState, ChatState, MsgRecord, UserInfo
from emulator.wire import json_response


class UserActions(ControlGroup):
    """The user acts; each action queues the Update the bot will get."""

    async def put_user(self, request: web.Request) -> web.Response:
        """Create or update a user."""
        args = await read_args(request)
        uid = as_int(args, "id")
        if uid is None or uid <= 0:
            raise ControlError(400, "id (positive integer) is required")
        return json_response(self.core.ensure_user(uid, **profile_fields(args)).tg())

    async def send_text(self, request: web.Request) -> web.Response:
        """The user sends text (commands get a bot_command entity)."""
        args = await read_args(request)
        user = self._user(request, args)
        text = str(args.get("text") or "")
        if not text:
            raise ControlError(400, "text is required")
        payload: JSON = {"text": text, **command_entities(text)}
        return json_response(self._user_message(self._bot(args), user, "text", payload))

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
        return json_response(
            self._user_message(self._bot(args), user, "contact", {"contact": contact})
        )

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
        return json_response(
            self._user_message(self._bot(args), user, "sticker", {"sticker": sticker})
        )

    async def send_photo(self, request: web.Request) -> web.Response:
        """The user sends a photo (tiny made-up file), optionally with a caption."""
        args = await read_args(request)
        user = self._user(request, args)
        stored = self.core.store_file(b"\x89PNG\r\n\x1a\n", "photo.png", "image/png")
        size = {**stored.tg_file(), "width": 90, "height": 90}
        payload: JSON = {"photo": [size]}
        if args.get("caption"):
            payload["caption"] = str(args["caption"])
        return json_response(self._user_message(self._bot(args), user, "photo", payload))

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
            return json_response({"url": button.get("url"), "message_id": rec.message_id})
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
        return json_response(
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
        return json_response({"blocked": blocked, "chat_id": chat.chat_id})

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
