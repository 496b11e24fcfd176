"""Every SQL query of catalog alerts and job-fair reminders: items just published, who may be
alerted, the alerts already given, opt-outs, outbox messages tied to an item, and the
counsellors' list of alerts. None commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, literal, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert
from storage.models import Person
from storage.models.alerts import AlertOptOut, ItemAlert
from storage.models.catalog import Course, Institution, ItemResponse, JobFair, SupportPolicy
from storage.models.outbox import OutboxMessage, OutboxRow

ALERT = "alert"
# outbox statuses that mean the message went out, or may have
DELIVERED = ("sent", "sending", "unknown")


def _no_alert_message(item_kind: str, item_id: Any) -> ColumnElement[bool]:
    return not_(
        exists().where(
            OutboxMessage.kind == ALERT,
            OutboxMessage.item_kind == item_kind,
            OutboxMessage.item_id == item_id,
        )
    )


async def unannounced_courses(
    session: AsyncSession, today: date, published_since: datetime
) -> list[tuple[int, str]]:
    """(id, title) of courses open and published since ``published_since``, not past their
    dates, that no alert message names yet."""
    rows = await session.execute(
        select(Course.id, Course.title)
        .where(
            Course.status == "open",
            Course.published_at >= published_since,
            or_(Course.start_date.is_(None), Course.start_date >= today),
            or_(Course.enrol_deadline.is_(None), Course.enrol_deadline >= today),
            _no_alert_message("course", Course.id),
        )
        .order_by(Course.published_at, Course.id)
    )
    return [(int(i), str(t)) for i, t in rows.all()]


async def unannounced_fairs(
    session: AsyncSession, since: datetime, published_since: datetime
) -> list[tuple[int, str]]:
    """(id, title) of fairs published since ``published_since`` and starting at or after
    ``since`` that no alert message names yet."""
    rows = await session.execute(
        select(JobFair.id, JobFair.title)
        .where(
            JobFair.status == "published",
            JobFair.published_at >= published_since,
            JobFair.starts_at >= since,
            _no_alert_message("fair", JobFair.id),
        )
        .order_by(JobFair.published_at, JobFair.id)
    )
    return [(int(i), str(t)) for i, t in rows.all()]


def _alertable() -> list[ColumnElement[bool]]:
    """Consented (a row), not erased, not blocked, not opted out of alerts."""
    opted_out = exists().where(AlertOptOut.person_id == Person.id)
    return [
        Person.consent_at.is_not(None),
        Person.erased_at.is_(None),
        Person.blocked_at.is_(None),
        not_(opted_out),
    ]


async def alertable_people(session: AsyncSession, discharged_by: date) -> Sequence[Person]:
    """People an alert may go to: home already, or discharged by ``discharged_by``."""
    stmt = (
        select(Person)
        .where(
            *_alertable(),
            or_(Person.return_date.is_not(None), Person.discharge_month <= discharged_by),
        )
        .order_by(Person.id)
    )
    return (await session.scalars(stmt)).all()


async def alerts_since(
    session: AsyncSession, person_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """Alerts given to each person at or after ``since`` (queued or sent)."""
    rows = await session.execute(
        select(ItemAlert.person_id, func.count())
        .where(ItemAlert.person_id.in_(set(person_ids)), ItemAlert.created_at >= since)
        .group_by(ItemAlert.person_id)
    )
    return {int(p): int(n) for p, n in rows.all()}


async def alerted_items(
    session: AsyncSession, person_ids: Sequence[int]
) -> set[tuple[int, str, int]]:
    """(person, item kind, item id) of every alert these people were given."""
    rows = await session.execute(
        select(ItemAlert.person_id, ItemAlert.item_kind, ItemAlert.item_id).where(
            ItemAlert.person_id.in_(set(person_ids))
        )
    )
    return {(int(p), str(k), int(i)) for p, k, i in rows.all()}


async def item_message(
    session: AsyncSession,
    kind: str,
    item_kind: str,
    item_id: int,
    *,
    title: str,
    status: str,
    send_at: datetime,
    now: datetime,
) -> int:
    """The outbox message of ``kind`` for one item, created if missing (``status``: sending
    or scheduled); its id."""
    insert = dialect_insert(session, OutboxMessage).values(
        kind=kind,
        item_kind=item_kind,
        item_id=item_id,
        created_at=now,
        created_by=f"bot:{kind}",
        text_vi=title,
        segment={},
        status=status,
        send_at=send_at,
        started_at=now if status == "sending" else None,
        recipients=0,
    )
    await session.execute(
        insert.on_conflict_do_nothing(index_elements=["kind", "item_kind", "item_id"])
    )
    found = await session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.kind == kind,
            OutboxMessage.item_kind == item_kind,
            OutboxMessage.item_id == item_id,
        )
    )
    assert found is not None
    return int(found)


async def message_state(session: AsyncSession, message_id: int) -> tuple[str, datetime] | None:
    """(status, send_at) of an outbox message."""
    row = (
        await session.execute(
            select(OutboxMessage.status, OutboxMessage.send_at).where(
                OutboxMessage.id == message_id
            )
        )
    ).first()
    return None if row is None else (str(row[0]), row[1])


@dataclass(frozen=True)
class NewAlert:
    """One alert to queue: the person, the item, their own text."""

    person_id: int
    item_kind: str
    item_id: int
    score: float
    text: str


async def queue_alerts(
    session: AsyncSession, message_id: int, alerts: Sequence[NewAlert], now: datetime
) -> None:
    """An outbox row (pending, with its text) and an :class:`ItemAlert` per alert; both
    unique, so queuing twice adds nothing; the message's recipient count."""
    if alerts:
        rows = dialect_insert(session, OutboxRow).values(
            [
                {
                    "message_id": message_id,
                    "person_id": a.person_id,
                    "status": "pending",
                    "text": a.text,
                }
                for a in alerts
            ]
        )
        await session.execute(
            rows.on_conflict_do_nothing(index_elements=["message_id", "person_id"])
        )
        given = dialect_insert(session, ItemAlert).values(
            [
                {
                    "person_id": a.person_id,
                    "item_kind": a.item_kind,
                    "item_id": a.item_id,
                    "message_id": message_id,
                    "score": a.score,
                    "created_at": now,
                }
                for a in alerts
            ]
        )
        await session.execute(
            given.on_conflict_do_nothing(index_elements=["person_id", "item_kind", "item_id"])
        )
    await set_recipient_count(session, message_id)


async def add_row(session: AsyncSession, message_id: int, person_id: int) -> None:
    """A pending row of ``message_id`` for the person (once)."""
    stmt = dialect_insert(session, OutboxRow).values(
        message_id=message_id, person_id=person_id, status="pending"
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["message_id", "person_id"]))
    await set_recipient_count(session, message_id)


async def set_recipient_count(session: AsyncSession, message_id: int) -> None:
    """The message's recipients: its row count."""
    count = select(func.count()).where(OutboxRow.message_id == message_id).scalar_subquery()
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(recipients=count)
    )


async def delivered_alerts_since(
    session: AsyncSession, person_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """Alerts that went out (or may have) to each of these people in a batch claimed at or after
    ``since`` (the weekly cap at send time)."""
    rows = await session.execute(
        select(OutboxRow.person_id, func.count())
        .join(OutboxMessage, OutboxMessage.id == OutboxRow.message_id)
        .where(
            OutboxMessage.kind == ALERT,
            OutboxRow.person_id.in_(set(person_ids)),
            OutboxRow.status.in_(DELIVERED),
            OutboxRow.claimed_at >= since,  # the batch's time, right before the send
        )
        .group_by(OutboxRow.person_id)
    )
    return {int(p): int(n) for p, n in rows.all()}


async def opted_out(session: AsyncSession, person_ids: Sequence[int]) -> set[int]:
    """Which of these people turned alerts off."""
    rows = await session.scalars(
        select(AlertOptOut.person_id).where(AlertOptOut.person_id.in_(set(person_ids)))
    )
    return set(rows)


async def set_opt_out(session: AsyncSession, person_id: int, off: bool, now: datetime) -> None:
    """Turn the person's alerts off (``off``) or on again."""
    if off:
        stmt = dialect_insert(session, AlertOptOut).values(person_id=person_id, opted_out_at=now)
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["person_id"]))
    else:
        await session.execute(delete(AlertOptOut).where(AlertOptOut.person_id == person_id))


async def response_of(
    session: AsyncSession, person_ids: Sequence[int], kind: str, item_id: int
) -> dict[int, str]:
    """What each of these people said about one item."""
    rows = await session.execute(
        select(ItemResponse.person_id, ItemResponse.response).where(
            ItemResponse.person_id.in_(set(person_ids)),
            ItemResponse.item_kind == kind,
            ItemResponse.item_id == item_id,
        )
    )
    return {int(p): str(r) for p, r in rows.all()}


async def course_with_institution(
    session: AsyncSession, course_id: int
) -> tuple[Course, Institution] | None:
    """A course and its institution."""
    row = (
        await session.execute(
            select(Course, Institution)
            .join(Institution, Institution.id == Course.institution_id)
            .where(Course.id == course_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def fair_by_id(session: AsyncSession, fair_id: int) -> JobFair | None:
    """A job fair."""
    return await session.get(JobFair, fair_id)


async def policies(session: AsyncSession, codes: Sequence[str]) -> list[SupportPolicy]:
    """Support policies by code, in the order given."""
    if not codes:
        return []
    found = {
        p.code: p
        for p in await session.scalars(select(SupportPolicy).where(SupportPolicy.code.in_(codes)))
    }
    return [found[c] for c in codes if c in found]


@dataclass(frozen=True)
class AlertRow:
    """One alert for the counsellors' page."""

    person_id: int
    name: str | None
    commune: str | None
    item_kind: str
    item_id: int
    title: str
    created_at: datetime
    status: str
    sent_at: datetime | None
    response: str | None


async def alert_list(
    session: AsyncSession, scope: ColumnElement[bool], *, responded: bool | None, limit: int
) -> list[AlertRow]:
    """Alerts given to people in ``scope``, newest first, with their outbox status and what
    the person said about the item (``responded``: only those who did / did not)."""
    response = (
        select(ItemResponse.response)
        .where(
            ItemResponse.person_id == ItemAlert.person_id,
            ItemResponse.item_kind == ItemAlert.item_kind,
            ItemResponse.item_id == ItemAlert.item_id,
        )
        .correlate(ItemAlert)
        .scalar_subquery()
    )
    title = func.coalesce(
        select(Course.title)
        .where(ItemAlert.item_kind == "course", Course.id == ItemAlert.item_id)
        .correlate(ItemAlert)
        .scalar_subquery(),
        select(JobFair.title)
        .where(ItemAlert.item_kind == "fair", JobFair.id == ItemAlert.item_id)
        .correlate(ItemAlert)
        .scalar_subquery(),
        literal(""),
    )
    stmt = (
        select(
            ItemAlert.person_id,
            Person.full_name,
            Person.home_commune_code,
            ItemAlert.item_kind,
            ItemAlert.item_id,
            title,
            ItemAlert.created_at,
            OutboxRow.status,
            OutboxRow.sent_at,
            response,
        )
        .join(Person, Person.id == ItemAlert.person_id)
        .join(
            OutboxRow,
            and_(
                OutboxRow.message_id == ItemAlert.message_id,
                OutboxRow.person_id == ItemAlert.person_id,
            ),
        )
        .where(scope)
        .order_by(ItemAlert.created_at.desc(), ItemAlert.id.desc())
        .limit(limit)
    )
    if responded is True:
        stmt = stmt.where(response.is_not(None))
    elif responded is False:
        stmt = stmt.where(response.is_(None))
    return [AlertRow(*row) for row in (await session.execute(stmt)).all()]


async def scheduled_fair_reminders(
    session: AsyncSession, slots: Sequence[str]
) -> list[tuple[int, str, datetime, JobFair]]:
    """Fair reminders not started yet: (message id, slot, send_at, the fair)."""
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.send_at, JobFair)
        .join(JobFair, JobFair.id == OutboxMessage.item_id)
        .where(
            OutboxMessage.kind.in_(slots),
            OutboxMessage.item_kind == "fair",
            OutboxMessage.status == "scheduled",
        )
        .order_by(OutboxMessage.id)
    )
    return [(int(i), str(k), at, fair) for i, k, at, fair in rows.all()]


async def reschedule(session: AsyncSession, message_id: int, send_at: datetime) -> None:
    """Move a scheduled message to ``send_at``."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "scheduled")
        .values(send_at=send_at)
    )
