"""HTTP details shared by the Bot API side and the control API side."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")
D = TypeVar("D")


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response without ASCII escaping."""
    return web.Response(
        text=json.dumps(data, ensure_ascii=False), status=status, content_type="application/json"
    )


def parse_number(value: Any, default: D, convert: Callable[[Any], T], error: Exception) -> T | D:
    """``convert(value)``; ``default`` when absent or empty; ``error`` raised when not a number."""
    if value in (None, ""):
        return default
    try:
        return convert(value)
    except (TypeError, ValueError) as exc:
        raise error from exc


async def json_object(request: web.Request, error: Exception) -> dict[str, Any]:
    """The request's JSON body when it is an object, else {}; ``error`` when it is not JSON."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise error from exc
    return body if isinstance(body, dict) else {}
