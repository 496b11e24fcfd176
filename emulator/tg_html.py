"""Parser for Telegram's HTML parse mode: visible text, entities, and Telegram-like errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}

_START_TAG = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z][a-zA-Z0-9-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_END_TAG = re.compile(r"</\s*([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_CHAR_REF = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]*);")


class HtmlParseError(ValueError):
    """Raised for HTML Telegram would refuse with "can't parse entities"."""


@dataclass
class _Open:
    tag: str
    offset: int
    attrs: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(src: str, index: int) -> int:
    """UTF-8 byte offset of ``src[index]`` (Telegram reports errors this way)."""
    return len(src[:index].encode("utf-8"))


def _unescape(src: str, value: str, at: int) -> str:
    """Resolve character references inside text or an attribute value."""
    out: list[str] = []
    pos = 0
    for match in _CHAR_REF.finditer(value):
        out.append(value[pos : match.start()])
        out.append(_char_ref(src, match.group(1), at + match.start()))
        pos = match.end()
    out.append(value[pos:])
    return "".join(out)


def _char_ref(src: str, name: str, at: int) -> str:
    """The character for one ``&name;`` reference."""
    if name.startswith(("#x", "#X")):
        code = int(name[2:], 16)
    elif name.startswith("#"):
        code = int(name[1:])
    elif name in NAMED_ENTITIES:
        return NAMED_ENTITIES[name]
    else:
        raise HtmlParseError(
            f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(src, at)}'
        )
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise HtmlParseError(f"Invalid character reference at byte offset {_byte_offset(src, at)}")
    return chr(code)


def _attrs(raw: str) -> dict[str, str]:
    """Attributes of a start tag as a dict (names lower-cased)."""
    found: dict[str, str] = {}
    for match in _ATTR.finditer(raw):
        value = match.group(2) or match.group(3) or match.group(4) or ""
        found[match.group(1).lower()] = value
    return found


def _entity(opened: _Open, end: int) -> dict[str, Any] | None:
    """The MessageEntity dict for a closed tag, or None when it is empty."""
    length = end - opened.offset
    if length <= 0:
        return None
    kind = ENTITY_TYPES[opened.tag]
    entity: dict[str, Any] = {"type": kind, "offset": opened.offset, "length": length}
    if opened.tag == "a":
        href = opened.attrs.get("href")
        if not href:
            return None
        entity["url"] = href
    elif opened.tag == "pre" and opened.attrs.get("language"):
        entity["language"] = opened.attrs["language"]
    elif opened.tag == "tg-emoji":
        entity["custom_emoji_id"] = opened.attrs.get("emoji-id", "")
    elif opened.tag == "blockquote" and "expandable" in opened.attrs:
        entity["type"] = "expandable_blockquote"
    return entity


class _Parser:
    """One parse of one HTML string."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.parts: list[str] = []
        self.offset = 0
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    def emit(self, text: str) -> None:
        """Append visible text."""
        if text:
            self.parts.append(text)
            self.offset += utf16_len(text)

    def start_tag(self, i: int) -> int:
        """Handle ``<tag ...>`` at ``i``; return the index after it."""
        match = _START_TAG.match(self.src, i)
        if match is None:
            raise HtmlParseError(
                f'Unsupported start tag "" at byte offset {_byte_offset(self.src, i)}'
            )
        tag = match.group(1).lower()
        if tag not in ENTITY_TYPES:
            raise HtmlParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(self.src, i)}'
            )
        attrs = {k: _unescape(self.src, v, i) for k, v in _attrs(match.group(2)).items()}
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(self.src, i)}"
            )
        if tag == "code" and self.stack and self.stack[-1].tag == "pre":
            lang = attrs.get("class", "")
            if lang.startswith("language-"):
                self.stack[-1].attrs["language"] = lang[len("language-") :]
        self.stack.append(_Open(tag, self.offset, attrs))
        return match.end()

    def end_tag(self, i: int) -> int:
        """Handle ``</tag>`` at ``i``; return the index after it."""
        match = _END_TAG.match(self.src, i)
        where = _byte_offset(self.src, i)
        if match is None:
            raise HtmlParseError(f'Unsupported end tag "" at byte offset {where}')
        tag = match.group(1).lower()
        if not self.stack:
            raise HtmlParseError(f'Unexpected end tag "{tag}" at byte offset {where}')
        opened = self.stack.pop()
        if opened.tag != tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {where}, expected "</{opened.tag}>", '
                f'found "</{tag}>"'
            )
        entity = _entity(opened, self.offset)
        if entity is not None:
            self.entities.append(entity)
        return match.end()

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        """Parse the whole string."""
        src = self.src
        i, n = 0, len(src)
        while i < n:
            nxt = min((p for p in (src.find("<", i), src.find("&", i)) if p >= 0), default=n)
            if nxt > i:
                self.emit(src[i:nxt])
                i = nxt
                continue
            if src[i] == "&":
                match = _CHAR_REF.match(src, i)
                if match is None:
                    self.emit("&")
                    i += 1
                else:
                    self.emit(_char_ref(src, match.group(1), i))
                    i = match.end()
            elif src.startswith("</", i):
                i = self.end_tag(i)
            else:
                i = self.start_tag(i)
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Return (visible text, entities) for Telegram HTML, or raise HtmlParseError."""
    return _Parser(src).run()
