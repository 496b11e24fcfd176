"""Webhook delivery: while a URL is set, each update is POSTed to it as Telegram does.

One pusher task per bot. It takes the pending updates, groups them by chat and delivers the
groups side by side, each chat's updates one after the other in order. A POST is retried with
back-off (``RETRY_FIRST`` doubling up to ``RETRY_MAX`` seconds) on a non-2xx answer or a
connection error until it is answered 2xx or the webhook is changed or deleted; the error is
shown by ``getWebhookInfo`` (``last_error_date``, ``last_error_message``). Updates are
confirmed (forgotten) once the whole batch was delivered.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import aiohttp

from emulator.state import JSON, BotState, wait_event

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RETRY_FIRST = 0.1
RETRY_MAX = 5.0
POST_TIMEOUT = 10.0


def chat_of(update: JSON) -> int | None:
    """The chat (or user) an update belongs to, for ordering; None when it names none."""
    for key, value in update.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        holder = value.get("message", value)
        if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
            return int(holder["chat"]["id"])
        if isinstance(value.get("from"), dict):
            return int(value["from"]["id"])
    return None


class WebhookPusher:
    """Delivers one bot's updates to the webhook it was started for."""

    def __init__(self, bot: BotState, hook: JSON) -> None:
        self.bot = bot
        self.hook = hook  # the settings entry; replaced (not edited) by set/deleteWebhook
        self.task: asyncio.Task[None] | None = None
        self.stopped = False

    def active(self) -> bool:
        """Whether this pusher's webhook is still the bot's webhook."""
        return not self.stopped and self.bot.settings["webhook"] is self.hook

    def start(self) -> None:
        """Start pushing in the running loop."""
        self.task = asyncio.create_task(self.run(), name=f"webhook {self.bot.bot_id}")

    def cancel(self) -> None:
        """Stop pushing (an update being POSTed is delivered again by the next pusher)."""
        self.stopped = True  # wait_for may swallow the cancellation (Python 3.11)
        if self.task is not None:
            self.task.cancel()

    async def stop(self) -> None:
        """Cancel and wait until the task is gone."""
        self.cancel()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)

    async def run(self) -> None:
        """Deliver batches until the webhook changes."""
        timeout = aiohttp.ClientTimeout(total=POST_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while self.active():
                event = self.bot.update_pulse.current()
                batch = self.bot.take(100)
                if not batch:
                    await wait_event(event, 1.0)
                    continue
                chats: dict[int | None, list[JSON]] = defaultdict(list)
                for update in batch:
                    chats[chat_of(update)].append(update)
                await asyncio.gather(*(self._deliver(http, ups) for ups in chats.values()))
                if self.active():
                    self.bot.confirm(max(u["update_id"] for u in batch) + 1)

    async def _deliver(self, http: aiohttp.ClientSession, updates: list[JSON]) -> None:
        """POST one chat's updates in order, each retried until answered 2xx."""
        headers = {SECRET_HEADER: self.hook["secret_token"]} if self.hook["secret_token"] else {}
        for update in updates:
            delay = RETRY_FIRST
            while self.active():
                try:
                    async with http.post(self.hook["url"], json=update, headers=headers) as resp:
                        if 200 <= resp.status < 300:
                            self.bot.counts["webhook_posts"] += 1
                            self.bot.touch()
                            break
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Connection failed: {exc.__class__.__name__}"
                self.bot.counts["webhook_errors"] += 1
                self.hook["last_error_date"] = int(time.time())
                self.hook["last_error_message"] = error
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
