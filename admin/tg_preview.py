"""A message as the phone shows it: Telegram's HTML subset rendered as safe HTML for the page.

Only Telegram's tags are kept, without attributes (but ``href`` of links, http(s) and tg: only);
text is escaped and line breaks kept. What Telegram would refuse is reported by
``bot/content_check.py:html_problems`` before a preview is shown.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

from markupsafe import Markup

from bot.content_check import TELEGRAM_TAGS

_SAME = {"strong": "b", "em": "i", "ins": "u", "strike": "s", "del": "s"}
_SCHEMES = ("http://", "https://", "tg://")


class _Preview(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            return
        name = _SAME.get(tag, tag)
        if name == "a":
            href = next((v for k, v in attrs if k == "href" and v), "")
            safe = href if href.startswith(_SCHEMES) else "#"
            self.out.append(f'<a href="{escape(safe)}" rel="noopener" target="_blank">')
        elif name in ("tg-spoiler", "span"):
            name = "span"
            self.out.append('<span class="spoiler">')
        else:
            self.out.append(f"<{name}>")
        self.open.append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag not in TELEGRAM_TAGS or not self.open:
            return
        self.out.append(f"</{self.open.pop()}>")

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data).replace("\n", "<br>"))


def render(text: str) -> Markup:
    """Safe HTML of a Telegram HTML text (unclosed tags closed)."""
    parser = _Preview()
    parser.feed(text)
    parser.close()
    closing = "".join(f"</{name}>" for name in reversed(parser.open))
    return Markup("".join(parser.out) + closing)  # built from escaped parts only
