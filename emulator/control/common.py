"""Shared by the control endpoints: arguments, JSON replies, the selected bot, user and chat."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from emulator.core import ControlError, EmulatorCore
from emulator.state import JSON, BotState, ChatState, UserInfo

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


class ControlGroup:
    """Base of a group of control endpoints, bound to one emulator core."""

    def __init__(self, core: EmulatorCore) -> None:
        self.core = core

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


@web.middleware
async def control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn ControlError into a JSON error response."""
    try:
        return await handler(request)
    except ControlError as err:
        return reply({"error": err.message}, err.status)
