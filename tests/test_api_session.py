"""The bot's Bot API session: JSON bodies, multipart only for uploads, same answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.app import create_bot

TOKEN = "123456:TEST-token"
MESSAGE = {
    "message_id": 5,
    "date": 1764000000,
    "chat": {"id": 42, "type": "private", "first_name": "An"},
    "text": "x",
}


@asynccontextmanager
async def recording_api() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in Bot API that records each call's content type and parameters."""
    calls: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            raw = await request.read()
            params = {**json.loads(raw), "_raw": raw}
        else:
            form = await request.post()
            params = {k: (v if isinstance(v, str) else v.file.read()) for k, v in form.items()}
        calls.append(
            {"method": request.match_info["method"], "type": request.content_type, **params}
        )
        return web.json_response({"ok": True, "result": MESSAGE})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", calls
    finally:
        await runner.cleanup()


async def test_calls_go_as_json_with_the_bots_defaults_and_uploads_as_multipart() -> None:
    async with recording_api() as (base, calls):
        bot: Bot = create_bot(TOKEN, base)
        try:
            keyboard = InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Đồng ý", callback_data="s:c:all")]]
            )
            sent = await bot.send_message(42, "<b>Câu 1/14</b>", reply_markup=keyboard)
            await bot.send_document(42, BufferedInputFile(b"a;b\n", filename="x.csv"))
        finally:
            await bot.session.close()
    assert sent.message_id == 5 and sent.chat.id == 42  # the answer is parsed as before
    text, document = calls
    # Vietnamese text goes as UTF-8, not as \u escapes (a third of the bytes)
    assert "Câu 1/14".encode() in text.pop("_raw")
    assert text == {
        "method": "sendMessage",
        "type": "application/json",
        "chat_id": 42,
        "text": "<b>Câu 1/14</b>",
        "parse_mode": "HTML",  # the bot's default, filled in by aiogram
        "reply_markup": {"inline_keyboard": [[{"text": "Đồng ý", "callback_data": "s:c:all"}]]},
    }
    assert document["method"] == "sendDocument" and document["type"] == "multipart/form-data"
    assert document["chat_id"] == "42"
    assert b"a;b\n" in document.values()
