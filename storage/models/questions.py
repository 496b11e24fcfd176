"""Questions people ask counsellors through the bot (``/ask``) and the counsellors' replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow


class Question(Base):
    """One question for the counsellors of the asker's commune; open until ``answered_at``.

    reply_status: sending (claimed, committed right before the Bot API call) → sent | blocked
    (the person blocked the bot) | failed (not sent: ``answered_at`` is cleared again, so the
    question is open and the reply may be sent again). A ``sending`` left by a crash stays: the
    reply may have arrived, so it is never sent again by itself.
    """

    __tablename__ = "questions"
    __table_args__ = (
        Index("ix_questions_open", "answered_at", "asked_at"),
        UniqueConstraint("group_chat_id", "group_message_id", name="uq_questions_group_message"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    faq_declined: Mapped[str | None] = mapped_column(String(64))  # FAQ entry that did not help
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # the copy forwarded to the counsellors' Telegram group, if any
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    group_message_id: Mapped[int | None] = mapped_column(BigInteger)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(128))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reply_status: Mapped[str | None] = mapped_column(String(8))
