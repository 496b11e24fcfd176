"""What one person receives: their language's text, the opt-out button, the Bot API call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.i18n import N_, translator
from storage.models import Person
from storage.models.outbox import OutboxMessage

STOP_LABEL = N_("🔕 Không nhận thông báo nữa")


class BroadcastCb(CallbackData, prefix="bc"):
    """Buttons about broadcasts: ``stop`` (under every broadcast, ``m`` = its id) and ``rem``
    (stop the reminders too)."""

    act: str
    m: int = 0


def language_of(person: Person) -> str:
    """English for people who chose it, else Vietnamese."""
    return "en" if person.language == "en" else "vi"


def text_for(message: OutboxMessage, person: Person) -> str:
    """The person's text: English when they chose it and there is one, else Vietnamese."""
    if language_of(person) == "en" and message.text_en:
        return message.text_en
    return message.text_vi


def stop_keyboard(message_id: int, lang: str) -> InlineKeyboardMarkup:
    """The opt-out button under every broadcast."""
    data = BroadcastCb(act="stop", m=message_id).pack()
    label = translator(lang)(STOP_LABEL)
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)]]
    )


class Upload:
    """The message's photo or document: uploaded with the first send, then sent by the file
    id Telegram gave it (``file_id`` is set once an upload went through)."""

    def __init__(self, message: OutboxMessage, data: bytes | None) -> None:
        self.kind = message.media_kind
        self.name = message.media_name or "file"
        self.data = data
        self.file_id = message.media_file_id

    def remember(self, sent: Any) -> None:
        """Keep the file id of a message that carried the upload."""
        if not isinstance(sent, Message) or self.file_id:
            return
        if self.kind == "photo" and sent.photo:
            self.file_id = sent.photo[-1].file_id
        elif self.kind == "document" and sent.document:
            self.file_id = sent.document.file_id

    def _input(self) -> Any:
        return self.file_id or BufferedInputFile(self.data or b"", filename=self.name)

    def call(
        self, bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> Callable[[], Awaitable[Any]]:
        """The Bot API call that sends ``text`` (as a caption when there is a file)."""

        async def send() -> Any:
            if self.kind == "photo":
                sent: Any = await bot.send_photo(
                    chat_id, self._input(), caption=text, parse_mode="HTML", reply_markup=markup
                )
            elif self.kind == "document":
                sent = await bot.send_document(
                    chat_id, self._input(), caption=text, parse_mode="HTML", reply_markup=markup
                )
            else:
                sent = await bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=markup)
            self.remember(sent)
            return sent

        return send
