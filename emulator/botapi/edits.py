"""editMessageText, editMessageCaption and editMessageReplyMarkup."""

from __future__ import annotations

import time
from typing import Any

from emulator.botapi.messages import open_chat, rate_check
from emulator.botapi.params import Params
from emulator.botapi.validate import MAX_CAPTION, MAX_TEXT, check_markup, inline_only, parse_text
from emulator.core import EmulatorCore, find_message
from emulator.state import JSON, ApiError, BotState, ChatState, MsgRecord

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def _editable(bot: BotState, p: Params) -> tuple[ChatState, MsgRecord]:
    """The chat and bot message an edit call points at."""
    if p.has("inline_message_id"):
        raise ApiError(400, "Bad Request: message to edit not found")
    chat = open_chat(bot, p.chat_id())
    mid = p.get_int("message_id")
    rec = find_message(chat, mid) if mid is not None else None
    if rec is None or not rec.from_bot:
        raise ApiError(400, "Bad Request: message to edit not found")
    return chat, rec


def _apply_edit(chat: ChatState, rec: MsgRecord, changes: JSON, raw: str | None, pm: Any) -> JSON:
    """Update a message in place, keep the previous version, emit an edit event."""
    rec.history.append(
        {
            "text": rec.message.get("text", rec.message.get("caption")),
            "html": rec.html(),
            "reply_markup": rec.markup,
            "date": rec.message.get("edit_date", rec.message["date"]),
        }
    )
    msg = dict(rec.message)
    for key, value in changes.items():
        if value in (None, []):
            msg.pop(key, None)
        else:
            msg[key] = value
    msg["edit_date"] = int(time.time())
    rec.message = msg
    if "reply_markup" in changes:
        rec.markup = changes["reply_markup"]
    if raw is not None:
        rec.raw, rec.parse_mode = raw, pm
    if rec.document is not None and "caption" in changes:
        rec.document = {**rec.document, "caption": changes["caption"]}
    chat.add_event("edit", message_id=rec.message_id)
    return msg


async def edit_message_text(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Replace the text (and inline keyboard) of a bot message."""
    chat, rec = _editable(bot, p)
    if "text" not in rec.message:
        raise ApiError(400, "Bad Request: there is no text in the message to edit")
    raw = p.get_str("text")
    parse_mode = p.get_str("parse_mode")
    text, entities = parse_text(raw, parse_mode, MAX_TEXT, "text")
    markup = check_markup(p.get_json("reply_markup"))
    inline = inline_only(markup)
    old = rec.message
    before = (old["text"], old.get("entities"), old.get("reply_markup"))
    if (text, entities or None, inline) == before:
        raise ApiError(400, NOT_MODIFIED)
    rate_check(bot, chat.chat_id)
    bot.counts["edits"] += 1
    changes = {"text": text, "entities": entities, "reply_markup": inline}
    return _apply_edit(chat, rec, changes, raw, parse_mode)


async def edit_message_caption(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Replace the caption (and inline keyboard) of a bot document."""
    chat, rec = _editable(bot, p)
    raw = p.get_str("caption")
    parse_mode = p.get_str("parse_mode")
    caption, entities = parse_text(raw, parse_mode, MAX_CAPTION, "caption")
    inline = inline_only(check_markup(p.get_json("reply_markup")))
    old = rec.message
    now = (caption or None, entities or None, inline)
    if now == (old.get("caption"), old.get("caption_entities"), old.get("reply_markup")):
        raise ApiError(400, NOT_MODIFIED)
    rate_check(bot, chat.chat_id)
    bot.counts["edits"] += 1
    changes = {"caption": caption or None, "caption_entities": entities, "reply_markup": inline}
    return _apply_edit(chat, rec, changes, raw, parse_mode)


async def edit_message_reply_markup(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Replace (or remove) the inline keyboard of a bot message."""
    chat, rec = _editable(bot, p)
    markup = check_markup(p.get_json("reply_markup"))
    if markup is not None and "inline_keyboard" not in markup:
        raise ApiError(400, "Bad Request: inline keyboard expected")
    if markup == rec.message.get("reply_markup"):
        raise ApiError(400, NOT_MODIFIED)
    bot.counts["edits"] += 1
    return _apply_edit(chat, rec, {"reply_markup": markup}, None, None)
