"""Page texts: gettext domain ``admin`` (content/locales/<lang>/LC_MESSAGES/admin.po), vi first."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from babel.messages.pofile import read_po

from bot.content_loading import CONTENT_DIR

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
DOMAIN = "admin"


@lru_cache(maxsize=4)
def catalog(lang: str) -> dict[str, str]:
    """msgid → msgstr of the ``admin`` domain for ``lang`` (empty when the file is missing)."""
    path = CONTENT_DIR / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang, domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in cat
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def pick(lang: str | None) -> str:
    """A supported language code (Vietnamese by default)."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def translator(lang: str) -> Callable[..., str]:
    """``_(msgid, **fields)`` for one language; unknown ids fall back to the id itself."""
    texts = catalog(pick(lang))

    def _(msgid: str, **fields: Any) -> str:
        text = texts.get(msgid, msgid)
        return text % fields if fields else text

    return _
