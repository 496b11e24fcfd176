"""Catalog alerts: which person was alerted to which item (never twice), and who opted out.

An alert is an outbox row (``outbox``, its message of kind ``alert`` names the item); an
:class:`ItemAlert` records it per person and item, unique, so nobody is alerted to the same
course or fair twice, and dates it for the weekly cap.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow


class ItemAlert(Base):
    """One person alerted to one catalog item (item_kind: course | fair)."""

    __tablename__ = "item_alerts"
    __table_args__ = (
        UniqueConstraint("person_id", "item_kind", "item_id", name="uq_item_alerts_person_item"),
        Index("ix_item_alerts_person_at", "person_id", "created_at"),
        Index("ix_item_alerts_message", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlertOptOut(Base):
    """A person who asked for no more catalog alerts (``/alerts`` or the button under one);
    broadcasts and reminders are not affected. ``/alerts`` again turns them back on."""

    __tablename__ = "alert_opt_outs"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    opted_out_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
