"""Service timeline tables: outcomes after return, scheduled reminder sends, scheduler state."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow


class Outcome(Base):
    """What became of a returnee at a point in time; a history, newest last.

    status: in_training | finished_training | employed_in_trade | employed_other |
            self_employed | abroad | looking | other | returned_home
    source: bot (the person's own button) | admin (an officer's page) | api | import;
    recorded_by: who recorded it as the audit log names them (``user:alice``), None for the bot.
    """

    __tablename__ = "outcomes"
    __table_args__ = (Index("ix_outcomes_person_date", "person_id", "status_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32), index=True)
    status_date: Mapped[date] = mapped_column(Date)
    trade_code: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32), default="bot")
    recorded_by: Mapped[str | None] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ScheduledSend(Base):
    """One due reminder for one person and one schedule entry (unique per pair).

    status: pending → claimed (in a batch about to be sent) → sending (committed right before
            the Bot API call) → sent | blocked | not_found | failed | unknown (see
            ``storage/delivery.py``); a stale 'claimed' goes back to pending (never
            tried), a stale 'sending' becomes unknown (result never recorded; never resent);
            or skipped (not relevant when created, or its condition was false at send time);
            or dropped (overdue after downtime, past its relevance window).
    """

    __tablename__ = "scheduled_sends"
    __table_args__ = (
        UniqueConstraint("person_id", "entry_id", name="uq_scheduled_sends_person_entry"),
        Index("ix_scheduled_sends_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    entry_id: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TimelineState(Base):
    """Small key/value bookkeeping of the scheduler (e.g. the schedule hash last backfilled)."""

    __tablename__ = "timeline_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
