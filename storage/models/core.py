"""People, their survey answers and trade preferences, and the bot's own bookkeeping."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, JsonType, UtcDateTime, utcnow


class Person(Base):
    """One Telegram user who talked to the bot.

    A row exists only once the person consented (``bot/people.py``). Profile columns
    (full_name … home_commune_code) mirror the survey answers so that lists, filters and role
    scoping are plain SQL; the survey service keeps them in step. On SQLite the ids are
    AUTOINCREMENT: an erased person's id is never given to someone else (audit entries keep it).
    """

    __tablename__ = "people"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(8), default="vi")
    tg_first_name: Mapped[str | None] = mapped_column(String(128))
    tg_last_name: Mapped[str | None] = mapped_column(String(128))
    tg_username: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_sharing: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reminders_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # when the person last wrote to the bot (to the day): retention when no discharge month
    last_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=utcnow)
    # profile mirrored from the survey
    full_name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(16), index=True)
    branch: Mapped[str | None] = mapped_column(String(32))
    enlistment_month: Mapped[date | None] = mapped_column(Date)
    discharge_month: Mapped[date | None] = mapped_column(Date, index=True)
    home_commune_code: Mapped[str | None] = mapped_column(String(16), index=True)
    return_date: Mapped[date | None] = mapped_column(Date)
    survey_completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    responses: Mapped[list[SurveyResponse]] = relationship(
        back_populates="person", lazy="raise", cascade="all, delete-orphan"
    )
    preferences: Mapped[list[TradePreference]] = relationship(
        back_populates="person",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="TradePreference.rank",
    )

    @property
    def blocked(self) -> bool:
        return self.blocked_at is not None

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


class SurveyResponse(Base):
    """One run through the survey by one person (the latest one is the current)."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    survey_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    person: Mapped[Person] = relationship(back_populates="responses", lazy="raise")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", lazy="raise", cascade="all, delete-orphan"
    )


class Answer(Base):
    """The current answer to one question: normalised ``value`` and the ``raw_text`` typed."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("response_id", "question_id"),
        Index("ix_answers_question_response", "question_id", "response_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JsonType)
    raw_text: Mapped[str | None] = mapped_column(Text)
    survey_version: Mapped[str] = mapped_column(String(32))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_count: Mapped[int] = mapped_column(Integer, default=0)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers", lazy="raise")


class TradePreference(Base):
    """A ranked trade choice, normalised so that SQL can count demand by trade and commune."""

    __tablename__ = "trade_preferences"
    __table_args__ = (
        UniqueConstraint("person_id", "rank"),
        Index("ix_trade_preferences_trade_code_person", "trade_code", "person_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="SET NULL")
    )
    rank: Mapped[int] = mapped_column(Integer)
    trade_code: Mapped[str] = mapped_column(String(64))
    raw_text: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16), default="typed")  # typed | quiz | button
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="preferences", lazy="raise")


class AnonymousCount(Base):
    """Counters with no personal data: refused consents, erasures, dropped reminders."""

    __tablename__ = "anonymous_counts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class InboxUpdate(Base):
    """A Telegram update, stored before Telegram is told it arrived (the update inbox).

    ``state``: ``received`` (stored, not handled yet), ``handled`` (its handling committed, the
    reply may not have gone out), ``replied`` (the handler finished). ``owner``: the process that
    stored it, which finishes it unless that process is gone. See ``handlers/polling.py``.
    """

    __tablename__ = "update_inbox"
    __table_args__ = (Index("ix_update_inbox_unfinished", "bot_id", "state", "owner"),)

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    state: Mapped[str] = mapped_column(String(8), default="received")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    # the process that stored it (its id, alive while it holds its lock: handlers/polling.py);
    # None for updates stored before migration 0013
    owner: Mapped[str | None] = mapped_column(String(32))


class FsmRecord(Base):
    """aiogram FSM state and data for one storage key (see storage.fsm.SqlStorage)."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
