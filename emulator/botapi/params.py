"""Bot API call parameters: query string, JSON, urlencoded or multipart body."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from emulator.state import ApiError
from emulator.wire import json_object, parse_number


class Params:
    """Request parameters from the query string, JSON, urlencoded or multipart body."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.log_chat: Any = _as_chat(values.get("chat_id"))

    @classmethod
    async def read(cls, request: web.Request) -> Params:
        """Collect parameters of any Telegram-accepted encoding."""
        values: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                error = ApiError(400, "Bad Request: can't parse JSON body")
                values.update(await json_object(request, error))
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    values[key] = value
        return cls(values)

    def has(self, key: str) -> bool:
        """True when the parameter is present and not empty."""
        return self.values.get(key) not in (None, "")

    def get_str(self, key: str, default: str | None = None) -> str | None:
        """A string parameter."""
        value = self.values.get(key)
        if value is None:
            return default
        return value if isinstance(value, str) else str(value)

    def get_int(self, key: str, default: int | None = None) -> int | None:
        """An integer parameter (400 when not a number)."""
        return parse_number(self.values.get(key), default, int, _invalid(key))

    def get_float(self, key: str, default: float) -> float:
        """A float parameter."""
        return parse_number(self.values.get(key), default, float, _invalid(key))

    def get_bool(self, key: str) -> bool:
        """A boolean parameter ("true", "1", true)."""
        value = self.values.get(key)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def get_json(self, key: str) -> Any:
        """A JSON-serialized parameter (object in JSON bodies, string in forms)."""
        value = self.values.get(key)
        if isinstance(value, str):
            if not value:
                return None
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from exc
        return value

    def chat_id(self) -> int:
        """The ``chat_id`` parameter; usernames are never found."""
        raw = self.values.get("chat_id")
        if raw in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            return int(raw)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request: chat not found") from exc


def _invalid(key: str) -> ApiError:
    """Telegram's error for a parameter that is not a number."""
    return ApiError(400, f"Bad Request: invalid {key} specified")


def _as_chat(raw: Any) -> Any:
    """chat_id for the call log: an int when numeric."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return raw
