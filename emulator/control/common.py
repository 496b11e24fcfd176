"""Shared by the control endpoints: arguments, JSON replies, the selected bot, user and chat."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from emulator.core import ControlError, EmulatorCore
from emulator.state import JSON, BotState, ChatState, UserInfo
from emulator.tg_html import utf16_len
from emulator.wire import json_object, json_response, parse_number

MAX_WAIT = 60.0


async def read_args(request: web.Request) -> JSON:
    """Query parameters merged with a JSON body."""
    args: JSON = dict(request.query)
    if request.can_read_body:
        args.update(await json_object(request, ControlError(400, "body must be JSON")))
    return args


def as_int(args: JSON, key: str, default: int | None = None) -> int | None:
    """An optional integer argument."""
    return parse_number(args.get(key), default, int, ControlError(400, f"{key} must be an integer"))


def as_float(args: JSON, key: str, default: float) -> float:
    """An optional float argument."""
    return parse_number(args.get(key), default, float, ControlError(400, f"{key} must be a number"))


def profile_fields(args: JSON) -> JSON:
    """The user profile fields among the arguments (None when not given)."""
    return {k: args.get(k) for k in ("first_name", "last_name", "username", "language_code")}


def command_entities(text: str) -> JSON:
    """``{"entities": [bot_command]}`` for a text starting with a command, else ``{}``."""
    if not text.startswith("/"):
        return {}
    command = text.split(maxsplit=1)[0]
    return {"entities": [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]}


def _path_uid(request: web.Request) -> int:
    """The ``{uid}`` of the URL."""
    try:
        return int(request.match_info["uid"])
    except ValueError as exc:
        raise ControlError(400, "user id must be an integer") from exc


class ControlGroup:
    """Base of a group of control endpoints, bound to one emulator core."""

    def __init__(self, core: EmulatorCore) -> None:
        self.core = core

    def _bot(self, args: JSON) -> BotState:
        """The bot selected by the ``bot`` argument."""
        return self.core.bot_for_control(args.get("bot"))

    def _user(self, request: web.Request, args: JSON) -> UserInfo:
        """The user of the URL, created with defaults when new."""
        return self.core.ensure_user(_path_uid(request), **profile_fields(args))

    def _chat(self, request: web.Request, args: JSON) -> tuple[BotState, ChatState]:
        """An existing chat of the selected bot."""
        bot = self._bot(args)
        uid = _path_uid(request)
        chat = bot.chats.get(uid)
        if chat is None:
            user = self.core.users.get(uid)
            if user is None:
                raise ControlError(404, f"no user {uid}")
            chat = bot.chat_for(user)
        return bot, chat


@web.middleware
async def control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn ControlError into a JSON error response."""
    try:
        return await handler(request)
    except ControlError as err:
        return json_response({"error": err.message}, err.status)
