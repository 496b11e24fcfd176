# ruff: noqa: ASYNC109  # ``timeout=`` arguments are the documented test-facing API
"""EmulatorClient: the HTTP client of the control API, whole-emulator calls."""

from __future__ import annotations

from typing import Any

import aiohttp

from emulator.client.group import EmulatedGroup
from emulator.client.results import JSON, Document, EmulatorError
from emulator.client.user import EmulatedUser


class EmulatorClient:
    """Control API client; ``user()`` gives scripted users."""

    def __init__(
        self,
        base_url: str,
        *,
        bot: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot = bot
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> EmulatorClient:
        """Open the HTTP session."""
        self._http()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        """Close the HTTP session."""
        await self.close()

    def _http(self) -> aiohttp.ClientSession:
        """The HTTP session, created on first use."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(connector=connector)
            self._own_session = True
        return self._session

    async def close(self) -> None:
        """Close the session if this client made it."""
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    async def request(self, verb: str, path: str, body: JSON | None = None, **query: Any) -> Any:
        """One control API call; raises EmulatorError on an error status."""
        params = {k: str(v) for k, v in query.items() if v is not None}
        if self.bot and "bot" not in params:
            params["bot"] = self.bot
        url = f"{self.base_url}{path}"
        async with self._http().request(verb, url, json=body, params=params) as resp:
            data = await resp.json(content_type=None)
            if resp.status >= 400:
                raise EmulatorError(f"{verb} {path}: {resp.status} {data}")
            return data

    # ---- users ------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "vi",
    ) -> EmulatedUser:
        """A scripted user (created on the emulator with its first action)."""
        return EmulatedUser(
            self, user_id, first_name or f"User{user_id}", last_name, username, language_code
        )

    def group(self, chat_id: int, kind: str = "group", title: str = "") -> EmulatedGroup:
        """A group (negative ``chat_id``) or supergroup with the bot in it, made on first use
        (or with ``await group.create()`` so the bot may write there first)."""
        return EmulatedGroup(self, chat_id, kind, title or f"Group {-chat_id}")

    # ---- whole emulator ---------------------------------------------------------------

    async def settle(self, idle: float = 0.2, timeout: float = 10.0) -> bool:
        """Wait until the bot fetched all updates and stayed quiet ``idle`` seconds."""
        data = await self.request("POST", "/_emu/settle", idle=idle, timeout=timeout)
        return bool(data["settled"])

    async def reset(self) -> None:
        """Forget all users, chats, updates and logs."""
        await self.request("POST", "/_emu/reset")

    async def stats(self) -> JSON:
        """Counters."""
        return dict(await self.request("GET", "/_emu/stats"))

    async def commands(self, language_code: str | None = None, scope: str | None = None) -> Any:
        """Stored setMyCommands entries: [{scope, language_code, commands}]."""
        return await self.request("GET", "/_emu/commands", language_code=language_code, scope=scope)

    async def calls(
        self,
        method: str | None = None,
        chat_id: int | None = None,
        errors: bool = False,
        after: int = 0,
    ) -> list[JSON]:
        """The Bot API call log (method, chat_id, ok, error_code, description, retry_after)."""
        return list(
            await self.request(
                "GET",
                "/_emu/calls",
                method=method,
                chat_id=chat_id,
                errors="1" if errors else None,
                after=after,
            )
        )

    async def redeliver(self, update_id: int) -> None:
        """Send an update to the bot again (even if already confirmed)."""
        await self.request("POST", "/_emu/redeliver", {"update_id": update_id})

    async def chat(self, chat_id: int) -> JSON:
        """Raw view of a chat."""
        return dict(await self.request("GET", f"/_emu/chats/{chat_id}"))

    async def download(self, doc: Document | str) -> bytes:
        """Bytes of a document the bot sent."""
        url = doc.url if isinstance(doc, Document) else doc
        if url.startswith("/"):
            url = self.base_url + url
        async with self._http().get(url) as resp:
            resp.raise_for_status()
            return await resp.read()
