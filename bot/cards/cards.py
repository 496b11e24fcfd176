"""Training cards: recording one, its validity from the dated rules, entitlement, the expiry
pass, revocation, and matching a card to the person who talks to the bot.

``valid_until`` is computed when a card is recorded, from the support rule in force on its
issue date (``card_valid_months``; None: no limit), and kept: a rule added later does not
change cards already issued. A card is matched to a person (``person_id``) when the phone the
unit gave equals the person's survey phone (both normalised by
:func:`bot.survey.parsing.parse_phone`) and the names fold equal (:func:`bot.textnorm.fold`);
only consented, not erased people, and only when exactly one fits. Every change is audited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.rules import SupportRules
from bot.textnorm import fold
from bot.timeline.dates import add_months
from storage import cards as repo
from storage.audit import audit
from storage.models import Person
from storage.models.cards import TrainingCard

ISSUERS = ("military", "police")
STATUSES = ("issued", "redeemed", "settled", "expired", "revoked")
REVOCABLE = frozenset({"issued", "expired"})


class CardError(ValueError):
    """A change the card's state refuses (the message key says why)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class CardData:
    """What the issuing unit says about one card (the import's row, the admin form)."""

    number: str
    holder_name: str
    holder_phone: str | None
    holder_birth_date: date | None
    home_commune_code: str | None
    issuer_kind: str
    issuer_unit: str
    issue_date: date
    discharge_date: date | None
    service_completed: bool = True
    other_state_training: bool = False


def valid_until(rules: SupportRules, issue_date: date) -> date | None:
    """The last valid day of a card issued on ``issue_date`` (None: no limit); raises
    :class:`bot.cards.rules.NoRuleError` before the first rule."""
    months = rules.support_on(issue_date).card_valid_months
    return None if months is None else add_months(issue_date, months) - timedelta(days=1)


def entitled(card: TrainingCard) -> bool:
    """Completed service and no other state-funded training since."""
    return bool(card.service_completed) and not card.other_state_training


def names_match(a: str | None, b: str | None) -> bool:
    """Whether two names are the same once folded ("Hoàng Văn Minh" = "hoang van  minh")."""
    return bool(a and b) and fold(a or "") == fold(b or "")


async def record(
    session: AsyncSession,
    data: CardData,
    *,
    rules: SupportRules,
    actor: str,
    ip: str | None = None,
    audited: bool = True,
) -> TrainingCard:
    """Add a card (flushed, not committed) and link it to its person when one fits; refuses a
    number already stored (:class:`CardError` ``taken``)."""
    if await repo.by_number(session, data.number) is not None:
        raise CardError("taken")
    card = TrainingCard(
        **asdict(data), valid_until=valid_until(rules, data.issue_date), created_by=actor
    )
    session.add(card)
    await session.flush()
    if audited:
        detail = {"id": card.id, "number": card.number, "valid_until": card.valid_until}
        await audit(session, actor=actor, action="card.recorded", detail=detail, ip=ip)
    await match_person(session, card, actor=actor)
    return card


async def match_person(session: AsyncSession, card: TrainingCard, *, actor: str) -> Person | None:
    """Link an unlinked card to the one consented person with its phone and name."""
    if card.person_id is not None or not card.holder_phone:
        return None
    found = [
        p
        for p in await repo.people_by_phone(session, card.holder_phone)
        if names_match(p.full_name, card.holder_name)
    ]
    if len(found) != 1:
        return None
    await _link(session, card, found[0].id, actor)
    return found[0]


async def card_for(session: AsyncSession, person: Person) -> TrainingCard | None:
    """The person's card: linked already, or an unlinked card with their phone and name
    (linked now, when exactly one fits)."""
    card = await repo.of_person(session, person.id)
    if card is not None or not person.phone or person.consent_at is None:
        return card
    found = [
        c
        for c in await repo.unlinked_by_phone(session, person.phone)
        if names_match(c.holder_name, person.full_name)
    ]
    if len(found) != 1:
        return None
    await _link(session, found[0], person.id, "bot")
    return found[0]


async def _link(session: AsyncSession, card: TrainingCard, person_id: int, actor: str) -> None:
    card.person_id = person_id
    detail = {"id": card.id, "number": card.number, "person_id": person_id}
    await audit(session, actor=actor, action="card.matched", detail=detail)


async def expire_pass(session: AsyncSession, today: date, *, actor: str) -> int:
    """Mark unredeemed cards past ``valid_until`` expired (committed, one audit entry); how many."""
    expired = await repo.expire_due(session, today)
    if expired:
        detail = {"count": len(expired), "numbers": [number for _, number in expired][:50]}
        await audit(session, actor=actor, action="card.expired", detail=detail)
    await session.commit()
    return len(expired)


async def revoke(
    session: AsyncSession, card: TrainingCard, reason: str, *, actor: str, ip: str | None = None
) -> None:
    """Revoke a card not redeemed (issued or expired) with a reason (flushed, audited)."""
    if card.status not in REVOCABLE:
        raise CardError("not_revocable")
    if not reason.strip():
        raise CardError("reason_required")
    card.status = "revoked"
    card.revoked_reason = reason.strip()
    detail = {"id": card.id, "number": card.number, "reason": card.revoked_reason}
    await audit(session, actor=actor, action="card.revoked", detail=detail, ip=ip)
