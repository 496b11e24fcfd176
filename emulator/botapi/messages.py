"""Methods that write to a chat: send, delete, answer callbacks, chat and file info."""

from __future__ import annotations

import time
from typing import Any

from emulator.botapi.params import Params
from emulator.botapi.validate import MAX_CAPTION, MAX_TEXT, check_markup, inline_only, parse_text
from emulator.core import EmulatorCore, find_message
from emulator.state import JSON, ApiError, BotState, ChatState, MsgRecord


def open_chat(bot: BotState, chat_id: int) -> ChatState:
    """A chat the bot may write to: started and not blocked."""
    chat = bot.chats.get(chat_id)
    if chat is None or not chat.started:
        raise ApiError(400, "Bad Request: chat not found")
    if chat.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    return chat


def _apply_keyboard(chat: ChatState, markup: JSON | None) -> None:
    """Remember the reply keyboard shown to the user."""
    if not markup:
        return
    if "keyboard" in markup:
        chat.reply_keyboard = markup
    elif markup.get("remove_keyboard"):
        chat.reply_keyboard = None


def rate_check(bot: BotState, chat_id: int) -> None:
    """429 when the bot floods the chat or Telegram overall."""
    retry = bot.limiter.acquire(chat_id)
    if retry is not None:
        bot.counts["rate_limited"] += 1
        raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)


def new_bot_message(bot: BotState, chat: ChatState, **fields: Any) -> JSON:
    """A Message dict sent by the bot."""
    msg: JSON = {
        "message_id": chat.new_message_id(),
        "from": bot.user,
        "chat": chat.tg_chat(),
        "date": int(time.time()),
    }
    msg.update({k: v for k, v in fields.items() if v not in (None, [])})
    return msg


def _deliver(bot: BotState, chat: ChatState, rec: MsgRecord, counter: str) -> JSON:
    """Put a new bot message in the chat, show its reply keyboard, count it, wake waiters."""
    chat.add(rec)
    _apply_keyboard(chat, rec.markup)
    bot.counts[counter] += 1
    chat.add_event("message", message_id=rec.message_id)
    return rec.message


async def send_message(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Send a text message."""
    chat = open_chat(bot, p.chat_id())
    raw = p.get_str("text")
    parse_mode = p.get_str("parse_mode")
    text, entities = parse_text(raw, parse_mode, MAX_TEXT, "text")
    markup = check_markup(p.get_json("reply_markup"))
    rate_check(bot, chat.chat_id)
    msg = new_bot_message(bot, chat, text=text, entities=entities, reply_markup=inline_only(markup))
    rec = MsgRecord(msg, True, "text", raw=raw, parse_mode=parse_mode, markup=markup)
    return _deliver(bot, chat, rec, "messages")


async def send_photo(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Send a photo uploaded as multipart (or an earlier file_id), optionally with a caption."""
    return _send_file(core, bot, p, "photo")


async def send_document(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Send a file uploaded as multipart (or an earlier file_id)."""
    return _send_file(core, bot, p, "document")


def _send_file(core: EmulatorCore, bot: BotState, p: Params, kind: str) -> Any:
    """sendPhoto (``kind`` "photo") or sendDocument ("document"), with an optional caption."""
    chat = open_chat(bot, p.chat_id())
    raw = p.get_str("caption")
    parse_mode = p.get_str("parse_mode")
    caption, entities = parse_text(raw, parse_mode, MAX_CAPTION, "caption")
    markup = check_markup(p.get_json("reply_markup"))
    rate_check(bot, chat.chat_id)
    # after every check: a refused call (429, a bad caption) keeps no file, as on Telegram
    stored = _uploaded_file(core, p, kind)
    if kind == "photo":
        media: JSON = {"photo": [{**stored.tg_file(), "width": 1280, "height": 960}]}
    else:
        file_info = {"file_name": stored.filename, "mime_type": stored.mime_type}
        media = {"document": {**stored.tg_file(), **file_info}}
    msg = new_bot_message(
        bot,
        chat,
        **media,
        caption=caption or None,
        caption_entities=entities,
        reply_markup=inline_only(markup),
    )
    rec = MsgRecord(msg, True, kind, raw=raw, parse_mode=parse_mode, markup=markup)
    if kind == "photo":
        return _deliver(bot, chat, rec, "photos")
    rec.document = {
        "file_id": stored.file_id,
        "filename": stored.filename,
        "size": len(stored.data),
        "mime_type": stored.mime_type,
        "caption": caption or None,
        "url": f"/_emu/files/{stored.file_id}",
    }
    return _deliver(bot, chat, rec, "documents")


def _uploaded_file(core: EmulatorCore, p: Params, field: str) -> Any:
    """The uploaded (or earlier) file of a sendDocument or sendPhoto call."""
    value = p.values.get(field)
    if value is None or value == "":
        raise ApiError(400, f"Bad Request: there is no {field} in the request")
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.values.get(value[len("attach://") :])
        if value is None or isinstance(value, str):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
    if isinstance(value, str):
        stored = core.files.get(value)
        if stored is None:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return stored
    data = value.file.read()
    mime = value.content_type or "application/octet-stream"
    return core.store_file(data, value.filename or "document", mime)


async def delete_message(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Mark a message deleted."""
    chat = bot.chats.get(p.chat_id())
    if chat is None or not chat.started:
        raise ApiError(400, "Bad Request: chat not found")
    mid = p.get_int("message_id")
    rec = find_message(chat, mid) if mid is not None else None
    if rec is None:
        raise ApiError(400, "Bad Request: message to delete not found")
    rec.deleted = True
    chat.add_event("delete", message_id=rec.message_id)
    return True


async def answer_callback_query(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Record the answer (toast or alert) to a button press."""
    query_id = p.get_str("callback_query_id") or ""
    query = bot.callback_queries.get(query_id)
    if query is None or query["answered"]:
        raise ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        )
    p.log_chat = query["chat_id"]
    query["answered"] = True
    chat = bot.chats[query["chat_id"]]
    answer = {
        "callback_query_id": query_id,
        "message_id": query["message_id"],
        "data": query["data"],
        "text": p.get_str("text"),
        "show_alert": p.get_bool("show_alert"),
        "url": p.get_str("url"),
    }
    chat.callback_answers.append(answer)
    chat.add_event("callback_answer", callback_query_id=query_id, answer=answer)
    return True


async def send_chat_action(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Typing indicators: accepted when the chat is reachable."""
    open_chat(bot, p.chat_id())
    return True


async def get_chat(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """ChatFullInfo of a private chat."""
    chat = bot.chats.get(p.chat_id())
    if chat is None:
        raise ApiError(400, "Bad Request: chat not found")
    return {**chat.tg_chat(), "accent_color_id": 0, "max_reaction_count": 11}


async def get_file(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """File info; download from ``/file/bot{token}/{file_path}``."""
    stored = core.files.get(p.get_str("file_id") or "")
    if stored is None:
        raise ApiError(400, "Bad Request: invalid file_id")
    return {**stored.tg_file(), "file_path": stored.file_id}
