"""Training support through the vocational training card (Thẻ học nghề): the cards, their one
redemption each, institutions' settlements, and the dated rules officers add.

Money in whole đồng. A card's ``status``: issued → redeemed (an institution accepted it for a
course) → settled (its settlement was approved); or expired (not redeemed before
``valid_until``) or revoked (by the issuing unit; ``revoked_reason``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from storage.models.base import Base, JsonType, UtcDateTime, utcnow


class TrainingCard(Base):
    """A card issued at discharge to one person (``person_id`` None until the card is matched
    to someone who talked to the bot: units' lists name people, not Telegram accounts).

    Entitlement: ``service_completed`` (completed military or police service) and
    ``other_state_training`` (state-funded training since: then not entitled).
    ``holder_name``/``holder_phone``/``holder_birth_date``: who the issuing unit named, checked
    against the person at redemption. ``issuer_kind``: military | police.
    """

    __tablename__ = "training_cards"
    __table_args__ = (Index("ix_training_cards_status_valid_until", "status", "valid_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    holder_name: Mapped[str] = mapped_column(String(128))
    holder_phone: Mapped[str | None] = mapped_column(String(16))
    holder_birth_date: Mapped[date | None] = mapped_column(Date)
    home_commune_code: Mapped[str | None] = mapped_column(String(16))
    issuer_kind: Mapped[str] = mapped_column(String(16))
    issuer_unit: Mapped[str] = mapped_column(String(255))
    issue_date: Mapped[date] = mapped_column(Date)
    discharge_date: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    service_completed: Mapped[bool] = mapped_column(Boolean, default=True)
    other_state_training: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="issued")
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    expiry_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CardRedemption(Base):
    """The one redemption of a card by an institution for a course (unique per card).

    ``declaration``: ``scan`` (a signed declaration uploaded: ``declaration_file``) or ``tick``
    (declared before ``declared_to``, the officer who ticked). ``finished_on`` / ``dropped_on``
    end it; ``days_attended`` counts days of study settled; ``settlement_id`` once settled.
    Amounts are computed from the dated rules when settled and kept (``amounts``).
    """

    __tablename__ = "card_redemptions"
    __table_args__ = (
        UniqueConstraint("card_id", name="uq_card_redemptions_card_id"),
        Index("ix_card_redemptions_institution", "institution_id", "redeemed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("training_cards.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    redeemed_on: Mapped[date] = mapped_column(Date)
    redeemed_by: Mapped[str] = mapped_column(String(128))
    declaration: Mapped[str] = mapped_column(String(8))
    declared_to: Mapped[str | None] = mapped_column(String(128))
    declaration_name: Mapped[str | None] = mapped_column(String(255))
    declaration_type: Mapped[str | None] = mapped_column(String(128))
    declaration_file: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    start_date: Mapped[date] = mapped_column(Date)
    course_days: Mapped[int] = mapped_column(Integer)
    tuition_vnd: Mapped[int] = mapped_column(BigInteger)
    finished_on: Mapped[date | None] = mapped_column(Date)
    dropped_on: Mapped[date | None] = mapped_column(Date)
    days_attended: Mapped[int | None] = mapped_column(Integer)
    amounts: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    settlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("settlements.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Settlement(Base):
    """An institution's settlement of one period with the Department of Education and Training.

    period: ``half`` (1 Jan – 30 Jun) or ``year`` (the calendar year); ``due_on`` from the dated
    settlement rule; status draft → submitted → approved (or returned with ``note``).
    """

    __tablename__ = "settlements"
    __table_args__ = (
        UniqueConstraint(
            "institution_id", "period", "period_start", name="uq_settlements_institution_period"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    total_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    learner_share_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    submitted_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)


class SupportRuleOverride(Base):
    """A dated rule an officer added (kind base_salary | support | settlement; ``fields`` as in
    ``content/training_support.yaml``, with ``from``); it wins over the file from its day."""

    __tablename__ = "support_rule_overrides"
    __table_args__ = (UniqueConstraint("kind", "valid_from", name="uq_support_rule_overrides"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    fields: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
