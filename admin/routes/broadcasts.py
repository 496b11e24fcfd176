"""Broadcast pages: compose with a phone preview and the recipient count, a second
confirmation above 500 recipients, the live delivery report, pause/resume/cancel, failures CSV."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import Principal
from admin.broadcast_forms import (
    answer_choices,
    author_of,
    commune_choices,
    draft_from_form,
    force_choices,
    segment_fields,
)
from admin.deps import Db, allowed, allowed_post, client_ip, now
from admin.tg_preview import render as phone
from admin.web import lang_of, render
from bot.broadcasts import service
from bot.broadcasts.compose import CONFIRM_ABOVE, DraftError, Problem, needs_confirmation
from bot.broadcasts.message import STOP_LABEL
from bot.i18n import ADMIN_DOMAIN, translator
from bot.reporting import labels
from storage import outbox
from storage.audit import audit
from storage.models.outbox import OutboxMessage

router = APIRouter(include_in_schema=False)
MAX_ID = 2**31 - 1
Viewer = Annotated[Principal, Depends(allowed("broadcasts"))]
Poster = Annotated[Principal, Depends(allowed_post("broadcasts"))]
MessageId = Annotated[int, Path(ge=1, le=MAX_ID)]
ACTIONS = ("pause", "resume", "cancel", "resend_unknown", "confirm")


def _stop_labels() -> dict[str, str]:
    """The opt-out button as the phone shows it, per language."""
    return {lang: translator(lang)(STOP_LABEL) for lang in ("vi", "en")}


def _form_page(request: Request, user: Principal, status: int = 200, **ctx: Any) -> Response:
    lang = lang_of(request)
    defaults: dict[str, Any] = {
        "values": {},
        "chosen": {},
        "problems": [],
        "preview_vi": None,
        "preview_en": None,
        "count": None,
    }
    return render(
        request,
        "broadcast_new.html",
        status,
        active="broadcasts",
        communes=commune_choices(user),
        trades=labels.trades(),
        forces=force_choices(lang),
        answers=answer_choices(lang),
        confirm_above=CONFIRM_ABOVE,
        stop_labels=_stop_labels(),
        **{**defaults, **ctx},
    )


async def _visible(db: AsyncSession, user: Principal, message_id: int) -> OutboxMessage:
    message = await service.visible(db, message_id, author_of(user))
    if message is None:
        raise HTTPException(status_code=404)
    return message


@router.get("/broadcasts")
async def broadcasts_page(request: Request, db: Db, user: Viewer) -> Response:
    """The broadcasts this user may follow, newest first."""
    messages = await service.list_visible(db, author_of(user))
    return render(request, "broadcasts.html", active="broadcasts", messages=messages)


@router.get("/broadcasts/new")
async def new_page(request: Request, user: Viewer) -> Response:
    """The compose form."""
    return _form_page(request, user)


def _problem_texts(request: Request, problems: list[Problem]) -> list[str]:
    _ = translator(lang_of(request), ADMIN_DOMAIN)
    texts = []
    for text, fields in problems:  # field names ("Vietnamese text") are translated too
        named = {k: _(v) if isinstance(v, str) else v for k, v in fields.items()}
        texts.append(_(text, **named) if named else _(text))
    return texts


@router.post("/broadcasts/new")
async def compose(request: Request, db: Db, user: Poster) -> Response:
    """Preview (the phone view and the count) or send (a draft to confirm above 500)."""
    form = await request.form()
    tz = request.app.state.settings.tz
    values = {k: str(form.get(k) or "") for k in ("text_vi", "text_en", "send_at", "media_kind")}
    chosen = segment_fields(form)
    sending = form.get("action") == "send"
    try:
        draft = await draft_from_form(form, user, tz, now(request))
    except DraftError as exc:
        problems = _problem_texts(request, exc.problems)
        return _form_page(request, user, 400, values=values, chosen=chosen, problems=problems)
    author = author_of(user, client_ip(request))
    count = await service.count_recipients(db, draft.segment, author)
    if not sending or count == 0:
        problems = (
            []
            if count or not sending
            else _problem_texts(request, [("Nobody is in this segment", {})])
        )
        return _form_page(
            request,
            user,
            400 if problems else 200,
            values=values,
            chosen=chosen,
            problems=problems,
            preview_vi=phone(draft.text_vi),
            preview_en=phone(draft.text_en) if draft.text_en else None,
            media=draft.media,
            count=count,
        )
    confirmed = not needs_confirmation(count, None)
    message = await service.create(db, draft, author, now(request), count, confirmed=confirmed)
    await db.commit()
    return RedirectResponse(f"/broadcasts/{message.id}", status_code=303)


@router.post("/broadcasts/preview")
async def preview(request: Request, db: Db, user: Poster) -> JSONResponse:
    """The phone view, the count and the problems of the form as it is now (for the page's
    script: the preview follows the typing)."""
    form = await request.form()
    try:
        draft = await draft_from_form(form, user, request.app.state.settings.tz, now(request))
    except DraftError as exc:
        return JSONResponse({"problems": _problem_texts(request, exc.problems)})
    count = await service.count_recipients(db, draft.segment, author_of(user))
    return JSONResponse(
        {
            "problems": [],
            "count": count,
            "vi": str(phone(draft.text_vi)),
            "en": str(phone(draft.text_en)) if draft.text_en else "",
        }
    )


@router.get("/broadcasts/{message_id}")
async def report_page(request: Request, db: Db, user: Viewer, message_id: MessageId) -> Response:
    """The live delivery report, the controls and the failures."""
    message = await _visible(db, user, message_id)
    settings = request.app.state.settings
    report = await service.report(db, message, settings, now(request))
    failures = await outbox.failures(db, message.id, limit=100)
    return render(
        request,
        "broadcast.html",
        active="broadcasts",
        m=message,
        report=report,
        failures=failures,
        preview_vi=phone(message.text_vi),
        preview_en=phone(message.text_en) if message.text_en else None,
        confirm_above=CONFIRM_ABOVE,
        stop_labels=_stop_labels(),
    )


@router.get("/broadcasts/{message_id}/report.json")
async def report_json(
    request: Request, db: Db, user: Viewer, message_id: MessageId
) -> JSONResponse:
    """The report for the page's script (refreshed every two seconds while sending)."""
    message = await _visible(db, user, message_id)
    report = await service.report(db, message, request.app.state.settings, now(request))
    return JSONResponse(report.as_json())


@router.post("/broadcasts/{message_id}/action")
async def act(request: Request, db: Db, user: Poster, message_id: MessageId) -> Response:
    """Pause, resume, cancel, resend the unknown ones, or confirm a large broadcast."""
    form = await request.form()
    action = str(form.get("action") or "")
    if action not in ACTIONS:
        raise HTTPException(status_code=400)
    message = await _visible(db, user, message_id)
    author = author_of(user, client_ip(request))
    if action == "confirm":
        count = await service.count_recipients(db, service.segment_of(message), author)
        typed = str(form.get("count") or "")
        if not typed.isdigit() or needs_confirmation(count, int(typed)):
            await db.rollback()
            raise HTTPException(status_code=409, detail="recipient count changed; confirm again")
    await service.control(db, message, action, author, now(request))
    await db.commit()
    return RedirectResponse(f"/broadcasts/{message_id}", status_code=303)


@router.get("/broadcasts/{message_id}/failures.csv")
async def failures_csv(request: Request, db: Db, user: Viewer, message_id: MessageId) -> Response:
    """Who did not get it, and why (CSV for Excel)."""
    message = await _visible(db, user, message_id)
    body = await service.failures_csv(db, message)
    await audit(
        db,
        actor=user.actor,
        action="broadcast.failures_exported",
        detail={"id": message.id},
        ip=client_ip(request),
    )
    await db.commit()
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="broadcast-{message.id}-failures.csv"'
        },
    )
