"""The HTTP entry of the Bot API: ``/bot{token}/{method}`` and bot-side file downloads.

``METHODS`` below is the one list of the Bot API methods the emulator answers; a method not
listed gets Telegram's 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulator.botapi import bot_methods, edits, messages
from emulator.botapi.params import Params
from emulator.core import EmulatorCore
from emulator.faults import BAD_GATEWAY, CODES, SENDING
from emulator.state import ApiError, BotState
from emulator.wire import json_response

Handler = Callable[[EmulatorCore, BotState, Params], Awaitable[Any]]

_HANDLERS: list[tuple[str, Handler]] = [
    # the bot itself
    ("getMe", bot_methods.get_me),
    ("logOut", bot_methods.log_out),
    ("close", bot_methods.close),
    ("setWebhook", bot_methods.set_webhook),
    ("deleteWebhook", bot_methods.delete_webhook),
    ("getWebhookInfo", bot_methods.get_webhook_info),
    ("setMyCommands", bot_methods.set_my_commands),
    ("getMyCommands", bot_methods.get_my_commands),
    ("deleteMyCommands", bot_methods.delete_my_commands),
    ("setMyDescription", bot_methods.store_setting),
    ("setMyShortDescription", bot_methods.store_setting),
    ("setMyName", bot_methods.store_setting),
    ("setChatMenuButton", bot_methods.store_setting),
    ("getUpdates", bot_methods.get_updates),
    # chats and messages
    ("sendMessage", messages.send_message),
    ("sendDocument", messages.send_document),
    ("sendPhoto", messages.send_photo),
    ("deleteMessage", messages.delete_message),
    ("answerCallbackQuery", messages.answer_callback_query),
    ("sendChatAction", messages.send_chat_action),
    ("getChat", messages.get_chat),
    ("getFile", messages.get_file),
    ("editMessageText", edits.edit_message_text),
    ("editMessageCaption", edits.edit_message_caption),
    ("editMessageReplyMarkup", edits.edit_message_reply_markup),
]
# Method names are case-insensitive: lowercased name -> (canonical name, handler).
METHODS: dict[str, tuple[str, Handler]] = {name.lower(): (name, fn) for name, fn in _HANDLERS}


async def handle_bot_call(core: EmulatorCore, request: web.Request) -> web.Response:
    """Entry point for ``/bot{token}/{method}``."""
    token = request.match_info["token"]
    name = request.match_info["method"].lower()
    bot = core.bot_for_token(token)
    entry = METHODS.get(name)
    if entry is None:
        err = ApiError(404, "Not Found")
        core.log_call(bot, request.match_info["method"], None, err)
        return json_response(err.body(), err.code)
    canonical, fn = entry
    polling = name == "getupdates"
    if not polling:
        bot.in_flight += 1
    params = Params({})
    fault = None
    try:
        params = await Params.read(request)
        if name in SENDING:
            fault = _fault_before(core, params)
        result = await fn(core, bot, params)
    except ApiError as err:
        core.log_call(bot, canonical, params.log_chat, err)
        if err.code == 502:
            return web.Response(status=502, text=BAD_GATEWAY, content_type="text/html")
        return json_response(err.body(), err.code)
    finally:
        if not polling:
            bot.in_flight -= 1
            bot.touch()
    if fault is not None:  # stored, and then the answer is lost
        core.log_call(bot, canonical, params.log_chat, ApiError(CODES[fault], f"fault {fault}"))
        return _lost_answer(fault)
    core.log_call(bot, canonical, params.log_chat)
    return json_response({"ok": True, "result": result})


def _fault_before(core: EmulatorCore, params: Params) -> str | None:
    """A 429 storm or a fault before storing raises; a fault after storing is returned."""
    retry_after = core.faults.storming()
    if retry_after is not None:
        core.faults.counts["429_storm"] = core.faults.counts.get("429_storm", 0) + 1
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
    raw = str(params.values.get("chat_id", ""))
    fault = core.faults.pick(int(raw) if raw.lstrip("-").isdigit() else None)
    if fault == "502_before":
        raise ApiError(502, "Bad Gateway")
    return fault


def _lost_answer(fault: str) -> web.Response:
    """The answer of a call whose message was stored."""
    if fault == "502_after":
        return web.Response(status=502, text=BAD_GATEWAY, content_type="text/html")
    if fault == "500_after":
        body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        return json_response(body, 500)
    return web.Response(
        status=200, text='{"ok": true, "result": {"message_id"', content_type="application/json"
    )


async def handle_file_download(core: EmulatorCore, request: web.Request) -> web.Response:
    """Bot-side download of a stored file."""
    stored = core.files.get(request.match_info["path"])
    if stored is None:
        return json_response(ApiError(404, "Not Found").body(), 404)
    return web.Response(body=stored.data, content_type=stored.mime_type)
