"""A round-robin reverse proxy in front of several bot processes' webhook servers, as the TLS
proxy of ``deploy/`` does it (Caddy's ``reverse_proxy`` with ``lb_policy round_robin``): each
request goes to the next server; one that refuses the connection is skipped and the next one
tried; one that drops the request after taking it gets Telegram a 502 (and Telegram sends the
update again)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import aiohttp
from aiohttp import web

PASSED = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


class RoundRobinProxy:
    """Listens on ``127.0.0.1:port`` and passes each request to one of ``backends`` (ports)."""

    def __init__(self, port: int, backends: Sequence[int]) -> None:
        self.port = port
        self.backends = list(backends)
        self._next = itertools.cycle(range(len(self.backends)))
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.refused = 0  # connections a backend refused (a dead process)
        self.dropped = 0  # requests a backend took and never answered (answered 502)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._pass)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _pass(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: request.headers[k] for k in PASSED if k in request.headers}
        for _ in self.backends:
            port = self.backends[next(self._next)]
            url = f"http://127.0.0.1:{port}{request.path_qs}"
            try:
                async with self._session.request(
                    request.method, url, data=body, headers=headers
                ) as answer:
                    return web.Response(status=answer.status, body=await answer.read())
            except aiohttp.ClientConnectorError:
                self.refused += 1
                continue
            except (aiohttp.ClientError, TimeoutError):
                self.dropped += 1
                return web.Response(status=502)
        return web.Response(status=502)
