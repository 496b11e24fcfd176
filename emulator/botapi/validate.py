"""Texts, captions and keyboards checked like Telegram does, with Telegram's errors."""

from __future__ import annotations

import re
from typing import Any

from emulator.state import JSON, ApiError
from emulator.tg_html import HtmlParseError, parse_html

MAX_TEXT = 4096
MAX_CAPTION = 1024


def parse_text(raw: str | None, parse_mode: str | None, limit: int, what: str) -> tuple[str, Any]:
    """Visible text and entities of a text or caption; Telegram's errors when invalid."""
    raw = raw or ""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            text, entities = parse_html(raw)
        except HtmlParseError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
    elif mode in ("", "markdown", "markdownv2"):
        text, entities = raw, []
    else:
        raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")
    if what == "text" and not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text.strip()) > limit:
        kind = "message" if what == "text" else "message caption"
        raise ApiError(400, f"Bad Request: {kind} is too long")
    return text, entities


def check_markup(markup: Any) -> JSON | None:
    """Validate reply_markup like Telegram does."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline(markup["inline_keyboard"])
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in rows:
            for btn in row:
                text = btn if isinstance(btn, str) else (btn or {}).get("text")
                if not text:
                    raise ApiError(400, "Bad Request: keyboard button text is empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    return markup


def _check_inline(rows: Any) -> None:
    """Validate an inline keyboard: text, one action, callback_data of 1-64 bytes."""
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard button: field is not array")
    actions = ("callback_data", "url", "switch_inline_query", "web_app", "login_url", "pay")
    for row in rows:
        for btn in row:
            if not isinstance(btn, dict) or not btn.get("text"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: text empty")
            if "callback_data" in btn:
                size = len(str(btn["callback_data"]).encode("utf-8"))
                if not 1 <= size <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            elif "url" in btn:
                if not re.match(r"^(https?|tg)://", str(btn["url"])):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
            elif not any(key in btn for key in actions):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )


def inline_only(markup: JSON | None) -> JSON | None:
    """The part of reply_markup that Telegram echoes back in a Message."""
    if markup and "inline_keyboard" in markup:
        return markup
    return None
