"""Opting out of broadcasts (``/stop`` or the button under one) and back in (``/start``).

Reminders about the person's own service dates are not broadcasts: they go on unless the
person pauses them too (``/reminders``, or the button offered with the opt-out).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from storage import outbox
from storage.models import Person
from storage.models.base import utcnow


async def opt_out(session: AsyncSession, person: Person, message_id: int | None = None) -> None:
    """No more broadcasts for this person; ``message_id``: the broadcast whose button they
    pressed (for ``/stop``: the last one they got), counted in its report.

    Someone who never consented has no row and gets no broadcasts: nothing to store."""
    if not people.is_stored(person):
        return
    if message_id is None:
        message_id = await outbox.last_message_sent_to(session, person.id)
    elif not await outbox.message_exists(session, message_id):
        message_id = None  # an old or forged button: the opt-out still counts
    await outbox.add_opt_out(session, person.id, message_id, utcnow())


async def resubscribe(session: AsyncSession, person: Person) -> bool:
    """Broadcasts again; True when the person had opted out."""
    if not people.is_stored(person):
        return False
    return await outbox.remove_opt_out(session, person.id)
