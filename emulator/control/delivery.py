"""Control endpoints about update delivery: redeliver, settle, reset."""

from __future__ import annotations

import time

from aiohttp import web

from emulator.control.common import MAX_WAIT, ControlGroup, as_float, as_int, read_args
from emulator.core import ControlError
from emulator.faults import KINDS, Faults
from emulator.state import BotState, wait_event
from emulator.wire import json_response


class Delivery(ControlGroup):
    """Steer what the bot gets and wait until it is done."""

    async def redeliver(self, request: web.Request) -> web.Response:
        """Queue an old update again, even if it was confirmed."""
        args = await read_args(request)
        update_id = as_int(args, "update_id")
        if update_id is None:
            raise ControlError(400, "update_id is required")
        selected = self._bot(args)
        for bot in [selected, *self.core.bots.values()]:
            if bot.requeue(update_id):
                return json_response({"update_id": update_id, "queued": True})
        raise ControlError(404, f"no update {update_id}")

    async def settle(self, request: web.Request) -> web.Response:
        """Wait until the bot fetched every update and made no call for ``idle`` seconds."""
        args = await read_args(request)
        idle = as_float(args, "idle", 0.2)
        timeout = min(as_float(args, "timeout", 10.0), MAX_WAIT)
        bot = self._bot(args)
        started = time.monotonic()
        settled = await settle_bot(bot, idle, timeout)
        return json_response(
            {
                "settled": settled,
                "waited": time.monotonic() - started,
                "pending_updates": len(bot.updates) + len(bot.redeliver),
                "undelivered": bot.has_undelivered(),
                "in_flight": bot.in_flight,
            }
        )

    async def faults(self, request: web.Request) -> web.Response:
        """Set the faults (``rate``, ``kinds``, ``seed``) and start a 429 storm
        (``storm_seconds``, ``storm_retry_after``); see ``emulator/faults.py``."""
        args = await read_args(request)
        kinds = args.get("kinds") or list(KINDS)
        try:
            faults = Faults(
                rate=as_float(args, "rate", 0.0),
                kinds=tuple(kinds if isinstance(kinds, list) else str(kinds).split(",")),
                seed=as_int(args, "seed"),
            )
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        storm = as_float(args, "storm_seconds", 0.0)
        if storm > 0:
            faults.storm(storm, as_int(args, "storm_retry_after", 1) or 1)
        self.core.faults = faults
        return json_response({"rate": faults.rate, "kinds": list(faults.kinds), "storm": storm})

    async def reset(self, request: web.Request) -> web.Response:
        """Forget everything."""
        self.core.reset()
        return json_response({"reset": True})


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
