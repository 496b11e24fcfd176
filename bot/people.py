"""People: first contact, language, blocking and erasure (domain side of the common commands)."""

from __future__ import annotations

import logging
import re

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import LANGUAGES, pick_language
from storage import people as repo
from storage.audit import audit
from storage.models import Person
from storage.models.base import utcnow

log = logging.getLogger(__name__)

# Telegram deep-link payloads: up to 64 characters of A-Z, a-z, 0-9, _ and -.
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

ERASURE_COUNT = "erasures"
CONSENT_REFUSED_COUNT = "consent_refused"


async def find_person(session: AsyncSession, telegram_user_id: int) -> Person | None:
    """The person with this Telegram id, if they wrote before."""
    return await repo.get_person(session, telegram_user_id=telegram_user_id)


async def ensure_person(
    session: AsyncSession,
    found: Person | None,
    *,
    telegram_user_id: int,
    chat_id: int,
    language_code: str | None,
) -> Person:
    """The person behind an update (``found`` if they wrote before), created on first contact
    with only ids and language."""
    person = found
    if person is None:
        person = await repo.create_person(
            session,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            language=pick_language(language_code),
            source=None,
        )
    elif person.blocked_at is not None:
        person.blocked_at = None  # they write to us again, so they unblocked the bot
    return person


def clean_payload(payload: str | None) -> str | None:
    """A deep-link payload if it is well formed, else None."""
    if payload and _PAYLOAD.match(payload.strip()):
        return payload.strip()
    return None


def record_source(person: Person, payload: str | None) -> bool:
    """Keep the first well-formed deep-link payload (a unit's or commune's QR code)."""
    source = clean_payload(payload)
    if source and not person.source:
        person.source = source
        return True
    return False


def set_language(person: Person, language: str) -> bool:
    """Change the person's language; False for an unsupported one."""
    if language not in LANGUAGES:
        return False
    person.language = language
    return True


async def erase(
    session: AsyncSession, person: Person, *, actor: str = "bot", ip: str | None = None
) -> None:
    """Delete everything about a person; only an anonymous count remains.

    /delete_me calls it for the person themself (``actor`` "bot"); an officer erasing someone
    from the admin pages or the API is the ``actor`` (e.g. ``user:alice``), named in the audit.
    """
    detail: dict[str, object] = {"by": "person"}
    if actor != "bot":
        detail = {"by": "officer", "person_id": person.id}
    await repo.delete_person(session, person)
    await repo.bump_count(session, ERASURE_COUNT)
    await audit(session, actor=actor, action="erasure", detail=detail, ip=ip)


async def refuse_consent(session: AsyncSession, person: Person) -> None:
    """Consent refused: store nothing but an anonymous count."""
    await repo.delete_person(session, person)
    await repo.bump_count(session, CONSENT_REFUSED_COUNT)


async def mark_blocked(session: AsyncSession, chat_id: int) -> None:
    """The user blocked the bot (a 403 from Telegram)."""
    await repo.mark_blocked(session, chat_id=chat_id, when=utcnow())
