"""The Telegram Bot API side: ``/bot{token}/{method}`` handlers speaking Telegram's wire format."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulator.core import EmulatorCore, find_message
from emulator.state import JSON, ApiError, BotState, ChatState, MsgRecord, wait_event
from emulator.tg_html import HtmlParseError, parse_html

MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


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
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise ApiError(400, "Bad Request: can't parse JSON body") from exc
                if isinstance(body, dict):
                    values.update(body)
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
        value = self.values.get(key)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f"Bad Request: invalid {key} specified") from exc

    def get_float(self, key: str, default: float) -> float:
        """A float parameter."""
        value = self.values.get(key)
        if value in (None, ""):
            return default
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f"Bad Request: invalid {key} specified") from exc

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


def _as_chat(raw: Any) -> Any:
    """chat_id for the call log: an int when numeric."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return raw


Handler = Callable[[EmulatorCore, BotState, Params], Awaitable[Any]]
METHODS: dict[str, tuple[str, Handler]] = {}
RATE_LIMITED = {"sendmessage", "senddocument", "editmessagetext", "editmessagecaption"}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a Bot API method handler (names are case-insensitive)."""

    def register(fn: Handler) -> Handler:
        METHODS[name.lower()] = (name, fn)
        return fn

    return register


# ---- helpers -------------------------------------------------------------------------------


def open_chat(bot: BotState, chat_id: int) -> ChatState:
    """A chat the bot may write to: started and not blocked."""
    chat = bot.chats.get(chat_id)
    if chat is None or not chat.started:
        raise ApiError(400, "Bad Request: chat not found")
    if chat.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    return chat


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


def _inline_only(markup: JSON | None) -> JSON | None:
    """The part of reply_markup that Telegram echoes back in a Message."""
    if markup and "inline_keyboard" in markup:
        return markup
    return None


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


# ---- meta methods --------------------------------------------------------------------------


@method("getMe")
async def get_me(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """The bot user."""
    return bot.user


@method("logOut")
async def log_out(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Accepted and ignored."""
    return True


@method("close")
async def close(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Accepted and ignored."""
    return True


@method("setWebhook")
async def set_webhook(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Store the webhook URL (never called)."""
    bot.settings["webhook"] = {"url": p.get_str("url", "")}
    return True


@method("deleteWebhook")
async def delete_webhook(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Forget the webhook; optionally drop pending updates."""
    bot.settings["webhook"] = {"url": ""}
    if p.get_bool("drop_pending_updates"):
        bot.updates.clear()
        bot.redeliver.clear()
    return True


@method("getWebhookInfo")
async def get_webhook_info(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """WebhookInfo."""
    return {
        "url": bot.settings["webhook"]["url"],
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }


def _scope_key(scope: Any) -> str:
    """A stable key for a BotCommandScope."""
    if not scope:
        return "default"
    if not isinstance(scope, dict) or "type" not in scope:
        raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
    parts = [str(scope["type"])]
    for key in ("chat_id", "user_id"):
        if key in scope:
            parts.append(f"{key}={scope[key]}")
    return ":".join(parts)


@method("setMyCommands")
async def set_my_commands(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Store commands per scope and language."""
    commands = p.get_json("commands")
    if not isinstance(commands, list):
        raise ApiError(400, "Bad Request: can't parse commands JSON object")
    for cmd in commands:
        if not isinstance(cmd, dict) or not _COMMAND_RE.match(str(cmd.get("command", ""))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(cmd.get("description", ""))) <= 256:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    scope = p.get_json("scope") or {"type": "default"}
    lang = p.get_str("language_code", "") or ""
    bot.commands[(_scope_key(scope), lang)] = {
        "scope": scope,
        "language_code": lang,
        "commands": [{"command": c["command"], "description": c["description"]} for c in commands],
    }
    return True


@method("getMyCommands")
async def get_my_commands(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Commands of exactly this scope and language."""
    key = (_scope_key(p.get_json("scope")), p.get_str("language_code", "") or "")
    entry = bot.commands.get(key)
    return entry["commands"] if entry else []


@method("deleteMyCommands")
async def delete_my_commands(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Forget commands of this scope and language."""
    bot.commands.pop((_scope_key(p.get_json("scope")), p.get_str("language_code", "") or ""), None)
    return True


async def _store_setting(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Generic setter: keep the parameters for inspection."""
    bot.settings.setdefault("misc", []).append(dict(p.values))
    return True


for _name in ("setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton"):
    method(_name)(_store_setting)


# ---- updates -------------------------------------------------------------------------------


@method("getUpdates")
async def get_updates(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Long polling with offset confirmation; a newer poller ends an older one with 409."""
    offset = p.get_int("offset")
    limit = min(max(p.get_int("limit", 100) or 100, 1), 100)
    timeout = min(max(p.get_float("timeout", 0.0), 0.0), core.long_poll_max)
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.update_pulse.fire()
    if offset is not None:
        bot.confirm(offset)
    deadline = time.monotonic() + timeout
    while True:
        event = bot.update_pulse.current()
        if generation != bot.poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        batch = bot.take(limit)
        remaining = deadline - time.monotonic()
        if batch or remaining <= 0 or core.closing:
            return batch
        await wait_event(event, remaining)


# ---- messages ------------------------------------------------------------------------------


@method("sendMessage")
async def send_message(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Send a text message."""
    chat = open_chat(bot, p.chat_id())
    raw = p.get_str("text")
    parse_mode = p.get_str("parse_mode")
    text, entities = parse_text(raw, parse_mode, MAX_TEXT, "text")
    markup = check_markup(p.get_json("reply_markup"))
    rate_check(bot, chat.chat_id)
    msg = new_bot_message(
        bot, chat, text=text, entities=entities, reply_markup=_inline_only(markup)
    )
    chat.add(MsgRecord(msg, True, "text", raw=raw, parse_mode=parse_mode, markup=markup))
    _apply_keyboard(chat, markup)
    bot.counts["messages"] += 1
    chat.add_event("message", message_id=msg["message_id"])
    return msg


@method("sendDocument")
async def send_document(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Send a file uploaded as multipart (or an earlier file_id)."""
    chat = open_chat(bot, p.chat_id())
    stored = _document_file(core, p)
    raw = p.get_str("caption")
    parse_mode = p.get_str("parse_mode")
    caption, entities = parse_text(raw, parse_mode, MAX_CAPTION, "caption")
    markup = check_markup(p.get_json("reply_markup"))
    rate_check(bot, chat.chat_id)
    document = {
        "file_id": stored.file_id,
        "file_unique_id": f"u{stored.file_id}",
        "file_name": stored.filename,
        "mime_type": stored.mime_type,
        "file_size": len(stored.data),
    }
    msg = new_bot_message(
        bot,
        chat,
        document=document,
        caption=caption or None,
        caption_entities=entities,
        reply_markup=_inline_only(markup),
    )
    info = {
        "file_id": stored.file_id,
        "filename": stored.filename,
        "size": len(stored.data),
        "mime_type": stored.mime_type,
        "caption": caption or None,
        "url": f"/_emu/files/{stored.file_id}",
    }
    rec = MsgRecord(msg, True, "document", raw=raw, parse_mode=parse_mode, markup=markup)
    rec.document = info
    chat.add(rec)
    _apply_keyboard(chat, markup)
    bot.counts["documents"] += 1
    chat.add_event("message", message_id=msg["message_id"])
    return msg


def _document_file(core: EmulatorCore, p: Params) -> Any:
    """The uploaded file of a sendDocument call."""
    value = p.values.get("document")
    if value is None or value == "":
        raise ApiError(400, "Bad Request: there is no document in the request")
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


@method("editMessageText")
async def edit_message_text(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Replace the text (and inline keyboard) of a bot message."""
    chat, rec = _editable(bot, p)
    if "text" not in rec.message:
        raise ApiError(400, "Bad Request: there is no text in the message to edit")
    raw = p.get_str("text")
    parse_mode = p.get_str("parse_mode")
    text, entities = parse_text(raw, parse_mode, MAX_TEXT, "text")
    markup = check_markup(p.get_json("reply_markup"))
    inline = _inline_only(markup)
    old = rec.message
    before = (old["text"], old.get("entities"), old.get("reply_markup"))
    if (text, entities or None, inline) == before:
        raise ApiError(400, NOT_MODIFIED)
    rate_check(bot, chat.chat_id)
    bot.counts["edits"] += 1
    changes = {"text": text, "entities": entities, "reply_markup": inline}
    return _apply_edit(chat, rec, changes, raw, parse_mode)


@method("editMessageCaption")
async def edit_message_caption(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Replace the caption (and inline keyboard) of a bot document."""
    chat, rec = _editable(bot, p)
    raw = p.get_str("caption")
    parse_mode = p.get_str("parse_mode")
    caption, entities = parse_text(raw, parse_mode, MAX_CAPTION, "caption")
    inline = _inline_only(check_markup(p.get_json("reply_markup")))
    old = rec.message
    now = (caption or None, entities or None, inline)
    if now == (old.get("caption"), old.get("caption_entities"), old.get("reply_markup")):
        raise ApiError(400, NOT_MODIFIED)
    rate_check(bot, chat.chat_id)
    bot.counts["edits"] += 1
    changes = {"caption": caption or None, "caption_entities": entities, "reply_markup": inline}
    return _apply_edit(chat, rec, changes, raw, parse_mode)


@method("editMessageReplyMarkup")
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


@method("deleteMessage")
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


@method("answerCallbackQuery")
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


@method("sendChatAction")
async def send_chat_action(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """Typing indicators: accepted when the chat is reachable."""
    open_chat(bot, p.chat_id())
    return True


@method("getChat")
async def get_chat(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """ChatFullInfo of a private chat."""
    chat = bot.chats.get(p.chat_id())
    if chat is None:
        raise ApiError(400, "Bad Request: chat not found")
    return {**chat.tg_chat(), "accent_color_id": 0, "max_reaction_count": 11}


@method("getFile")
async def get_file(core: EmulatorCore, bot: BotState, p: Params) -> Any:
    """File info; download from ``/file/bot{token}/{file_path}``."""
    stored = core.files.get(p.get_str("file_id") or "")
    if stored is None:
        raise ApiError(400, "Bad Request: invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": f"u{stored.file_id}",
        "file_size": len(stored.data),
        "file_path": stored.file_id,
    }


# ---- dispatch ------------------------------------------------------------------------------


def _json_response(body: JSON, status: int = 200) -> web.Response:
    """A JSON response without ASCII escaping."""
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


async def handle_bot_call(core: EmulatorCore, request: web.Request) -> web.Response:
    """Entry point for ``/bot{token}/{method}``."""
    token = request.match_info["token"]
    name = request.match_info["method"].lower()
    bot = core.bot_for_token(token)
    entry = METHODS.get(name)
    if entry is None:
        err = ApiError(404, "Not Found")
        core.log_call(bot, request.match_info["method"], None, err)
        return _json_response(err.body(), err.code)
    canonical, fn = entry
    polling = name == "getupdates"
    if not polling:
        bot.in_flight += 1
    params = Params({})
    try:
        params = await Params.read(request)
        result = await fn(core, bot, params)
    except ApiError as err:
        core.log_call(bot, canonical, params.log_chat, err)
        return _json_response(err.body(), err.code)
    finally:
        if not polling:
            bot.in_flight -= 1
            bot.touch()
    core.log_call(bot, canonical, params.log_chat)
    return _json_response({"ok": True, "result": result})


async def handle_file_download(core: EmulatorCore, request: web.Request) -> web.Response:
    """Bot-side download of a stored file."""
    stored = core.files.get(request.match_info["path"])
    if stored is None:
        return _json_response(ApiError(404, "Not Found").body(), 404)
    return web.Response(body=stored.data, content_type=stored.mime_type)
