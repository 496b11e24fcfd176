"""Webhook mode: Telegram POSTs each update to ``WEBHOOK_URL``; the same crash guarantees as
polling (``handlers/polling.py``).

A request must carry the secret token (``X-Telegram-Bot-Api-Secret-Token``, compared in
constant time); without it, or with a wrong one, it gets 401, one log line, and nothing is
stored. A good one is committed to the update inbox *before* Telegram gets its 200, then handled
by the same :class:`HandlingPool` as polling. A redelivered update is already in the inbox and is
not stored or handled again; one stored but not handled before a crash is handled at start
(:meth:`UpdateInbox.recover`), or by another bot process (``handlers/polling.py``). The 200
never waits for the update's handling, only for a free handling slot when
``UPDATE_CONCURRENCY`` updates are being handled (back-pressure).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from urllib.parse import urlsplit

from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot import metrics
from bot.config import Settings
from handlers.polling import HandlingPool, UpdateInbox

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(
    inbox: UpdateInbox, pool: HandlingPool, *, path: str, secret: str
) -> web.Application:
    """The aiohttp application answering Telegram's POSTs on ``path``."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning(
                "webhook: refused a request from %s: wrong or no secret token", request.remote
            )
            metrics.webhook_error("secret")
            return web.Response(status=401)
        try:
            update = Update.model_validate(await request.json(), context={"bot": inbox.bot})
        except (ValueError, ValidationError) as exc:  # not JSON, or not an Update
            log.warning("webhook: refused a request that is not an update: %s", exc)
            metrics.webhook_error("not_an_update")
            return web.Response(status=400)
        for fresh in await inbox.store([update]):  # committed before the 200
            await pool.submit(fresh)
        return web.Response()

    app = web.Application()
    app.router.add_post(path, receive)
    return app


async def serve_webhook(inbox: UpdateInbox, *, stop: asyncio.Event, settings: Settings) -> None:
    """Handle what a crash left, then serve the webhook until ``stop`` is set (and, on
    PostgreSQL, finish what other bot processes that are gone left)."""
    assert settings.webhook_url and settings.webhook_secret, "Settings.webhook_refusal checks"
    async with inbox.serving(stop):
        pool = HandlingPool(inbox, settings.update_concurrency)
        path = urlsplit(settings.webhook_url).path or "/"
        secret = settings.webhook_secret.get_secret_value()
        runner = web.AppRunner(webhook_app(inbox, pool, path=path, secret=secret), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
            log.info(
                "webhook: Telegram's updates for %s on %s:%s%s",
                settings.webhook_url,
                settings.webhook_host,
                settings.webhook_port,
                path,
            )
            await stop.wait()
        finally:
            await runner.cleanup()
            await pool.finish()
