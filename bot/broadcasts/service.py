"""Broadcasts for authors (admin pages, REST API, CLI): create one, count its recipients,
pause, resume, cancel, resend the unknown ones, and the delivery report. Every change is
audited."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcasts.compose import Draft
from bot.config import Settings
from bot.timeline.dates import is_quiet, parse_clock
from storage import outbox, segments
from storage.audit import audit
from storage.models.outbox import OutboxMessage

RATE_WINDOW = timedelta(seconds=30)
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    # action: (new status, statuses it may come from)
    "pause": ("paused", ("scheduled", "sending")),
    "resume": ("sending", ("paused",)),
    "cancel": ("cancelled", ("draft", "scheduled", "sending", "paused")),
    "confirm": ("scheduled", ("draft",)),  # the second step above CONFIRM_ABOVE recipients
}


@dataclass(frozen=True)
class Author:
    """Who sends: audit name, the communes they may reach (None: the province), and whether
    they see everybody's broadcasts (else only their own)."""

    actor: str
    scope: list[str] | None
    sees_all: bool = False
    ip: str | None = None


async def count_recipients(session: AsyncSession, segment: segments.Segment, author: Author) -> int:
    """How many people the segment reaches now, within the author's communes."""
    return await segments.count(session, segment, author.scope)


async def create(
    session: AsyncSession,
    draft: Draft,
    author: Author,
    now: datetime,
    recipients: int,
    *,
    confirmed: bool = True,
) -> OutboxMessage:
    """Queue a broadcast (sent from ``draft.send_at``, or now), or keep it as a draft waiting
    for the author's second confirmation (``confirmed=False``); the caller commits."""
    media = draft.media
    message = OutboxMessage(
        created_by=author.actor,
        created_at=now,
        text_vi=draft.text_vi,
        text_en=draft.text_en,
        media_kind=media.kind if media else None,
        media_name=media.name[:255] if media else None,
        media_type=media.mime_type[:128] if media else None,
        media_data=media.data if media else None,
        segment=draft.segment.to_json(),
        scope_communes=author.scope,
        status="scheduled" if confirmed else "draft",
        send_at=draft.send_at or now,
        recipients=recipients,
    )
    session.add(message)
    await session.flush()
    await audit(
        session,
        actor=author.actor,
        action="broadcast.created",
        detail={
            "id": message.id,
            "recipients": recipients,
            "segment": message.segment,
            "send_at": message.send_at.isoformat(),
            "media": message.media_kind,
            "status": message.status,
        },
        ip=author.ip,
    )
    return message


def segment_of(message: OutboxMessage) -> segments.Segment:
    """The segment a message was written for."""
    return segments.Segment.from_json(message.segment)


async def recount(session: AsyncSession, message: OutboxMessage) -> int:
    """How many people the message's segment reaches now, within its author's communes."""
    return await segments.count(session, segment_of(message), message.scope_communes)


async def visible(session: AsyncSession, message_id: int, author: Author) -> OutboxMessage | None:
    """The broadcast if the author may see it (their own, or any for province-wide roles)."""
    message = await session.get(OutboxMessage, message_id)
    if message is None or message.kind != "broadcast":
        return None
    if not author.sees_all and message.created_by != author.actor:
        return None
    return message


async def list_visible(session: AsyncSession, author: Author) -> list[OutboxMessage]:
    """The author's broadcasts (everybody's for province-wide roles), newest first."""
    return await outbox.list_messages(session, created_by=None if author.sees_all else author.actor)


async def control(
    session: AsyncSession, message: OutboxMessage, action: str, author: Author, now: datetime
) -> int:
    """Pause, resume, cancel or resend the unknown ones; returns rows/messages changed
    (0: not possible in the broadcast's state). The caller commits."""
    if action == "resend_unknown":
        changed = await outbox.resend_unknown(session, message.id)
        if changed and message.status == "done":
            await outbox.set_status(session, message.id, "sending", ("done",), now)
    elif action in ACTIONS:
        new, allowed_from = ACTIONS[action]
        if action == "resume" and message.started_at is None:
            new = "scheduled"  # paused before it started: its recipients are not filled yet
        changed = int(await outbox.set_status(session, message.id, new, allowed_from, now))
    else:
        raise ValueError(f"unknown action {action!r}")
    if changed:
        await audit(
            session,
            actor=author.actor,
            action=f"broadcast.{action}",
            detail={"id": message.id, "rows": changed},
            ip=author.ip,
        )
        await session.refresh(message)
    return changed


@dataclass(frozen=True)
class Report:
    """A broadcast's delivery so far."""

    message: OutboxMessage
    counts: dict[str, int]
    opt_outs: int
    rate: float  # messages sent per second lately
    seconds_left: float | None
    held_for_night: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values()) or self.message.recipients

    @property
    def waiting(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("claimed", 0)

    def as_json(self) -> dict[str, object]:
        """For the REST API, the CLI's ``--json`` and the live admin page."""
        m = self.message
        return {
            "id": m.id,
            "status": m.status,
            "held_for_night": self.held_for_night,
            "recipients": self.total,
            "counts": self.counts,
            "opt_outs": self.opt_outs,
            "rate_per_second": round(self.rate, 2),
            "seconds_left": None if self.seconds_left is None else round(self.seconds_left),
            "send_at": m.send_at.isoformat(),
            "started_at": m.started_at.isoformat() if m.started_at else None,
            "finished_at": m.finished_at.isoformat() if m.finished_at else None,
        }


async def report(
    session: AsyncSession, message: OutboxMessage, settings: Settings, now: datetime
) -> Report:
    """Counts by status, the recent rate, the time left, opt-outs."""
    counts = await outbox.status_counts(session, message.id)
    opt_outs = await outbox.opt_out_count(session, message.id)
    rate = 0.0
    if message.started_at is not None:
        until = message.finished_at or now  # a finished broadcast: its last half minute
        since = max(message.started_at, until - RATE_WINDOW)
        elapsed = (until - since).total_seconds()
        if elapsed >= 1:
            rate = await outbox.sent_since(session, message.id, since) / elapsed
    waiting = counts.get("pending", 0) + counts.get("claimed", 0) + counts.get("sending", 0)
    if message.status in ("scheduled", "sending"):
        waiting = waiting or (message.recipients if message.status == "scheduled" else 0)
        seconds_left: float | None = waiting / (rate if rate > 1 else settings.send_rate)
    else:
        seconds_left = None
    quiet = (parse_clock(settings.quiet_start), parse_clock(settings.quiet_end))
    held = message.status in ("scheduled", "sending") and is_quiet(now, settings.tz, *quiet)
    if message.status == "scheduled" and message.send_at > now:
        held = False
    return Report(message, counts, opt_outs, rate, seconds_left, held)


async def failures_csv(session: AsyncSession, message: OutboxMessage) -> str:
    """The recipients who did not get it, with the reason (CSV, UTF-8 with a BOM for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["person_id", "name", "telegram_chat_id", "commune", "status", "reason"])
    for row, person in await outbox.failures(session, message.id):
        name = person.full_name or " ".join(
            n for n in (person.tg_first_name, person.tg_last_name) if n
        )
        writer.writerow(
            [
                person.id,
                name,
                person.chat_id,
                person.home_commune_code or "",
                row.status,
                row.result or "",
            ]
        )
    return "\ufeff" + out.getvalue()
