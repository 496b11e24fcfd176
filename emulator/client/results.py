"""What the client reads back: the bot's messages, a reply to a user action, documents, errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


class EmulatorError(RuntimeError):
    """The control API refused a request."""


class EmulatorTimeout(AssertionError):
    """The bot did not do what a test waited for; the message shows what it did."""


@dataclass
class Document:
    """A file the bot sent."""

    file_id: str
    filename: str
    size: int
    mime_type: str
    caption: str | None
    url: str


@dataclass
class BotMessage:
    """A message in the chat as the emulator last saw it (edits applied)."""

    message_id: int
    text: str | None
    html: str | None = None
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    edits: list[JSON] = field(default_factory=list)
    deleted: bool = False
    document: Document | None = None
    from_bot: bool = True
    kind: str = "text"
    raw: JSON = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, data: JSON, base_url: str) -> BotMessage:
        """Build from a control API message snapshot."""
        doc = data.get("document")
        document = None
        if doc:
            document = Document(
                file_id=doc["file_id"],
                filename=doc["filename"],
                size=doc["size"],
                mime_type=doc["mime_type"],
                caption=doc.get("caption"),
                url=base_url + doc["url"],
            )
        return cls(
            message_id=data["message_id"],
            text=data.get("text"),
            html=data.get("html"),
            parse_mode=data.get("parse_mode"),
            reply_markup=data.get("reply_markup"),
            edits=list(data.get("edits") or []),
            deleted=bool(data.get("deleted")),
            document=document,
            from_bot=bool(data.get("from_bot", True)),
            kind=data.get("kind", "text"),
            raw=data,
        )

    @property
    def edited(self) -> bool:
        """True once the bot edited the message."""
        return bool(self.edits)

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of (text, callback_data); url buttons have None."""
        markup = self.reply_markup or {}
        return [
            [(b.get("text", ""), b.get("callback_data")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]

    @property
    def button_texts(self) -> list[str]:
        """All inline button texts, row by row."""
        return [text for row in self.buttons for text, _ in row]

    @property
    def reply_keyboard(self) -> list[list[JSON]] | None:
        """Reply keyboard sent with this message as rows of button dicts, if any."""
        markup = self.reply_markup or {}
        if "keyboard" not in markup:
            return None
        return [[button_dict(b) for b in row] for row in markup["keyboard"]]

    @property
    def removes_keyboard(self) -> bool:
        """True when this message removed the reply keyboard."""
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    def hasbutton_dict(self, text: str) -> bool:
        """True when an inline button has exactly this text."""
        return text in self.button_texts

    def __str__(self) -> str:
        flags = " (deleted)" if self.deleted else (" (edited)" if self.edited else "")
        body = self.text or ""
        if self.document:
            body = f"[document {self.document.filename}, {self.document.size} B] {body}"
        lines = [f"#{self.message_id}{flags}: {body}"]
        if self.buttons:
            lines.append(f"    buttons: {self.buttons}")
        if self.reply_keyboard:
            lines.append(f"    keyboard: {[[b['text'] for b in r] for r in self.reply_keyboard]}")
        return "\n".join(lines)


def button_dict(raw: Any) -> JSON:
    """Normalize a reply-keyboard button to a dict with ``text``."""
    return {"text": raw} if isinstance(raw, str) else dict(raw)


class Reply(list[BotMessage]):
    """Bot messages created or edited after a user action, oldest first."""

    def __init__(
        self,
        messages: list[BotMessage],
        callback_answers: list[JSON] | None = None,
        reply_keyboard: JSON | None = None,
    ) -> None:
        super().__init__(messages)
        self.callback_answers = callback_answers or []
        self.current_keyboard = reply_keyboard

    @property
    def visible(self) -> list[BotMessage]:
        """Messages not deleted."""
        return [m for m in self if not m.deleted]

    @property
    def text(self) -> str:
        """Texts (or captions) of the visible messages joined by blank lines."""
        return "\n\n".join(m.text or "" for m in self.visible)

    @property
    def last(self) -> BotMessage:
        """The newest visible message."""
        visible = self.visible
        if not visible:
            raise EmulatorTimeout(f"no visible bot message in reply: {self!r}")
        return visible[-1]

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard rows of all visible messages."""
        return [row for m in self.visible for row in m.buttons]

    @property
    def button_texts(self) -> list[str]:
        """All inline button texts."""
        return [text for m in self.visible for text in m.button_texts]

    @property
    def keyboard_texts(self) -> list[str]:
        """Texts of the reply keyboard shown to the user now."""
        rows = (self.current_keyboard or {}).get("keyboard", [])
        return [button_dict(b)["text"] for row in rows for b in row]

    @property
    def documents(self) -> list[Document]:
        """Documents among the messages."""
        return [m.document for m in self.visible if m.document]

    @property
    def toast(self) -> str | None:
        """Text of the last callback answer, if any."""
        return self.callback_answers[-1].get("text") if self.callback_answers else None

    def find(self, needle: str) -> BotMessage:
        """The first visible message whose text contains ``needle``."""
        for message in self.visible:
            if needle in (message.text or ""):
                return message
        raise AssertionError(f"no message containing {needle!r} in:\n{self}")

    def __str__(self) -> str:
        return "\n".join(str(m) for m in self) or "(no messages)"
