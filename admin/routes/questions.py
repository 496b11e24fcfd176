"""The questions inbox: what people asked with /ask, for the counsellors of their commune; a
reply typed here goes to the person in the bot."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import Principal
from admin.deps import Db, allowed, allowed_post, client_ip, now
from admin.scope import can, questions_filter
from admin.web import render
from bot.questions import MAX_ANSWER, check_text, deliver_reply, load_faq, overdue_before
from bot.sending import SenderProtocol
from storage import questions as repo
from storage.questions import Show

router = APIRouter(include_in_schema=False)
SHOWS: tuple[Show, ...] = ("open", "answered", "all")
# what the page says when a reply was not sent, and the status code of that page
PROBLEMS = {
    "empty": ("Write a reply first.", 400),
    "too_long": ("The reply is too long.", 400),
    "taken": ("This question was answered already.", 409),
    "no_bot": ("Replies can be sent only while the bot runs (xuatngu run).", 503),
    "failed": ("The reply could not be sent (connection problem); try again.", 502),
    "blocked": ("The person has blocked the bot: the reply did not reach them.", 200),
}


async def _page(
    request: Request,
    db: AsyncSession,
    user: Principal,
    show: str,
    overdue: bool,
    *,
    status: int = 200,
    problem: tuple[int, str, str] | None = None,
) -> Response:
    """The inbox; ``problem`` is (question id, problem key, the reply typed) after a failed send."""
    chosen: Show = next((s for s in SHOWS if s == show), "open")
    cutoff = overdue_before(now(request), request.app.state.settings.tz)
    rows = await repo.list_questions(
        db, questions_filter(user), show=chosen, overdue_before=cutoff if overdue else None
    )
    return render(
        request,
        "questions.html",
        status,
        rows=rows,
        show=chosen,
        shows=SHOWS,
        overdue=overdue,
        cutoff=cutoff,
        faq=load_faq(),
        can_reply=can(user, "questions.reply"),
        can_open_person=user.role in ("admin", "provincial", "commune"),
        bot_running=request.app.state.sender is not None,
        max_answer=MAX_ANSWER,
        problem=problem,
        problems=PROBLEMS,
    )


@router.get("/questions")
async def questions_page(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed("questions"))],
    show: str = "open",
    overdue: bool = False,
) -> Response:
    """Open questions first, oldest first; those waiting over two working days are flagged."""
    return await _page(request, db, user, show, overdue)


@router.post("/questions/{question_id}/reply")
async def reply(
    request: Request,
    db: Db,
    question_id: int,
    user: Annotated[Principal, Depends(allowed_post("questions.reply"))],
    text: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Send a reply to the person in the bot (once), then back to the inbox."""
    found = await repo.get_question(db, question_id, questions_filter(user))
    if found is None:
        raise HTTPException(status_code=404)
    question, _ = found
    answer, problem = check_text(text, MAX_ANSWER)
    sender: SenderProtocol | None = request.app.state.sender
    outcome: str | None = problem
    if outcome is None and question.answered_at is not None:
        outcome = "taken"
    if outcome is None and sender is None:
        outcome = "no_bot"
    if outcome is None and sender is not None:
        status = await deliver_reply(
            db,
            sender,
            question,
            answer,
            by=user.name,
            actor=user.actor,
            via="admin",
            ip=client_ip(request),
        )
        await db.commit()
        if status == "sent":
            return RedirectResponse(f"/questions#q{question_id}", status_code=303)
        outcome = status
    assert outcome is not None
    return await _page(
        request,
        db,
        user,
        "open",
        False,
        status=PROBLEMS[outcome][1],
        problem=(question_id, outcome, text),
    )
