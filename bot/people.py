"""People: who is behind an update, consent, language, blocking and erasure.

A ``people`` row is made only when the person consents (the survey's first answer). Before
that, a person is a :class:`Person` that is never stored: their language choice and deep-link
source live in the conversation (the FSM data, keys :data:`CONVERSATION_KEYS`), which the bot
needs anyway to run the survey, and which a refusal or an erasure clears. After a refusal only
an anonymous count remains.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import LANGUAGES, pick_language
from storage import people as repo
from storage.audit import audit
from storage.db import truncate_wal
from storage.models import Person
from storage.models.base import utcnow

log = logging.getLogger(__name__)

# Telegram deep-link payloads: up to 64 characters of A-Z, a-z, 0-9, _ and -.
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

ERASURE_COUNT = "erasures"
CONSENT_REFUSED_COUNT = "consent_refused"
# what the conversation remembers about someone who has not consented (FSM data keys)
LANGUAGE_KEY, SOURCE_KEY = "lang", "source"
CONVERSATION_KEYS = (LANGUAGE_KEY, SOURCE_KEY)
# last contact is kept to the day: at most one write a day per person
CONTACT_RESOLUTION = timedelta(days=1)


async def find_person(session: AsyncSession, telegram_user_id: int) -> Person | None:
    """The stored person with this Telegram id, if they consented."""
    return await repo.get_person(session, telegram_user_id=telegram_user_id)


def newcomer(
    *,
    telegram_user_id: int,
    chat_id: int,
    language_code: str | None,
    conversation: Mapping[str, Any],
) -> Person:
    """Someone with no row (not consented yet, refused, or erased): a :class:`Person` that is
    stored only if they consent; language and source from the conversation, if it has them."""
    language = conversation.get(LANGUAGE_KEY)
    return repo.new_person(
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        language=language if language in LANGUAGES else pick_language(language_code),
        source=clean_payload(conversation.get(SOURCE_KEY)),
    )


def is_stored(person: Person) -> bool:
    """True when the person has a row, i.e. consented."""
    return repo.is_stored(person)


def remembered(person: Person) -> dict[str, Any]:
    """What the conversation keeps for a person without a row (FSM data to merge): their
    language and deep-link source, until they consent or leave."""
    kept = {LANGUAGE_KEY: person.language, SOURCE_KEY: person.source}
    return {key: value for key, value in kept.items() if value is not None}


async def store(session: AsyncSession, person: Person) -> None:
    """Consent given: the person gets a row (no-op when they have one)."""
    if not repo.is_stored(person):
        await repo.store_person(session, person)


async def seen(session: AsyncSession, person: Person, now: datetime) -> None:
    """A stored person wrote: they are reachable again, and their last contact (to the day)."""
    changes: dict[str, Any] = {}
    if person.blocked_at is not None:
        changes["blocked_at"] = None  # they write to us again, so they unblocked the bot
    if person.last_contact_at is None or now - person.last_contact_at >= CONTACT_RESOLUTION:
        changes["last_contact_at"] = now
    if changes:
        await repo.write_person(session, person, **changes)


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
) -> bool:
    """Delete everything about a person (the row; everything else cascades); only an anonymous
    count and an audit entry remain. False (nothing counted or audited) when there was nothing
    to erase: never stored, or erased already (an earlier tap, another officer).

    /delete_me calls it for the person themself (``actor`` "bot": the audit names no one); an
    officer erasing someone from the admin pages or the API is the ``actor`` (e.g.
    ``user:alice``), named in the audit with the person's id. The caller clears the
    conversation (their FSM record), commits, then calls :func:`scrub_log`.
    """
    person_id = person.id
    if not repo.is_stored(person) or not await repo.delete_person(session, person):
        return False
    detail: dict[str, object] = {"by": "person"}
    if actor != "bot":
        detail = {"by": "officer", "person_id": person_id}
    await repo.bump_count(session, ERASURE_COUNT)
    await audit(session, actor=actor, action="erasure", detail=detail, ip=ip)
    return True


async def scrub_log(session: AsyncSession) -> None:
    """After an erasure is committed: the deleted rows leave SQLite's write-ahead log too."""
    if not await truncate_wal(session):
        log.info("write-ahead log busy after an erasure; the next retention pass empties it")


@dataclass
class Conversations:
    """The bot's FSM storage, to forget an erased person's conversation with (outside an
    update: an officer's erasure, the retention pass)."""

    storage: BaseStorage
    bot_id: int

    async def forget(self, telegram_user_id: int) -> None:
        """Clear the private chat's record (an empty record is no row, ``storage/fsm.py``)."""
        key = StorageKey(bot_id=self.bot_id, chat_id=telegram_user_id, user_id=telegram_user_id)
        await FSMContext(storage=self.storage, key=key).clear()


async def refuse_consent(session: AsyncSession, person: Person) -> None:
    """Consent refused: store nothing (delete a row left from before) but an anonymous count."""
    if repo.is_stored(person):
        await repo.delete_person(session, person)
    await repo.bump_count(session, CONSENT_REFUSED_COUNT)


async def mark_blocked(session: AsyncSession, chat_id: int) -> None:
    """The user blocked the bot (a 403 from Telegram)."""
    await repo.mark_blocked(session, chat_id=chat_id, when=utcnow())


def unreachable(person: Person | None) -> str | None:
    """Why an unprompted message must not go to this person now ("erased", "blocked"), or
    None; every outbox kind checks it on the person as they are when the row is claimed."""
    if person is None or person.erased_at is not None:
        return "erased"
    if person.blocked_at is not None:
        return "blocked"
    return None
