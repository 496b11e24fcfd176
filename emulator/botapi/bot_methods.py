"""Methods about the bot itself: identity, webhook, commands, other settings, getUpdates."""

from __future__ import annotations

import re
import time
from typing import Any

from emulator.botapi.params import Params
from emulator.core import EmulatorCore
from emulator.state import ApiError, BotState, wait_event

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


async def get_me(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """The bot user."""
    return bot.user


async def log_out(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Accepted and ignored."""
    return True


async def close(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Accepted and ignored."""
    return True


async def set_webhook(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Keep the webhook URL and secret token; updates are pushed to it (``emulator/webhook.py``)."""
    secret = p.get_str("secret_token", "") or ""
    if secret and not _SECRET_RE.match(secret):
        raise ApiError(400, "Bad Request: secret token contains unallowed characters")
    bot.settings["webhook"] = {"url": p.get_str("url", "") or "", "secret_token": secret}
    await core.webhook_changed(bot)
    return True


async def delete_webhook(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Forget the webhook; optionally drop pending updates."""
    bot.settings["webhook"] = {"url": ""}
    await core.webhook_changed(bot)
    if p.get_bool("drop_pending_updates"):
        bot.updates.clear()
        bot.redeliver.clear()
    return True


async def get_webhook_info(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """WebhookInfo (with the last delivery error, if any)."""
    hook = bot.settings["webhook"]
    info = {
        "url": hook["url"],
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates) + len(bot.redeliver),
    }
    for key in ("last_error_date", "last_error_message"):
        if key in hook:
            info[key] = hook[key]
    return info


def _scope_key(scope: Any) -> str:
    """A stable key for a BotCommandScope."""
    if not scope:
        return "default"
    if not isinstance(scope, dict) or "type" not in scope:
        raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
    parts = [str(scope["type"])]
    for key in ("chat_id", "user_id"):
        if key in scope:
            parts.append(f"{key}={scope[key]}")
    return ":".join(parts)


async def set_my_commands(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Store commands per scope and language."""
    commands = p.get_json("commands")
    if not isinstance(commands, list):
        raise ApiError(400, "Bad Request: can't parse commands JSON object")
    for cmd in commands:
        if not isinstance(cmd, dict) or not _COMMAND_RE.match(str(cmd.get("command", ""))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(cmd.get("description", ""))) <= 256:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    scope = p.get_json("scope") or {"type": "default"}
    lang = p.get_str("language_code", "") or ""
    bot.commands[(_scope_key(scope), lang)] = {
        "scope": scope,
        "language_code": lang,
        "commands": [{"command": c["command"], "description": c["description"]} for c in commands],
    }
    return True


async def get_my_commands(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Commands of exactly this scope and language."""
    key = (_scope_key(p.get_json("scope")), p.get_str("language_code", "") or "")
    entry = bot.commands.get(key)
    return entry["commands"] if entry else []


async def delete_my_commands(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Forget commands of this scope and language."""
    bot.commands.pop((_scope_key(p.get_json("scope")), p.get_str("language_code", "") or ""), None)
    return True


async def store_setting(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Generic setter: keep the parameters for inspection."""
    bot.settings.setdefault("misc", []).append(dict(p.values))
    return True


async def get_updates(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Long polling with offset confirmation; a newer poller ends an older one with 409."""
    offset = p.get_int("offset")
    limit = min(max(p.get_int("limit", 100) or 100, 1), 100)
    timeout = min(max(p.get_float("timeout", 0.0), 0.0), core.long_poll_max)
    if bot.settings["webhook"]["url"]:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.update_pulse.fire()
    if offset is not None:
        bot.confirm(offset)
    deadline = time.monotonic() + timeout
    while True:
        event = bot.update_pulse.current()
        if generation != bot.poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        batch = bot.take(limit)
        remaining = deadline - time.monotonic()
        if batch or remaining <= 0 or core.closing:
            return batch
        await wait_event(event, remaining)
