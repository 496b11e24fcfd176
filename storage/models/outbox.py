"""The outbox: messages the bot sends unprompted (broadcasts, catalog alerts, job-fair
reminders), a row per recipient, and the people who asked for no more broadcasts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from storage.models.base import Base, JsonType, UtcDateTime, utcnow


class OutboxMessage(Base):
    """One message to many people: texts per language, optional photo or document, the segment.

    status: draft (waits for the author's second confirmation) → scheduled (waits for
            ``send_at``) → sending (rows filled from the segment, being
            sent; held during quiet hours) ⇄ paused → done; or cancelled at any point.
    ``scope_communes``: the communes the author may reach (None: the whole province).
    kind: broadcast (a counsellor's, rows from the segment) | alert (a course or fair just
    published: rows with their own text) | fair_eve, fair_day (reminders of a fair: rows added
    when people tap "Nhắc tôi"); ``item_kind``/``item_id``: the catalog item of the last three,
    one message per kind and item (see ``bot/alerts/``).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_send_at", "status", "send_at"),
        UniqueConstraint("kind", "item_kind", "item_id", name="uq_outbox_messages_item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="broadcast")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    media_kind: Mapped[str | None] = mapped_column(String(16))  # photo | document
    media_name: Mapped[str | None] = mapped_column(String(255))
    media_type: Mapped[str | None] = mapped_column(String(128))
    media_data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    media_file_id: Mapped[str | None] = mapped_column(String(255))
    segment: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    scope_communes: Mapped[list[str] | None] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    send_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    item_kind: Mapped[str | None] = mapped_column(String(16))
    item_id: Mapped[int | None] = mapped_column(Integer)


class OutboxRow(Base):
    """One recipient of one message (unique per pair).

    status: pending → claimed (in a batch about to be sent) → sending (committed right before
            the Bot API call) → sent | blocked (403) | not_found (400 chat not found) |
            failed (another 400: never delivered) | unknown (timeout, 5xx, undecodable answer:
            it may have arrived, never retried by itself); a 429 puts the row back to pending.
            skipped (opted out, blocked or erased by the time it was claimed); cancelled.
    ``text``: this person's own text (an alert with their reason line); None: the message's.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("message_id", "person_id", name="uq_outbox_message_person"),
        Index("ix_outbox_message_status", "message_id", "status"),
        Index("ix_outbox_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)


class BroadcastOptOut(Base):
    """A person who asked for no more broadcasts (``/stop`` or the button under one).

    ``message_id``: the broadcast whose button they pressed, or the last one they got before
    ``/stop`` (None if none). ``/start`` deletes the row: they are subscribed again.
    """

    __tablename__ = "broadcast_opt_outs"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    opted_out_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
