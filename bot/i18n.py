"""The one gettext stack (vi default, en) for the bot and the admin pages.

Catalogs live in ``content/locales/<lang>/LC_MESSAGES/<domain>.po`` and are compiled here; each
domain has one aiogram :class:`~aiogram.utils.i18n.I18n` (``gettext``, ``ngettext`` through its
``plural``/``n`` arguments, ``lazy_gettext``): ``messages`` for the bot, ``admin`` for the pages.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.content_loading import CONTENT_DIR

LOCALES_DIR = CONTENT_DIR / "locales"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
BOT_DOMAIN = "messages"
ADMIN_DOMAIN = "admin"

log = logging.getLogger(__name__)


def N_(message: str) -> str:
    """Mark a string for the catalogs without translating it now (translated where used)."""
    return message


def pick_language(code: str | None) -> str:
    """Map a Telegram language_code (``en-US``, ``vi``…) to a supported language."""
    base = (code or "").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def compile_catalogs(src: Path = LOCALES_DIR, dest: Path | None = None) -> Path:
    """Compile every ``.po`` under ``src`` to ``.mo`` (only when stale); returns the locale dir.

    Compiled files go next to the sources when writable, else to a temporary folder.
    """
    target = dest or src
    try:
        _compile_into(src, target)
    except OSError:
        target = Path(tempfile.mkdtemp(prefix="xuatngu-locales-"))
        _compile_into(src, target)
    return target


def _compile_into(src: Path, target: Path) -> None:
    for po_path in sorted(src.glob("*/LC_MESSAGES/*.po")):
        rel = po_path.relative_to(src)
        mo_path = (target / rel).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=rel.parts[0])
        with mo_path.open("wb") as out:
            write_mo(out, catalog)


@functools.cache
def get_i18n(domain: str = BOT_DOMAIN) -> I18n:
    """The I18n of one domain over the compiled catalogs (compiled on the first call)."""
    return I18n(path=compile_catalogs(), default_locale=DEFAULT_LANGUAGE, domain=domain)


def translator(lang: str | None, domain: str = BOT_DOMAIN) -> Callable[..., str]:
    """``_(msgid, **fields)`` in one language: the translation, ``%``-formatted with ``fields``.

    An unknown language means Vietnamese; an unknown msgid is returned as it is.
    """
    i18n = get_i18n(domain)
    locale = pick_language(lang)

    def _(msgid: str, **fields: Any) -> str:
        text = i18n.gettext(msgid, locale=locale)
        return text % fields if fields else text

    return _


class PersonLocaleMiddleware(I18nMiddleware):
    """Locale = the person's chosen language, else their Telegram language_code, else vi."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chosen = data.get("person_language")
        if chosen in LANGUAGES:
            return str(chosen)
        user: User | None = data.get("event_from_user")
        return pick_language(user.language_code if user else None)
