"""Questions to counsellors: what a valid question is, storing it, forwarding it to the
counsellors' group, and delivering a counsellor's reply (from the admin page or the group).

A reply is sent at most once: the question is claimed (``sending``, committed) before the Bot API
call, and only a claimed open question is sent; a ``failed`` send opens it again.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import people
from bot.i18n import N_, translator
from bot.questions.workdays import working_days_before
from bot.reporting import labels
from bot.sending import SenderProtocol
from bot.textnorm import fold
from storage import questions as repo
from storage.audit import audit
from storage.models import Person
from storage.models.base import utcnow
from storage.models.questions import Question

log = logging.getLogger(__name__)

MAX_QUESTION = 1000  # characters of a question
MAX_ANSWER = 3000  # characters of a reply (the message must stay under Telegram's 4096)
MAX_OPEN = 5  # open questions one person may have at once
OVERDUE_WORKING_DAYS = 2
EXCERPT = 200  # characters of the question quoted above a reply

Problem = Literal["empty", "too_long"]
Refusal = Literal["no_consent", "too_many"]
ReplyStatus = Literal["sent", "blocked", "failed", "taken"]

FORWARD_HEAD = N_("❓ <b>Câu hỏi số %(id)s</b> · %(commune)s")
FORWARD_HINT = N_("<i>Trả lời (Reply) tin nhắn này để gửi câu trả lời tới người hỏi.</i>")
FORWARD_FAQ_NOTE = N_("<i>Người hỏi đã xem câu trả lời có sẵn «%(title)s» nhưng chưa đủ.</i>")
NO_COMMUNE = N_("chưa rõ xã/phường")
REPLY_TEXT = N_(
    "💬 <b>Cán bộ đã trả lời câu hỏi của bạn</b>\n<i>«%(question)s»</i>\n\n%(answer)s\n\n"
    "Muốn hỏi thêm, bạn gõ /ask."
)


def check_text(text: str, limit: int) -> tuple[str, Problem | None]:
    """The text trimmed, and what is wrong with it (None when it can be used).

    Empty: nothing but spaces, punctuation or emoji ("???", "👍").
    """
    clean = text.strip()
    if not fold(clean):
        return clean, "empty"
    if len(clean) > limit:
        return clean, "too_long"
    return clean, None


def overdue_before(now: datetime, tz: ZoneInfo) -> datetime:
    """Open questions asked before this instant have waited over two working days."""
    return working_days_before(now, OVERDUE_WORKING_DAYS, tz)


def commune_label(code: str | None) -> str | None:
    """The commune's name as written inside a sentence ("phường Tam Thanh"), or None when the
    person has not given one."""
    name = labels.commune_name(code) if code else ""
    return name[:1].lower() + name[1:] if name else None


@dataclass(frozen=True)
class Asked:
    """A stored question, or why it was not stored."""

    question: Question | None = None
    refused: Refusal | None = None


async def ask(
    session: AsyncSession, person: Person, text: str, *, faq_declined: str | None
) -> Asked:
    """Store a question for the counsellors of the person's commune (the caller commits).

    Only for a person who consented (the survey's consent question, ``Person.consent_at``), and
    at most :data:`MAX_OPEN` open questions at once.
    """
    if person.consent_at is None:
        return Asked(refused="no_consent")
    if await repo.count_open_of(session, person.id) >= MAX_OPEN:
        return Asked(refused="too_many")
    question = await repo.add_question(
        session, person_id=person.id, text=text, faq_declined=faq_declined
    )
    await audit(
        session,
        actor="bot",
        action="question.asked",
        detail={"question_id": question.id, "faq_declined": faq_declined},
    )
    return Asked(question=question)


def forward_text(question: Question, person: Person, faq_title: str | None) -> str:
    """The copy of a question for the counsellors' group (in Vietnamese, their language)."""
    _ = translator("vi")
    commune = commune_label(person.home_commune_code) or _(NO_COMMUNE)
    parts = [_(FORWARD_HEAD, id=question.id, commune=html.escape(commune))]
    parts.append(html.escape(question.text))
    if faq_title:
        parts.append(_(FORWARD_FAQ_NOTE, title=html.escape(faq_title)))
    parts.append(_(FORWARD_HINT))
    return "\n\n".join(parts)


async def forward(
    session: AsyncSession,
    sender: SenderProtocol,
    chat_id: int,
    question: Question,
    person: Person,
    faq_title: str | None,
) -> bool:
    """Send the question to the counsellors' group and remember the copy (the caller commits).

    A failure is logged and nothing more: the question waits in the admin inbox all the same.
    """
    result = await sender.send_text(chat_id, forward_text(question, person, faq_title))
    if not result.ok or result.message_id is None:
        log.warning("question %s not forwarded to %s: %s", question.id, chat_id, result.error)
        return False
    await repo.set_group_message(
        session, question.id, chat_id=chat_id, message_id=result.message_id
    )
    return True


def reply_text(question: Question, answer: str, language: str) -> str:
    """The message that brings a counsellor's reply to the person."""
    excerpt = question.text if len(question.text) <= EXCERPT else question.text[:EXCERPT] + "…"
    return translator(language)(
        REPLY_TEXT, question=html.escape(excerpt), answer=html.escape(answer)
    )


async def deliver_reply(
    session: AsyncSession,
    sender: SenderProtocol,
    question: Question,
    answer: str,
    *,
    by: str,
    actor: str,
    via: str,
    ip: str | None = None,
) -> ReplyStatus:
    """Send a counsellor's reply to the person who asked, at most once.

    ``by`` is the name shown with the reply in the inbox, ``actor`` the audit log's name for the
    counsellor. Commits the claim before the Bot API call; the result and its audit entry are
    left for the caller to commit. ``taken``: the question was already answered (or is being
    answered).
    """
    qid = question.id
    if not await repo.claim_reply(session, qid, text=answer, by=by, at=utcnow()):
        return "taken"
    person = await session.get(Person, question.person_id)
    await session.commit()
    if person is None:  # erased meanwhile: the question went with them
        return "taken"
    result = await sender.send_text(person.chat_id, reply_text(question, answer, person.language))
    status: ReplyStatus = "sent" if result.ok else "blocked" if result.blocked else "failed"
    await repo.set_reply_status(session, qid, status)
    if status == "blocked":
        await people.mark_blocked(session, person.chat_id)
    await audit(
        session,
        actor=actor,
        action="question.answered",
        detail={"question_id": qid, "via": via, "status": status, "error": result.error},
        ip=ip,
    )
    return status
