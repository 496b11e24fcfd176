"""aiohttp application of the Telegram Bot API emulator, and its in-process runner."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.botapi import handle_bot_call, handle_file_download
from emulator.control import ControlApi, control_errors
from emulator.core import EmulatorCore
from emulator.limits import RateLimits

STATIC_DIR = Path(__file__).resolve().parent / "static"
WEBCHAT = STATIC_DIR / "webchat.html"
log = logging.getLogger(__name__)


def build_app(core: EmulatorCore) -> web.Application:
    """The aiohttp application serving the Bot API, the control API and the web chat."""
    app = web.Application(middlewares=[control_errors], client_max_size=60 * 1024 * 1024)

    async def bot_call(request: web.Request) -> web.Response:
        return await handle_bot_call(core, request)

    async def file_download(request: web.Request) -> web.Response:
        return await handle_file_download(core, request)

    async def webchat(request: web.Request) -> web.FileResponse:
        return web.FileResponse(WEBCHAT, headers={"Cache-Control": "no-store"})

    app.router.add_route("*", "/bot{token}/{method}", bot_call)
    app.router.add_get("/file/bot{token}/{path}", file_download)
    app.add_routes(ControlApi(core).routes())
    app.router.add_get("/", webchat)
    app.router.add_get("/chat", webchat)
    return app


class Emulator:
    """The emulator server, started inside the running event loop."""

    def __init__(
        self,
        rate_limits: RateLimits | None = None,
        *,
        default_token: str | None = None,
        long_poll_max: float = 50.0,
        log_limit: int = 100_000,
    ) -> None:
        self.core = EmulatorCore(
            limits=rate_limits,
            default_token=default_token,
            long_poll_max=long_poll_max,
            log_limit=log_limit,
        )
        self.app = build_app(self.core)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = any free port); return the base URL."""
        runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        real_port = runner.addresses[0][1] if runner.addresses else port
        self.base_url = f"http://{host}:{real_port}"
        return self.base_url

    async def stop(self) -> None:
        """Wake every long poll and shut the server down."""
        self.core.closing = True
        self.core.wake_all()
        await self.core.stop_pushers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        """Start on a free port."""
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        """Stop."""
        await self.stop()


async def serve_forever(
    host: str = "127.0.0.1", port: int = 8081, rate_limits: RateLimits | None = None
) -> None:
    """Run an emulator until cancelled."""
    emulator = Emulator(rate_limits)
    base = await emulator.start(host, port)
    log.info("Telegram emulator on %s (web chat at %s/)", base, base)
    print(f"Telegram emulator: {base}  (web chat: {base}/)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def run_emulator(
    host: str = "127.0.0.1", port: int = 8081, rate_limits: RateLimits | None = None
) -> None:
    """Blocking helper: serve until Ctrl+C."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(host, port, rate_limits))
